"""
Predict nine passbands and their uncertainty
============================================

:func:`solar_euv.generate` takes a magnetogram (a FITS file or a sunpy Map)
and returns AIA-like sunpy Maps in DN/s, one per passband, with the
magnetogram's time and a helioprojective WCS.  With ``mc_samples`` the
generator runs that many times with its dropout layers active (Monte-Carlo
dropout): the maps hold the mean and ``maps.std`` the per-pixel standard
deviation.
"""
import os
import pathlib
import tempfile

import astropy.units as u
import matplotlib.pyplot as plt
from click.testing import CliRunner

import solar_euv
from solar_euv.cli.main import cli
from solar_euv.passbands import PASSBAND_NAMES
from solar_euv.training import TrainConfig, train

work = pathlib.Path(os.environ.get("SOLAR_EUV_GALLERY_DIR") or tempfile.mkdtemp())

def prepared_data(work):
    """16 synthetic time steps over 2011-2017 at 128 px, prepared into TFRecords."""
    data = work / "data"
    if not (data / "manifest.json").exists():
        for args in (["sample", "--out", str(work / "raw"), "--count", "16", "--image-size", "128",
                      "-q"],
                     ["prepare", str(work / "raw"), str(data), "--image-size", "128",
                      "--workers", "1", "-q"]):
            result = CliRunner().invoke(cli, args)
            assert result.exit_code == 0, result.output
    return data


def trained_run(work):
    """A tiny Model A of the nine passbands at 64 px (30 steps), trained once."""
    run = work / "run"
    if not (run / "model.keras").exists():
        config = TrainConfig(data=str(prepared_data(work)), passbands=PASSBAND_NAMES,
                             model="A", image_size=64, base_filters=8, batch_size=2,
                             iterations=30, validate_every=10, save_every=10,
                             val_examples=4, precision="float32", run_dir=str(run))
        train(config, verbose=0)
    return run


run = trained_run(work)
magnetogram = sorted((work / "raw").glob("hmi.M_720s.2017*.fits"))[-1]
maps = solar_euv.generate(run, magnetogram, mc_samples=8, seed=0)
print(magnetogram.name, "->", list(maps))
print(maps["171"].date.isot, maps["171"].wavelength, maps["171"].unit)

###############################################################################
# The nine passbands, each with its sunpy colormap.

fig = plt.figure(figsize=(10, 10))
for k, band in enumerate(PASSBAND_NAMES):
    ax = fig.add_subplot(3, 3, k + 1, projection=maps[band])
    maps[band].plot(axes=ax, clip_interval=(1, 99.5) * u.percent)
    ax.set_title(f"{band} Å", fontsize=9)
    ax.set_axis_off()
fig.tight_layout()
plt.show()

###############################################################################
# The uncertainty of 171 Å: the standard deviation over the eight dropout
# passes, relative to the mean.

relative = maps.std["171"].data / (maps["171"].data + 1)
fig = plt.figure(figsize=(5, 5))
ax = fig.add_subplot(projection=maps["171"])
image = ax.imshow(relative, origin="lower", vmin=0, vmax=0.5, cmap="magma")
fig.colorbar(image, ax=ax, label="std / (mean + 1 DN/s)")
ax.set_title("171 Å Monte-Carlo dropout uncertainty", fontsize=9)
plt.show()
