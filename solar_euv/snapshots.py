"""Validation snapshots: generated images as FITS (DN/s) and PNG panels.

The files are written by :mod:`solar_euv.products` (headers, FITS and PNG
writers shared with ``solar-euv predict`` and ``solar-euv evaluate``).
"""
import pathlib

from solar_euv.products import comparison_png, snapshot_header, write_fits

__all__ = ["write_snapshot"]


def write_snapshot(directory, index, x, y, fake, passbands, scaling, step, model_name=""):
    """Write sample ``index`` of a validation batch (network units) to ``directory``.

    One FITS file per passband holds the generated image in DN/s; one PNG per
    passband shows magnetogram, observed and generated images side by side
    (:func:`solar_euv.products.comparison_png` without the difference panel).
    """
    directory = pathlib.Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    size = fake.shape[0]
    gauss = scaling.hmi_from_network(x[..., 0])
    for c, band in enumerate(passbands):
        generated = scaling.aia_from_network(fake[..., c])
        observed = scaling.aia_from_network(y[..., c])
        header = snapshot_header(size, band, step, model_name)
        stem = f"sample{index}_{band}"
        write_fits(directory / f"{stem}_generated.fits", generated, header)
        comparison_png(directory / f"{stem}.png", gauss, observed[..., None],
                       generated[..., None], [band], difference=False)
