"""
The synthetic Sun beside real AIA
=================================

``solar-euv sample`` writes SDO-like level-1 FITS files (an HMI magnetogram
and one AIA image per passband) from a seeded synthetic Sun, with no network.
sunpy reads them as ``HMIMap`` and ``AIAMap``.  Here one synthetic time step
is shown beside a real AIA 171 Å image.
"""
import os
import pathlib
import tempfile

import astropy.units as u
import matplotlib.pyplot as plt
from matplotlib.colors import Normalize
import sunpy.map
from click.testing import CliRunner

from solar_euv.cli.main import cli

work = pathlib.Path(os.environ.get("SOLAR_EUV_GALLERY_DIR") or tempfile.mkdtemp())
raw = work / "one-time"
result = CliRunner().invoke(cli, ["sample", "--out", str(raw), "--start", "2014-03-01",
                                  "--end", "2014-03-01T00:00", "--image-size", "256",
                                  "--passbands", "171", "-q"])
assert result.exit_code == 0, result.output
hmi = sunpy.map.Map(next(raw.glob("hmi.M_720s.*.fits")))
synthetic = sunpy.map.Map(next(raw.glob("aia.lev1_euv_12s.*.171.*.fits")))
print(type(hmi).__name__, hmi.date.isot, "|", type(synthetic).__name__, synthetic.wavelength)

###############################################################################
# A real AIA 171 Å image: the full-disk synoptic file of 2024-10-04 where the
# project's shared data folder is present, else the level-1 AIA 171 Å test
# file that ships with sunpy (a small, 2011 image).

here = pathlib.Path.cwd().resolve()
candidates = [p / "shared" / "real-sdo" / "aia-synoptic-2024-10-04" / "AIAsynoptic0171.fits"
              for p in [here] + list(here.parents)]
found = [p for p in candidates if p.exists()]
if found:
    real = sunpy.map.Map(found[0])
    note = "real AIA synoptic image, 2024-10-04"
else:
    import sunpy.data.test

    real = sunpy.map.Map(sunpy.data.test.get_test_filepath("aia_171_level1.fits"))
    note = "sunpy's AIA 171 test file (the synoptic files are absent)"
print(note)

###############################################################################
# The three side by side, each in its own coordinates.  The synthetic files
# carry the instrument effects preparation must undo (HMI upside down, AIA
# roll and off-centre disk), which sunpy's WCS handles here.

fig = plt.figure(figsize=(12, 4))
for k, (m, title) in enumerate([(hmi, "synthetic HMI"), (synthetic, "synthetic AIA 171"),
                                (real, note)]):
    ax = fig.add_subplot(1, 3, k + 1, projection=m)
    if m is hmi:
        m.plot(axes=ax, norm=Normalize(-300, 300), cmap="hmimag")
    else:
        m.plot(axes=ax, clip_interval=(1, 99.9) * u.percent)
    ax.set_title(title, fontsize=9)
fig.tight_layout()
plt.show()
