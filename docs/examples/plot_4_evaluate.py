"""
Evaluate with the paper's metrics
=================================

``solar-euv evaluate`` scores a model on a split of a prepared data set
with the paper's definitions (CC, RE, PPE10, PPE50 on 256 x 256 binned disk
pixels) and prints the paper's table beside Park et al. (2019)'s figures.  It
also writes the per-image scores, used here for a scatter plot.
"""
import csv

import matplotlib.pyplot as plt
from click.testing import CliRunner

from solar_euv.cli.main import cli
from solar_euv.passbands import PASSBAND_NAMES
from gallery_data import prepared_data, trained_run, work_dir  # docs/examples/gallery_data.py

work = work_dir()


run, data = trained_run(work), prepared_data(work)
result = CliRunner().invoke(cli, ["evaluate", str(run), str(data), "--split", "test",
                                  "--out", str(work / "eval"), "--figures", "1",
                                  "--overwrite"])
assert result.exit_code == 0, result.output
print((work / "eval" / "metrics.md").read_text())

###############################################################################
# Per image and passband: CC against the flux ratio (1 + RE).  A tiny model
# after 30 steps is far from the paper's scores; the point is the method.

with open(work / "eval" / "per_image.csv") as f:
    rows = list(csv.DictReader(f))
print(list(rows[0]))  # FLUX: flux ratio, HFP: high-frequency power ratio
fig, ax = plt.subplots(figsize=(6, 4.5))
for band in PASSBAND_NAMES:
    mine = [r for r in rows if r["passband"] == band]
    ax.scatter([float(r["FLUX"]) for r in mine], [float(r["CC"]) for r in mine],
               label=band, s=25)
ax.set(xlabel="flux ratio (generated / observed)", ylabel="CC", xscale="log")
ax.legend(fontsize=7, ncol=3)
plt.show()
