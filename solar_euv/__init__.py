"""solar_euv: SDO/HMI magnetograms to SDO/AIA UV and EUV images (Park et al. 2019).

Light modules (passbands, scaling, the ``sdo`` readers) import without
TensorFlow.  The Keras pieces are loaded on first use, so
``import solar_euv`` stays fast and the command line starts quickly::

    import solar_euv as s
    s.build_generator(1024).summary()

Generation speaks sunpy: a magnetogram Map (or file) in, AIA-like Maps out::

    maps = s.generate("runs/solar-euv", sunpy.map.Map("hmi.M_720s....fits"))
    maps["171"].peek()
"""
from solar_euv._version import __version__
from solar_euv.exceptions import SolarEUVError, SolarEUVWarning, InputError

# Names served lazily from solar_euv.models (which imports keras/TensorFlow).
_LAZY_MODELS = ("build_generator", "build_discriminator", "receptive_field", "Pix2Pix",
                "paper_optimizers", "build_pix2pix", "load_model")
# Names served lazily from solar_euv.maps (sunpy-native generation).
_LAZY_MAPS = ("generate",)

__all__ = ["__version__", "SolarEUVError", "SolarEUVWarning", "InputError",
           *_LAZY_MODELS, *_LAZY_MAPS]

# Subpackages that import TensorFlow, loaded on first attribute access.
_LAZY_SUBMODULES = {"models"}


def __getattr__(name):
    if name in _LAZY_SUBMODULES:
        import importlib

        return importlib.import_module(f"solar_euv.{name}")
    if name in _LAZY_MODELS:
        from solar_euv import models

        return getattr(models, name)
    if name in _LAZY_MAPS:
        from solar_euv import maps

        return getattr(maps, name)
    raise AttributeError(f"module 'solar_euv' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY_MODELS) | set(_LAZY_MAPS))
