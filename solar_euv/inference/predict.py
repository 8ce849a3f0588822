"""File-level prediction: magnetogram FITS files in, AIA FITS and PNG files out.

:func:`predict_files` is what ``solar-euv predict`` runs: files in (found by
:func:`find_inputs`, read by :func:`solar_euv.sdo.magnetograms.read_magnetogram`:
HMI, or MDI and GONG made HMI-equivalent), one FITS (and PNG) per passband
out, with the headers of :func:`solar_euv.maps.generated_products` (the maps
of :func:`solar_euv.generate`) and the writers of :mod:`solar_euv.products`,
all written into a staging folder (:class:`OutputDirectory`) and moved into
place only when every input succeeded.
"""
import os
import pathlib
import shutil
import warnings

import numpy as np

from solar_euv.exceptions import InputError, SolarEUVError, SolarEUVWarning
from solar_euv.inference.generation import generate, mc_dropout_generator
from solar_euv.products import image_png, write_fits

__all__ = ["OutputDirectory", "find_inputs", "predict_files"]

_FITS_SUFFIXES = (".fits", ".fit", ".fts", ".fits.gz", ".fit.gz", ".fts.gz", ".fits.fz")


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
    trained : solar_euv.inference.trained_model.TrainedModel
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
            write_fits(out.stage(stem + ".fits"), data, header)
        if "png" not in formats:
            continue
        if not is_std:
            image_png(out.stage(stem + ".png"), data, band)
            continue
        mean = images[band, False]
        relative = np.divide(data, mean, out=np.zeros_like(mean), where=mean > 0)
        image_png(out.stage(stem + ".png"), relative, band, kind="relative")
