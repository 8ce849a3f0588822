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

import matplotlib.pyplot as plt

from solar_euv.passbands import PASSBAND_NAMES
from gallery_data import prepared_data, trained_run, work_dir  # docs/examples/gallery_data.py

work = work_dir()


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
# ``trained_run`` (``docs/examples/gallery_data.py``, shared by the examples
# that need a model) is these two lines; ``config.json`` records every option:
#
# .. code-block:: python
#
#     config = TrainConfig(data=str(data), passbands=PASSBAND_NAMES, model="A",
#                          image_size=64, base_filters=8, batch_size=2, iterations=30,
#                          validate_every=10, save_every=10, val_examples=4,
#                          precision="float32", run_dir=str(work / "run"))
#     train(config, verbose=0)

options = json.loads((run / "config.json").read_text())["options"]
print({k: options[k] for k in ("model", "passbands", "image_size", "iterations", "lr",
                               "lr_decay", "batch_size")})

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
