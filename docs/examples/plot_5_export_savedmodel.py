"""
Export and call the SavedModel
==============================

``solar-euv export`` writes a SavedModel in TF Serving's layout
(``OUT/NAME/VERSION/``) whose ``serving_default`` signature takes a
magnetogram in Gauss on the common grid and returns each passband in DN/s,
with the run's scaling baked in.  Here it is loaded back with TensorFlow and
called in-process, as TF Serving would call it.
"""
import os
import pathlib
import tempfile

import matplotlib.pyplot as plt
import numpy as np
import sunpy.visualization.colormaps  # noqa: F401  (registers sdoaia171)
import tensorflow as tf
from click.testing import CliRunner

import solar_euv
from solar_euv.cli.main import cli
from solar_euv.passbands import PASSBAND_NAMES
from solar_euv.sdo.prep import prepare_hmi
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
result = CliRunner().invoke(cli, ["export", str(run), "--out", str(work / "serving"),
                                  "--name", "solar-euv", "--version", "1", "--overwrite"])
assert result.exit_code == 0, result.output
print(result.output)

###############################################################################
# Call ``serving_default`` on one magnetogram put on the model's 64 px grid.

saved = tf.saved_model.load(str(work / "serving" / "solar-euv" / "1"))
serve = saved.signatures["serving_default"]
print(serve.structured_input_signature)
magnetogram = sorted((work / "raw").glob("hmi.M_720s.2017*.fits"))[-1]
gauss = np.asarray(prepare_hmi(magnetogram, 64), dtype=np.float32)
outputs = serve(magnetogram=tf.constant(gauss[None, :, :, None]))
print({name: tuple(value.shape) for name, value in outputs.items()})

###############################################################################
# The SavedModel gives the numbers :func:`solar_euv.generate` gives.

maps = solar_euv.generate(run, magnetogram)
served = outputs["aia_171"].numpy()[0, :, :, 0]
print("largest relative difference:",
      float(np.max(np.abs(served - maps["171"].data) / (maps["171"].data + 1))))
fig, axes = plt.subplots(1, 2, figsize=(8, 4))
axes[0].imshow(gauss, origin="lower", cmap="gray", vmin=-300, vmax=300)
axes[0].set_title("magnetogram on the grid (G)")
axes[1].imshow(np.log10(served + 1), origin="lower", cmap="sdoaia171")
axes[1].set_title("SavedModel aia_171 (log10 DN/s)")
for ax in axes:
    ax.set_axis_off()
plt.show()
