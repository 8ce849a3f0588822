"""Generation: magnetograms in Gauss -> AIA images in DN/s, with Monte-Carlo dropout.

:func:`generate` prepares nothing itself: it takes magnetograms on the
common grid in Gauss (from :func:`solar_euv.sdo.prep.prepare_hmi`), converts
them to network units exactly as training did (clip at ``+-hmi_limit``,
off-disk pixels beyond ``mask_radius * R`` set to ``hmi_off_disk``), runs
keras ``Model.predict`` in batches and converts the result back to DN/s,
setting off-disk pixels beyond ``mask_radius * R`` to 0 DN/s (the network
was trained to produce nothing there).  With ``mc_samples=K`` the generator
runs ``K`` times with its dropout layers active and BatchNorm in inference
mode (Monte-Carlo dropout, pix2pix's noise source); the mean and the
per-pixel standard deviation of the ``K`` images in DN/s are returned.
"""
import dataclasses

import numpy as np

from solar_euv.exceptions import SolarEUVError
from solar_euv.scaling import disk_mask

__all__ = [
    "GeneratedImages",
    "network_input",
    "physical_output",
    "mc_dropout_generator",
    "generate",
]


# -- units ------------------------------------------------------------------------

def network_input(gauss, scaling):
    """Magnetograms in Gauss ``(B, N, N)`` -> network input ``(B, N, N, 1)``.

    Clipped at ``+-hmi_limit`` and scaled to [-1, 1]; with masking, pixels
    beyond ``mask_radius * R`` are ``hmi_off_disk`` (as in training).
    """
    x = scaling.hmi_network_input(gauss)
    if x.ndim == 2:
        x = x[None]
    return x[..., None]


def physical_output(y, scaling):
    """Network output ``(..., N, N, C)`` -> DN/s, 0 beyond ``mask_radius * R`` (masking)."""
    dn = scaling.aia_from_network(y)
    if scaling.mask_off_disk:
        outside = ~disk_mask(dn.shape[-2], scaling.mask_radius)
        dn[..., outside, :] = 0.0
    return dn


# -- Monte-Carlo dropout ----------------------------------------------------------

def mc_dropout_generator(generator, seed=None):
    """A functional copy of ``generator`` whose dropout stays active at inference.

    The copy shares every weight with ``generator`` (the layers are reused);
    only its Dropout layers are replaced by ones that always drop.  BatchNorm
    keeps using its moving statistics, since ``predict`` calls the model with
    ``training=False`` and only the dropout layers ignore that flag.

    Parameters
    ----------
    generator : keras.Model
        A functional U-Net (:class:`~solar_euv.models.UNetGenerator`).
    seed : int, optional
        Seed of the dropout masks (each dropout layer gets ``seed + k``).

    Returns
    -------
    keras.Model
    """
    import keras

    class _AlwaysDropout(keras.layers.Dropout):
        def call(self, inputs, training=None):
            return super().call(inputs, training=True)

    count = [0]

    def clone(layer):
        if isinstance(layer, keras.layers.Dropout):
            count[0] += 1
            layer_seed = None if seed is None else int(seed) + count[0]
            return _AlwaysDropout(layer.rate, noise_shape=layer.noise_shape,
                                  seed=layer_seed, name=layer.name)
        return layer

    model = keras.models.clone_model(generator, clone_function=clone)
    if count[0] == 0:
        raise SolarEUVError(f"the generator {generator.name} has no dropout layer "
                            "(dropout_rate=0), so --mc-samples has no noise to sample")
    return model


@dataclasses.dataclass
class GeneratedImages:
    """Generated images in DN/s.

    Attributes
    ----------
    data : numpy.ndarray
        ``float32 (B, N, N, C)``: the image (or, with Monte-Carlo dropout,
        the mean of the samples).
    std : numpy.ndarray or None
        ``float32 (B, N, N, C)`` per-pixel standard deviation of the samples
        (``ddof=1``); None without Monte-Carlo dropout or with one sample.
    samples : int
        Number of dropout samples (0: deterministic, dropout off).
    """

    data: np.ndarray
    std: object = None
    samples: int = 0


def generate(trained, gauss, *, batch_size=1, mc_samples=0, seed=None, mc_model=None):
    """Generate AIA images in DN/s from magnetograms in Gauss on the model's grid.

    Parameters
    ----------
    trained : solar_euv.inference.trained_model.TrainedModel
    gauss : array_like
        ``(B, N, N)`` or ``(N, N)`` magnetograms in Gauss (0 off the disk).
    batch_size : int
        Batch size of ``Model.predict``.
    mc_samples : int
        0: one deterministic pass (dropout off).  ``K >= 1``: ``K`` passes
        with dropout on; the mean and (for ``K >= 2``) the standard deviation.
    seed : int, optional
        Seed of the dropout masks.
    mc_model : keras.Model, optional
        A model from :func:`mc_dropout_generator` to reuse across calls.

    Returns
    -------
    GeneratedImages
    """
    gauss = np.asarray(gauss, dtype=np.float32)
    if gauss.ndim == 2:
        gauss = gauss[None]
    n = trained.image_size
    if gauss.ndim != 3 or gauss.shape[1:] != (n, n):
        raise SolarEUVError(f"magnetograms must be ({n}, {n}) on the model's grid; "
                            f"received shape {gauss.shape}")
    if mc_samples < 0:
        raise SolarEUVError(f"mc_samples must be 0 (off) or a number of samples; "
                            f"received {mc_samples}")
    x = network_input(gauss, trained.scaling)
    if mc_samples == 0:
        y = trained.generator.predict(x, batch_size=batch_size, verbose=0)
        return GeneratedImages(physical_output(y, trained.scaling))
    model = mc_model if mc_model is not None else mc_dropout_generator(trained.generator, seed)
    mean = m2 = None
    for k in range(1, mc_samples + 1):
        sample = physical_output(model.predict(x, batch_size=batch_size, verbose=0),
                                 trained.scaling).astype(np.float64)
        if mean is None:
            mean, m2 = sample, np.zeros_like(sample)
            continue
        delta = sample - mean                  # Welford: stable running mean and variance
        mean += delta / k
        m2 += delta * (sample - mean)
    std = np.sqrt(m2 / (mc_samples - 1)).astype(np.float32) if mc_samples > 1 else None
    return GeneratedImages(mean.astype(np.float32), std, mc_samples)
