"""A trained model file and what it was trained with (its metadata).

A trained model is a ``.keras`` file (a :class:`~solar_euv.models.Pix2Pix`
or a bare :class:`~solar_euv.models.UNetGenerator`) plus what it was trained
with: its passbands and the :class:`~solar_euv.scaling.Scaling` limits.
:func:`load_trained_model` finds them, in this order:

1. a JSON *sidecar* next to the file, ``<file>.json`` (``model.keras.json``,
   written by :func:`write_model_metadata`);
2. the ``config.json`` of the run directory holding the file
   (``RUN/model.keras``, ``RUN/checkpoints/best.keras``,
   ``RUN/backup/model.keras``);
3. passbands given by the caller (``--passbands``), with the default
   scaling and a warning; a nine-channel model is taken to be all nine
   passbands.

The metadata must agree with the network (number of output channels, grid
size); a mismatch is refused.
"""
import dataclasses
import hashlib
import json
import pathlib
import warnings

from solar_euv._version import __version__
from solar_euv.atomic import write_json_atomic
from solar_euv.exceptions import InputError, SolarEUVWarning
from solar_euv.passbands import PASSBAND_NAMES, parse_passbands
from solar_euv.scaling import Scaling

__all__ = [
    "METADATA_FORMAT",
    "TrainedModel",
    "load_trained_model",
    "model_metadata",
    "model_metadata_path",
    "write_model_metadata",
]

METADATA_FORMAT = "solar_euv-model-metadata"
_METADATA_VERSION = 1
_RUN_MODEL_FILES = ("model.keras", "checkpoints/best.keras", "backup/model.keras")


# -- the model and what it was trained with -------------------------------------

@dataclasses.dataclass
class TrainedModel:
    """A loaded model with the passbands and scaling it was trained with.

    Attributes
    ----------
    model : keras.Model
        The loaded :class:`~solar_euv.models.Pix2Pix` or generator.
    generator : keras.Model
        The U-Net (``model.generator`` for a Pix2Pix).
    passbands : tuple of str
        Output channels in order (``("171",)``).
    scaling : solar_euv.scaling.Scaling
    image_size : int
        Side of the grid the model works on.
    path : pathlib.Path or None
        The ``.keras`` file (None for a model given in memory, whose
        :attr:`sha256` is then that of its weights).
    kind : str
        ``"A"`` (L1 only) or ``"B"`` (L1 + cGAN), as the paper names them.
    metadata_source : str
        Where passbands and scaling came from (sidecar, run config, defaults).
    run_dir : pathlib.Path or None
        The run directory, when the file is part of one.
    """

    model: object
    generator: object
    passbands: tuple
    scaling: Scaling
    image_size: int
    path: pathlib.Path
    kind: str
    metadata_source: str
    run_dir: object = None

    @property
    def sha256(self):
        """SHA-256 of the ``.keras`` file (computed once)."""
        if not hasattr(self, "_sha256"):
            digest = hashlib.sha256()
            with open(self.path, "rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 22), b""):
                    digest.update(chunk)
            self._sha256 = digest.hexdigest()
        return self._sha256

    @property
    def label(self):
        """Short description: ``run/model.keras``, the file name, or the model's name."""
        if self.path is None:
            return f"in-memory {self.generator.name}"
        if self.run_dir is not None:
            return f"{self.run_dir.name}/{self.path.relative_to(self.run_dir).as_posix()}"
        return self.path.name

    def metadata(self):
        """The metadata dictionary (as :func:`model_metadata` builds it)."""
        return model_metadata(self.passbands, self.scaling, self.image_size, kind=self.kind,
                              source=self.label)


def model_metadata(passbands, scaling, image_size, *, kind=None, source=None):
    """The metadata a sidecar or an exported model carries.

    Parameters
    ----------
    passbands : sequence of str
    scaling : Scaling or dict
    image_size : int
    kind : {"A", "B"}, optional
    source : str, optional
        Where the model came from (run and file name).

    Returns
    -------
    dict
    """
    if isinstance(scaling, dict):
        scaling = Scaling.from_dict(scaling)
    return {"format": METADATA_FORMAT, "version": _METADATA_VERSION,
            "passbands": list(parse_passbands(passbands)), "image_size": int(image_size),
            "scaling": scaling.to_dict(), "model": kind, "source": source,
            "input": {"channel": "hmi", "unit": "G"},
            "output": {"unit": "DN/s"}, "solar_euv_version": __version__}


def model_metadata_path(model_path):
    """The sidecar of a ``.keras`` file: ``model.keras`` -> ``model.keras.json``."""
    model_path = pathlib.Path(model_path)
    return model_path.with_name(model_path.name + ".json")


def write_model_metadata(model_path, passbands, scaling, image_size, *, kind=None):
    """Write the JSON sidecar of ``model_path`` atomically; returns its path.

    Training calls this after saving ``model.keras`` so that the file can be
    copied elsewhere with its sidecar and still be used alone.
    """
    path = model_metadata_path(model_path)
    data = model_metadata(passbands, scaling, image_size, kind=kind,
                          source=pathlib.Path(model_path).name)
    write_json_atomic(path, data)
    return path


def _read_json(path):
    try:
        return json.loads(pathlib.Path(path).read_text())
    except ValueError:
        raise InputError(path, "is not valid JSON") from None


def _from_sidecar(path):
    data = _read_json(path)
    if not isinstance(data, dict) or data.get("format") != METADATA_FORMAT:
        raise InputError(path, f"is not a solar_euv model sidecar (no \"format\": "
                               f"\"{METADATA_FORMAT}\")")
    if data.get("version") != _METADATA_VERSION:
        raise InputError(path, f"has sidecar version {data.get('version')!r}; this "
                               f"solar_euv ({__version__}) reads version {_METADATA_VERSION}")
    try:
        return (parse_passbands(data["passbands"]), Scaling.from_dict(data["scaling"]),
                int(data["image_size"]), data.get("model"))
    except (KeyError, TypeError, ValueError) as err:
        raise InputError(path, f"is missing or has a malformed entry {err}") from None


def _run_dir_of(model_path):
    """The run directory holding ``model_path`` (``RUN/x.keras``, ``RUN/checkpoints/x.keras``)."""
    parent = model_path.parent
    if (parent / "config.json").is_file():
        return parent
    if parent.name in ("checkpoints", "backup") and (parent.parent / "config.json").is_file():
        return parent.parent
    return None


def _from_run_config(run_dir):
    path = run_dir / "config.json"
    data = _read_json(path)
    try:
        options = data["options"]
        passbands = parse_passbands(options["passbands"])
        return passbands, Scaling.from_dict(data["scaling"]), int(options["image_size"]), \
            options.get("model")
    except (KeyError, TypeError, ValueError) as err:
        raise InputError(path, f"is not the config.json of a solar-euv-train run (missing or "
                               f"malformed entry {err})") from None


def _model_file(path):
    """Resolve MODEL (a run directory or a .keras file) to ``(keras file, run dir)``."""
    path = pathlib.Path(path)
    if path.is_dir():
        for name in _RUN_MODEL_FILES:
            if (path / name).is_file():
                return path / name, (path if (path / "config.json").is_file() else None)
        raise InputError(path, "is a directory without a model (expected a solar-euv-train "
                               "run directory with model.keras or checkpoints/best.keras)")
    if not path.exists():
        raise InputError(path, "does not exist")
    return path, _run_dir_of(path.resolve())


def load_trained_model(path, *, passbands=None):
    """Load a model and what it was trained with.

    Parameters
    ----------
    path : str or os.PathLike
        A run directory of ``solar-euv-train`` (its ``model.keras``, else
        ``checkpoints/best.keras``) or a ``.keras`` file.
    passbands : sequence of str, optional
        Only for a file that has neither a sidecar nor a run directory: the
        passbands of its output channels (the scaling is then the default).

    Returns
    -------
    TrainedModel

    Raises
    ------
    InputError
        The file is missing or not a solar_euv model, or its metadata do not
        match the network.
    """
    from solar_euv.models import Pix2Pix, load_model

    model_path, run_dir = _model_file(path)
    model = load_model(model_path, compile=False)
    generator = model.generator if isinstance(model, Pix2Pix) else model
    kind = ("B" if getattr(model, "discriminator", None) is not None else "A") \
        if isinstance(model, Pix2Pix) else None
    channels = int(generator.output_shape[-1])
    size = int(generator.input_shape[1])

    sidecar = model_metadata_path(model_path)
    if sidecar.is_file():
        bands, scaling, meta_size, meta_kind = _from_sidecar(sidecar)
        source, where = f"sidecar {sidecar.name}", sidecar
    elif run_dir is not None:
        bands, scaling, meta_size, meta_kind = _from_run_config(run_dir)
        source, where = f"{run_dir.name}/config.json", run_dir / "config.json"
    else:
        if passbands:
            bands = parse_passbands(passbands)
        elif channels == len(PASSBAND_NAMES):
            bands = PASSBAND_NAMES
        else:
            raise InputError(model_path, f"has no metadata (no {sidecar.name} beside it and "
                                         "no run directory around it), so its passband is "
                                         "unknown; give it with --passbands")
        scaling, meta_size, meta_kind = Scaling(), size, None
        source, where = "defaults (no sidecar or run directory)", model_path
    if len(bands) != channels:
        raise InputError(where, f"names {len(bands)} passband(s) ({','.join(bands)}) but the "
                                f"model {model_path.name} has {channels} output channel(s)")
    if meta_size != size:
        raise InputError(where, f"says image size {meta_size} but the model "
                                f"{model_path.name} works on {size} px")
    if where == model_path:
        warnings.warn(f"{model_path}: no sidecar or run config.json; assuming passbands "
                      f"{','.join(bands)} and the default scaling {scaling.to_dict()}",
                      SolarEUVWarning, stacklevel=2)
    if kind is None and meta_kind in ("A", "B"):
        kind = meta_kind
    return TrainedModel(model=model, generator=generator, passbands=tuple(bands),
                        scaling=scaling, image_size=size, path=model_path,
                        kind=kind or "A", metadata_source=source,
                        run_dir=run_dir)
