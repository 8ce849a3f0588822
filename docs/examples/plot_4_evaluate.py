"""
Evaluate with the paper's metrics
=================================

``solar-euv evaluate`` scores a model on a split of a prepared data set
with the paper's definitions (CC, RE, PPE10, PPE50 on 256 x 256 binned disk
pixels) and prints the paper's table beside Park et al. (2019)'s figures.  It
also writes the per-image scores, used here for a scatter plot.
"""
import csv
import os
import pathlib
import tempfile

import matplotlib.pyplot as plt
from click.testing import CliRunner

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
