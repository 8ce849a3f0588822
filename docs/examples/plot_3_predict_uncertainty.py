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

import astropy.units as u
import matplotlib.pyplot as plt

import solar_euv
from solar_euv.passbands import PASSBAND_NAMES
from gallery_data import trained_run, work_dir  # docs/examples/gallery_data.py

work = work_dir()


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
