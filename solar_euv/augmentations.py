"""The names of the training augmentations besides the paper's shake.

Here, apart from TensorFlow, so that the training configuration
(:mod:`solar_euv.training.config`, ``solar-euv-train --augment``) checks them
without importing it; the input pipeline applies them
(:func:`solar_euv.dataset.pipeline.augment_images`,
``make_dataset(augment=...)``).
"""
__all__ = ["AUGMENTATIONS"]

#: Extra augmentations of training pairs:
#: ``"flips"``: one of the eight quarter turns and mirror images of the pair
#: (the disk and its centre-to-limb variation are symmetric under each);
#: ``"sign"``: the magnetogram's sign reversed (an EUV image does not depend on
#: which polarity is which).
AUGMENTATIONS = ("flips", "sign")
