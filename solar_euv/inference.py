"""Use a trained model: magnetogram FITS -> generated AIA FITS and PNG.

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

Prediction (:func:`generate`) prepares nothing itself: it takes magnetograms
on the common grid in Gauss (from :func:`solar_euv.sdo.prep.prepare_hmi`),
converts them to network units exactly as training did (clip at
``+-hmi_limit``, off-disk pixels beyond ``mask_radius * R`` set to ``hmi_off_disk``),
runs keras ``Model.predict`` in batches and converts the result back to DN/s,
setting off-disk pixels beyond ``mask_radius * R`` to 0 DN/s (the network was
trained to produce nothing there).  With ``mc_samples=K`` the generator runs
``K`` times with its dropout layers active and BatchNorm in inference mode
(Monte-Carlo dropout, pix2pix's noise source); the mean and the per-pixel
standard deviation of the ``K`` images in DN/s are returned.

:func:`predict_files` is what ``solar-euv predict`` runs: files in (read by
:func:`solar_euv.sdo.magnetograms.read_magnetogram`: HMI, or MDI and GONG
made HMI-equivalent), one FITS (and PNG) per passband out, with the headers
of :func:`solar_euv.maps.generated_products` (the maps of
:func:`solar_euv.generate`), all written into a staging folder and moved into
place only when every input succeeded.
"""
import dataclasses
import datetime
import hashlib
import json
import os
import pathlib
import shutil
import warnings

import numpy as np

from solar_euv._version import __version__
from solar_euv.atomic import atomic_path, write_json_atomic
from solar_euv.exceptions import InputError, SolarEUVError, SolarEUVWarning
from solar_euv.passbands import PASSBAND_NAMES, get_passband, parse_passbands
from solar_euv.scaling import Scaling, disk_mask

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
    "output_header",
    "image_png",
    "predict_files",
]

METADATA_FORMAT = "solar_euv-model-metadata"
_METADATA_VERSION = 1
_FITS_SUFFIXES = (".fits", ".fit", ".fts", ".fits.gz", ".fit.gz", ".fts.gz", ".fits.fz")
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
    trained : TrainedModel
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


# -- files ------------------------------------------------------------------------

def _is_fits_name(path):
    name = path.name.lower()
    return any(name.endswith(s) for s in _FITS_SUFFIXES)


def find_inputs(paths):
    """Expand files and directories (their FITS files, not recursive) into a file list.

    Raises
    ------
    InputError
        A path does not exist, or a directory holds no FITS file.
    """
    files = []
    for p in paths:
        p = pathlib.Path(p)
        if p.is_dir():
            found = sorted(f for f in p.iterdir() if f.is_file() and _is_fits_name(f))
            if not found:
                raise InputError(p, "holds no FITS file (*.fits, *.fts, *.fit, *.fits.gz)")
            files.extend(found)
        elif p.exists():
            files.append(p)
        else:
            raise InputError(p, "does not exist")
    if not files:
        raise SolarEUVError("no input file given")
    return files


class OutputDirectory:
    """Write into ``out_dir`` all at once: files go to a staging folder first.

    ``out_dir`` may be missing or empty; one with other content is refused
    unless ``overwrite`` (files of the same names are then replaced, others
    kept).  :meth:`commit` moves the staged files into place; :meth:`abort`
    (or leaving a ``with`` block by an exception) removes them, and removes
    ``out_dir`` too if it was created here and is empty.

    Parameters
    ----------
    out_dir : str or os.PathLike
    overwrite : bool
    """

    def __init__(self, out_dir, overwrite=False):
        self.path = pathlib.Path(out_dir)
        if self.path.exists() and not self.path.is_dir():
            raise InputError(self.path, "exists and is not a directory")
        if self.path.is_dir() and not overwrite:
            other = [p.name for p in self.path.iterdir() if not p.name.startswith(".partial-")]
            if other:
                raise InputError(self.path, f"exists and is not empty ({len(other)} "
                                            "entries); choose another --out or pass "
                                            "--overwrite")
        self._created = not self.path.exists()
        self.path.mkdir(parents=True, exist_ok=True)
        self.staging = self.path / f".partial-{os.getpid()}"
        if self.staging.exists():
            shutil.rmtree(self.staging)
        self.staging.mkdir()
        self.names = []

    def stage(self, name):
        """Path to write the file ``name`` to (inside the staging folder)."""
        if name in self.names:
            raise SolarEUVError(f"two outputs are both named {name}")
        self.names.append(name)
        return self.staging / name

    def commit(self):
        """Move every staged file into the output directory; returns their paths."""
        out = []
        for name in self.names:
            target = self.path / name
            if target.is_dir():
                shutil.rmtree(target)
            os.replace(self.staging / name, target)
            out.append(target)
        shutil.rmtree(self.staging, ignore_errors=True)
        return out

    def abort(self):
        """Remove the staged files (and the output directory if created here and empty)."""
        shutil.rmtree(self.staging, ignore_errors=True)
        if self._created and self.path.is_dir() and not any(self.path.iterdir()):
            self.path.rmdir()

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None:
            self.abort()
        return False


def _time_tag(time):
    return time.utc.strftime("%Y-%m-%dT%H%M%SZ")


def output_header(trained, time, passband, *, source, product="generated", samples=0,
                  source_header=None, input_cards=None):
    """FITS header of one generated image: an AIA-like map on the common grid.

    Parameters
    ----------
    trained : TrainedModel
    time : astropy.time.Time
        Observation time of the magnetogram (becomes ``T_OBS``/``DATE-OBS``).
    passband : str
    source : str or os.PathLike
        The magnetogram file.
    product : {"generated", "mean", "std", "sample"}
    samples : int
        Monte-Carlo dropout samples (0: deterministic).
    source_header : dict-like, optional
        The magnetogram's header (``T_REC``, ``QUALITY`` are copied).
    input_cards : dict, optional
        Cards describing the input instrument and its cross-calibration
        (:func:`solar_euv.sdo.magnetograms.header_cards`).

    Returns
    -------
    astropy.io.fits.Header
    """
    from solar_euv.sdo.grid import common_grid_header

    band = get_passband(passband)
    source = pathlib.Path(source)
    s = trained.scaling
    extra = {
        "ORIGIN": ("solar_euv", "generated from a magnetogram, not observed"),
        "CREATOR": (f"solar_euv {__version__}", "software that made this file"),
        "DATE": (datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S"),
                 "file creation time (UTC)"),
        "GENERATD": (True, "image generated by a neural network"),
        "PRODUCT": (product, "generated, mean or std of MC-dropout samples"),
        "MODEL": (trained.label[-68:], "solar_euv model (run/file)"),
        "MODELSHA": (trained.sha256[:16], "SHA-256 of the .keras file (first 16 hex)"),
        "MODELTYP": (trained.kind, "Park et al. 2019 model: A (L1) or B (L1+cGAN)"),
        "SOURCE": (source.name[-68:], "magnetogram this image was generated from"),
        "HMILIMIT": (s.hmi_limit, "[G] magnetogram clip level of the network input"),
        "AIALOGMX": (s.aia_log_max, "log2 of the largest AIA value + 1 (network +1)"),
        "MASKRAD": (s.mask_radius if s.mask_off_disk else 0.0,
                    "[R_sun] beyond this, input HMIOFFDK, output 0"),
        "HMIOFFDK": (s.hmi_off_disk, "network value of off-disk magnetogram pixels"),
        "MCSAMPLE": (int(samples), "MC-dropout samples (0: dropout off)"),
        "EXPTIME": (1.0, "[s] data are DN/s"),
    }
    if source_header is not None:
        for key, comment in (("T_REC", "T_REC of the source magnetogram"),
                             ("QUALITY", "QUALITY of the source magnetogram")):
            if source_header.get(key.lower()) is not None:
                extra[f"SRC{key[:5].replace('_', '')}"] = (source_header[key.lower()], comment)
    extra.update(input_cards or {})
    for key, (value, comment) in list(extra.items()):
        if isinstance(value, str) and len(value) + len(comment) > 62:
            extra[key] = value           # a long value keeps its card without the comment
    header = common_grid_header(trained.image_size, time, instrument="AIA",
                                passband=band.name, unit="DN/s", extra=extra)
    header["HISTORY"] = f"solar_euv predict: model {trained.path or trained.label}"
    header["HISTORY"] = f"solar_euv predict: input {source}"
    return header


def image_png(path, data, passband, *, kind="image"):
    """Write a ``(N, N)`` image as a PNG of ``N x N`` pixels, north up.

    ``kind="image"``: DN/s with the passband's sunpy colormap and its log
    display range (:mod:`solar_euv.passbands`).  ``kind="relative"``: a
    relative uncertainty (std / mean) on 0..0.5 with the viridis colormap.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import sunpy.visualization.colormaps  # noqa: F401  (registers the sdoaia maps)
    from matplotlib.colors import LogNorm, Normalize

    band = get_passband(passband)
    data = np.nan_to_num(np.asarray(data, dtype=np.float64))
    if kind == "image":
        norm, cmap = LogNorm(vmin=band.vmin, vmax=band.vmax, clip=True), band.cmap
        data = np.clip(data, band.vmin, None)
    else:
        norm, cmap = Normalize(0.0, 0.5, clip=True), "viridis"
    rgba = matplotlib.colormaps[cmap](norm(data))
    with atomic_path(path) as tmp:
        plt.imsave(tmp, rgba, origin="lower", format="png")


def _write_fits(path, data, header):
    from astropy.io import fits

    with atomic_path(path) as tmp:
        fits.PrimaryHDU(np.asarray(data, dtype=np.float32), header).writeto(tmp,
                                                                            overwrite=True)


def predict_files(trained, inputs, out_dir, *, formats=("fits", "png"), batch_size=1,
                  mc_samples=0, seed=None, overwrite=False, on_error="stop", echo=None):
    """Generate AIA images from magnetogram files; ``solar-euv predict``.

    For each magnetogram and passband ``B`` this writes
    ``aia_generated.<time>.<B>.fits`` (DN/s; with ``mc_samples >= 2`` the
    mean, and ``...<B>.std.fits`` the standard deviation) and the matching
    ``.png``.  ``<time>`` is the magnetogram's ``T_OBS`` in UTC
    (``2017-01-01T000000Z``).  Nothing appears in ``out_dir`` unless every
    input succeeded (with ``on_error="skip"``, unless at least one did).

    Parameters
    ----------
    trained : TrainedModel
    inputs : sequence of str or os.PathLike
        Magnetogram files or directories of them.
    out_dir : str or os.PathLike
    formats : sequence of {"fits", "png"}
    batch_size : int
    mc_samples : int
        See :func:`generate`.
    seed : int, optional
    overwrite : bool
        Allow a non-empty ``out_dir``.
    on_error : {"stop", "skip"}
        Stop at the first unusable input (default) or skip it with a warning.
    echo : callable, optional
        Prints one progress line per batch.

    Returns
    -------
    list of pathlib.Path
        The files written.
    """
    formats = tuple(f.strip().lower() for f in formats)
    unknown = [f for f in formats if f not in ("fits", "png")]
    if unknown or not formats:
        raise SolarEUVError(f"unknown output format(s) {', '.join(unknown) or '(none)'}; "
                            "choose fits, png or both")
    if on_error not in ("stop", "skip"):
        raise SolarEUVError(f"on_error must be 'stop' or 'skip'; received {on_error!r}")
    if batch_size < 1:
        raise SolarEUVError(f"--batch-size must be at least 1; received {batch_size}")
    from solar_euv.sdo.magnetograms import read_magnetogram

    files = find_inputs(inputs)
    echo = echo or (lambda line: None)
    mc_model = mc_dropout_generator(trained.generator, seed) if mc_samples > 0 else None
    chunk = max(batch_size, 8)
    seen = {}
    skipped = 0
    with OutputDirectory(out_dir, overwrite) as out:
        for start in range(0, len(files), chunk):
            batch = []
            for path in files[start:start + chunk]:
                try:
                    magnetogram = read_magnetogram(path, trained.image_size)
                except InputError as err:
                    if on_error == "stop":
                        raise
                    warnings.warn(f"skipped {err}", SolarEUVWarning, stacklevel=2)
                    skipped += 1
                    continue
                tag = _time_tag(magnetogram.time)
                if tag in seen:
                    raise InputError(path, f"has the same observation time ({tag}) as "
                                           f"{seen[tag]}; give each time once")
                seen[tag] = path
                batch.append((magnetogram, tag))
            if not batch:
                continue
            result = generate(trained, np.stack([b[0].gauss for b in batch]),
                              batch_size=batch_size, mc_samples=mc_samples, seed=seed,
                              mc_model=mc_model)
            for i, (magnetogram, tag) in enumerate(batch):
                _write_outputs(out, trained, result, i, magnetogram, tag, formats)
            echo(f"{min(start + chunk, len(files))}/{len(files)} files read, "
                 f"{len(seen)} magnetograms generated")
        if not seen:
            raise SolarEUVError(f"none of the {len(files)} input files could be used")
        written = out.commit()
    if skipped:
        echo(f"skipped {skipped} unusable file(s)")
    return written


def _write_outputs(out, trained, result, i, magnetogram, tag, formats):
    """Write the FITS and PNG files of one magnetogram (the maps of :func:`solar_euv.generate`)."""
    from solar_euv.maps import generated_products

    images = {}
    for band, is_std, data, header in generated_products(trained, result, i, magnetogram):
        stem = f"aia_generated.{tag}.{band}" + (".std" if is_std else "")
        images[band, is_std] = data
        if "fits" in formats:
            _write_fits(out.stage(stem + ".fits"), data, header)
        if "png" not in formats:
            continue
        if not is_std:
            image_png(out.stage(stem + ".png"), data, band)
            continue
        mean = images[band, False]
        relative = np.divide(data, mean, out=np.zeros_like(mean), where=mean > 0)
        image_png(out.stage(stem + ".png"), relative, band, kind="relative")
