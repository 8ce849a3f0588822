"""Validation snapshots: generated images as FITS (DN/s) and PNG panels."""
import pathlib

import numpy as np
from astropy.io import fits

from solar_euv.atomic import atomic_path
from solar_euv.passbands import get_passband
from solar_euv.scaling import disk_center_px, solar_radius_px

__all__ = ["write_snapshot", "panel_png"]


def _write_fits_atomic(path, data, header):
    with atomic_path(path) as tmp:
        fits.PrimaryHDU(data.astype(np.float32), header).writeto(tmp, overwrite=True)


def panel_png(path, magnetogram_gauss, observed, generated, passband):
    """Write ``magnetogram | observed | generated`` with the passband's sunpy colormap."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import sunpy.visualization.colormaps  # noqa: F401  (registers the sdoaia maps)
    from matplotlib.colors import LogNorm

    band = get_passband(passband)
    norm = LogNorm(vmin=band.vmin, vmax=band.vmax, clip=True)
    fig, axes = plt.subplots(1, 3, figsize=(9, 3.2), dpi=100)
    axes[0].imshow(magnetogram_gauss, cmap="gray", vmin=-1000, vmax=1000, origin="lower")
    axes[1].imshow(np.clip(observed, band.vmin, None), cmap=band.cmap, norm=norm,
                   origin="lower")
    axes[2].imshow(np.clip(generated, band.vmin, None), cmap=band.cmap, norm=norm,
                   origin="lower")
    for ax, title in zip(axes, ("HMI magnetogram", f"AIA {passband} observed",
                                f"AIA {passband} generated")):
        ax.set_title(title, fontsize=9)
        ax.set_axis_off()
    fig.tight_layout()
    try:
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format="png")
    finally:
        plt.close(fig)


def write_snapshot(directory, index, x, y, fake, passbands, scaling, step, model_name=""):
    """Write sample ``index`` of a validation batch (network units) to ``directory``.

    One FITS file per passband holds the generated image in DN/s; one PNG per
    passband shows magnetogram, observed and generated images side by side.
    """
    directory = pathlib.Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    size = fake.shape[0]
    gauss = scaling.hmi_from_network(x[..., 0])
    for c, band in enumerate(passbands):
        generated = scaling.aia_from_network(fake[..., c])
        observed = scaling.aia_from_network(y[..., c])
        header = fits.Header()
        header["TELESCOP"] = ("SDO/AIA", "generated from an HMI magnetogram")
        header["WAVELNTH"] = int(band)
        header["WAVEUNIT"] = "angstrom"
        header["BUNIT"] = "DN/s"
        header["CRPIX1"] = header["CRPIX2"] = disk_center_px(size) + 1.0
        header["R_SUN"] = (solar_radius_px(size), "solar radius in pixels of this grid")
        header["TRAINSTP"] = (int(step), "training step of the generator")
        header["MODEL"] = (str(model_name)[:60], "solar_euv run")
        header["ORIGIN"] = "solar_euv validation snapshot"
        stem = f"sample{index}_{band}"
        _write_fits_atomic(directory / f"{stem}_generated.fits", generated, header)
        panel_png(directory / f"{stem}.png", gauss, observed, generated, band)
