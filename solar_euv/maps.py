"""sunpy-native generation: magnetogram Maps (or files) in, AIA-like Maps out.

:func:`generate` is exposed as ``solar_euv.generate``::

    import sunpy.map
    import solar_euv

    hmi = sunpy.map.Map("hmi.M_720s.20170801_120000_TAI.1.magnetogram.fits")
    maps = solar_euv.generate("runs/solar-euv", hmi)
    maps["171"].peek()                      # an AIAMap, sdoaia171 colormap, DN/s

Every map carries the header that ``solar-euv predict`` writes into its FITS
files (:func:`solar_euv.products.output_header`: common-grid WCS, the
magnetogram's time, DN/s, the model and the input instrument with its
cross-calibration), because predict builds its files from the same
:func:`generated_products`.
"""
import hashlib
import os
import warnings

import numpy as np

from solar_euv.exceptions import SolarEUVError, SolarEUVWarning
from solar_euv.passbands import PASSBAND_NAMES, get_passband, parse_passbands

__all__ = ["GeneratedMaps", "as_trained_model", "generate", "generated_products"]


class GeneratedMaps(dict):
    """Generated maps of one magnetogram: a dict passband -> ``sunpy`` Map.

    Attributes
    ----------
    std : dict
        Passband -> Map of the per-pixel standard deviation of the
        Monte-Carlo dropout samples (DN/s); empty unless ``mc_samples >= 2``.
    samples : int
        Monte-Carlo dropout samples (0: dropout off).
    source : str
        The magnetogram (file or map name) the maps were generated from.
    instrument : str
        Its instrument (``"hmi"``, ``"mdi"``, ``"gong"``).
    """

    def __init__(self, maps, std=None, *, samples=0, source="", instrument="hmi"):
        super().__init__(maps)
        self.std = dict(std or {})
        self.samples = int(samples)
        self.source = source
        self.instrument = instrument

    def sequence(self, std=False):
        """The maps (or the uncertainty maps) as a :class:`sunpy.map.MapSequence`."""
        import sunpy.map

        maps = self.std if std else self
        if not maps:
            raise SolarEUVError("no uncertainty maps: generate with mc_samples of 2 or more")
        return sunpy.map.MapSequence(list(maps.values()))


def _in_memory_sha256(generator):
    digest = hashlib.sha256()
    for weight in generator.weights:
        digest.update(np.asarray(weight.numpy() if hasattr(weight, "numpy") else weight)
                      .tobytes())
    return digest.hexdigest()


def as_trained_model(model, *, passbands=None):
    """A :class:`~solar_euv.inference.trained_model.TrainedModel` from what a user may hold.

    Parameters
    ----------
    model : str, os.PathLike, TrainedModel or keras.Model
        A run directory or ``.keras`` file (:func:`load_trained_model`), a
        loaded :class:`TrainedModel`, or a loaded Pix2Pix / generator.
    passbands : sequence of str, optional
        For a file without metadata or a loaded keras model whose output is
        not all nine passbands: its passbands in channel order.  A loaded
        keras model is used with the default scaling (warned).

    Returns
    -------
    TrainedModel
    """
    from solar_euv.inference.trained_model import TrainedModel, load_trained_model

    if isinstance(model, TrainedModel):
        return model
    if isinstance(model, (str, os.PathLike)):
        return load_trained_model(model, passbands=passbands)
    if not hasattr(model, "predict"):
        raise SolarEUVError("model must be a run directory, a .keras file or a loaded "
                            f"model; received {type(model).__name__}")
    from solar_euv.scaling import DEFAULT_SCALING

    generator = getattr(model, "generator", None) or model
    channels = int(generator.output_shape[-1])
    if passbands:
        bands = parse_passbands(passbands)
    elif channels == len(PASSBAND_NAMES):
        bands = PASSBAND_NAMES
    else:
        raise SolarEUVError(f"the loaded model {generator.name} has {channels} output "
                            "channel(s); name its passbands with passbands=")
    if len(bands) != channels:
        raise SolarEUVError(f"passbands {','.join(bands)} are {len(bands)} but the model "
                            f"has {channels} output channel(s)")
    warnings.warn(f"in-memory model {generator.name}: assuming the default scaling "
                  f"{DEFAULT_SCALING.to_dict()}; load the run directory or .keras file "
                  "to use the scaling it was trained with", SolarEUVWarning, stacklevel=3)
    kind = "A"
    if getattr(model, "generator", None) is not None:
        kind = "B" if getattr(model, "discriminator", None) is not None else "A"
    trained = TrainedModel(model=model, generator=generator, passbands=tuple(bands),
                           scaling=DEFAULT_SCALING, image_size=int(generator.input_shape[1]),
                           path=None, kind=kind, metadata_source="in-memory model (defaults)")
    trained._sha256 = _in_memory_sha256(generator)
    return trained


def _product_name(samples):
    return ("mean" if samples > 1 else "sample") if samples else "generated"


def generated_products(trained, result, index, magnetogram):
    """Data and FITS header of every image generated from one magnetogram.

    Parameters
    ----------
    trained : TrainedModel
    result : solar_euv.inference.generation.GeneratedImages
    index : int
        Position of the magnetogram in the batch ``result`` holds.
    magnetogram : solar_euv.sdo.magnetograms.Magnetogram

    Yields
    ------
    passband : str
    is_std : bool
        True for the standard deviation of the Monte-Carlo samples.
    data : numpy.ndarray
        ``float32 (N, N)`` in DN/s.
    header : astropy.io.fits.Header
    """
    from solar_euv.products import output_header
    from solar_euv.sdo.magnetograms import header_cards

    cards = header_cards(magnetogram)
    product = _product_name(result.samples)
    for c, band in enumerate(trained.passbands):
        for is_std, data in ((False, result.data), (True, result.std)):
            if data is None:
                continue
            header = output_header(trained, magnetogram.time, band, source=magnetogram.source,
                                   product="std" if is_std else product,
                                   samples=result.samples, source_header=magnetogram.meta,
                                   input_cards=cards)
            yield band, is_std, data[index, ..., c], header


def _as_map(data, header):
    import sunpy.map

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        smap = sunpy.map.Map(np.asarray(data, dtype=np.float32), header)
    band = get_passband(header["WAVELNTH"])
    smap.plot_settings["cmap"] = band.cmap
    return smap


def _inputs(magnetogram):
    if isinstance(magnetogram, (list, tuple)):
        return list(magnetogram), True
    return [magnetogram], False


def generate(model, magnetogram, *, mc_samples=0, seed=None, batch_size=1, passbands=None):
    """Generate AIA-like Maps (DN/s) from line-of-sight magnetograms.

    Parameters
    ----------
    model : str, os.PathLike, TrainedModel or keras.Model
        A ``solar-euv-train`` run directory, a ``.keras`` file, or a loaded
        model (see :func:`as_trained_model`).
    magnetogram : str, os.PathLike, sunpy.map.GenericMap or list of them
        Full-disk line-of-sight magnetograms: files or Maps (an ``HMIMap``
        or another instrument listed in
        :data:`solar_euv.sdo.magnetograms.CROSS_CALIBRATION`).
    mc_samples : int
        0: one deterministic pass.  ``K >= 1``: ``K`` passes with dropout on;
        the maps are the mean, and for ``K >= 2`` :attr:`GeneratedMaps.std`
        holds the standard deviation maps.
    seed : int, optional
        Seed of the dropout masks.
    batch_size : int
        Magnetograms per ``Model.predict`` batch.
    passbands : sequence of str, optional
        Only for a model without metadata (see :func:`as_trained_model`).

    Returns
    -------
    GeneratedMaps or list of GeneratedMaps
        One per magnetogram (a list when ``magnetogram`` is a list): a dict
        passband -> Map on the common grid with the magnetogram's time,
        ``BUNIT = DN/s`` and the provenance of ``solar-euv predict``'s FITS
        files; the maps plot with the sdoaia colormaps.

    Raises
    ------
    solar_euv.exceptions.InputError
        A magnetogram is unusable (one sentence naming it).

    Examples
    --------
    >>> maps = solar_euv.generate("runs/solar-euv", hmi_map, mc_samples=8)  # doctest: +SKIP
    >>> maps["171"].plot(); maps.std["171"].plot()                           # doctest: +SKIP
    """
    from solar_euv.inference.generation import generate as generate_images
    from solar_euv.inference.generation import mc_dropout_generator
    from solar_euv.sdo.magnetograms import read_magnetogram

    if mc_samples < 0:
        raise SolarEUVError(f"mc_samples must be 0 (off) or a number of samples; "
                            f"received {mc_samples}")
    trained = as_trained_model(model, passbands=passbands)
    items, many = _inputs(magnetogram)
    if not items:
        raise SolarEUVError("no magnetogram given")
    mags = [read_magnetogram(item, trained.image_size) for item in items]
    mc_model = mc_dropout_generator(trained.generator, seed) if mc_samples > 0 else None
    result = generate_images(trained, np.stack([m.gauss for m in mags]),
                             batch_size=batch_size, mc_samples=mc_samples, seed=seed,
                             mc_model=mc_model)
    out = []
    for i, mag in enumerate(mags):
        maps, std = {}, {}
        for band, is_std, data, header in generated_products(trained, result, i, mag):
            (std if is_std else maps)[band] = _as_map(data, header)
        out.append(GeneratedMaps(maps, std, samples=result.samples, source=mag.source,
                                 instrument=mag.instrument))
    return out if many else out[0]
