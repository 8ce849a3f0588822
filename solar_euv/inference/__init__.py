"""Use a trained model: magnetograms in Gauss -> AIA images in DN/s, and files.

One job per module:

:mod:`solar_euv.inference.trained_model`
    The ``.keras`` file and what it was trained with (passbands, scaling,
    grid): :func:`load_trained_model`, the JSON sidecar
    (:func:`write_model_metadata`).
:mod:`solar_euv.inference.generation`
    Network units in and out, ``Model.predict`` in batches and Monte-Carlo
    dropout: :func:`generate`, :func:`mc_dropout_generator`.
:mod:`solar_euv.inference.predict`
    Files in, files out (``solar-euv predict``): :func:`predict_files`.

The FITS headers and the FITS and PNG writers are :mod:`solar_euv.products`;
the sunpy-native interface (``solar_euv.generate``) is :mod:`solar_euv.maps`.
This package's public names are importable from it directly::

    from solar_euv.inference import generate, load_trained_model
"""
from solar_euv.inference.generation import (GeneratedImages, generate, mc_dropout_generator,
                                            network_input, physical_output)
from solar_euv.inference.predict import OutputDirectory, find_inputs, predict_files
from solar_euv.inference.trained_model import (METADATA_FORMAT, TrainedModel,
                                               load_trained_model, model_metadata,
                                               model_metadata_path, write_model_metadata)

__all__ = [
    "METADATA_FORMAT",
    "TrainedModel",
    "GeneratedImages",
    "OutputDirectory",
    "load_trained_model",
    "model_metadata",
    "model_metadata_path",
    "write_model_metadata",
    "network_input",
    "physical_output",
    "mc_dropout_generator",
    "generate",
    "find_inputs",
    "predict_files",
]
