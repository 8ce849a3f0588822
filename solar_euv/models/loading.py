"""Loading saved solar_euv models safely."""
import pathlib
import zipfile

import keras

from solar_euv.exceptions import InputError

__all__ = ["load_model"]


def _first_sentence(text, limit=200):
    """The first sentence of ``text`` on one line (cut with "..." beyond ``limit``)."""
    line = " ".join(text.split())
    sentence = line.split(". ")[0]
    if len(sentence) > limit:
        return sentence[:limit - 3] + "..."
    return sentence if sentence.endswith(".") or not sentence else sentence + "."


def load_model(path, *, compile=True):
    """Load a ``.keras`` file written by solar_euv, in Keras safe mode.

    Importing this module registers the package's classes, so
    ``keras.models.load_model`` can find them; safe mode refuses files that
    carry Python code (a ``Lambda`` layer, for example).

    Parameters
    ----------
    path : str or os.PathLike
        A ``.keras`` file (``model.keras``, a checkpoint, or a backup).
    compile : bool
        Restore the optimizers and loss weights too (needed to train further).

    Returns
    -------
    solar_euv.models.Pix2Pix or keras.Model
        A :class:`~solar_euv.models.Pix2Pix`, or a bare generator.

    Raises
    ------
    InputError
        If the file is missing, is not a Keras archive, carries code, or holds
        a model that is not a solar_euv model.
    """
    from solar_euv.models.pix2pix import Pix2Pix
    from solar_euv.models.unet_generator import UNetGenerator

    path = pathlib.Path(path)
    if not path.is_file():
        raise InputError(path, "does not exist")
    if not zipfile.is_zipfile(path):
        raise InputError(path, "is not a Keras .keras archive")
    try:
        model = keras.models.load_model(path, compile=compile, safe_mode=True)
    except Exception as err:  # Keras raises many types for bad archives
        first = _first_sentence(str(err))
        raise InputError(path, f"could not be loaded as a solar_euv model "
                               f"({err.__class__.__name__}: {first})") from None
    if not isinstance(model, (Pix2Pix, UNetGenerator)):
        raise InputError(path, f"holds a {type(model).__name__}, not a solar_euv model "
                               "(Pix2Pix or UNetGenerator)")
    return model
