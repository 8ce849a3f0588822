"""
Prepare a data set and train a tiny model
=========================================

The synthetic Sun's files go through ``solar-euv prepare`` (pairing,
calibration onto the common grid, TFRecord shards with the paper's date
splits), then :func:`solar_euv.training.train` trains Model A (L1 loss) of
the nine passbands, the same path ``solar-euv-train`` runs.  At 64 px and
30 steps this takes about a minute of CPU; the learning curves come from the
run directory's ``metrics.csv``.
"""
import csv
import json
import os
import pathlib
import tempfile

import matplotlib.pyplot as plt
import numpy as np
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


###############################################################################
# Prepare: the manifest records the splits and their example counts.

data = prepared_data(work)
manifest = json.loads((data / "manifest.json").read_text())
print({name: split["examples"] for name, split in manifest["splits"].items()})

###############################################################################
# Train.  ``train`` prints one line on what it does, one per validation and
# a closing line with the validation CC beside the per-pixel fit.

run = trained_run(work)
print(sorted(p.name for p in run.iterdir()))

###############################################################################
# The learning curves: validation L1 and the CC of each passband.

with open(run / "metrics.csv") as f:
    rows = list(csv.DictReader(f))
steps = [int(r["step"]) for r in rows]
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
ax1.plot(steps, [float(r["val_l1"]) for r in rows], "o-")
ax1.set(xlabel="step", ylabel="validation L1 (network units)")
for band in PASSBAND_NAMES:
    ax2.plot(steps, [float(r[f"{band}_CC"]) for r in rows], "o-", label=band)
ax2.set(xlabel="step", ylabel="validation CC")
ax2.legend(fontsize=7, ncol=3)
fig.tight_layout()
plt.show()
