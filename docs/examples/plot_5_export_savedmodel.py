"""
Export and call the SavedModel
==============================

``solar-euv export`` writes a SavedModel in TF Serving's layout
(``OUT/NAME/VERSION/``) whose ``serving_default`` signature takes a
magnetogram in Gauss on the common grid and returns each passband in DN/s,
with the run's scaling baked in.  Here it is loaded back with TensorFlow and
called in-process, as TF Serving would call it.
"""

import matplotlib.pyplot as plt
import numpy as np
import sunpy.visualization.colormaps  # noqa: F401  (registers sdoaia171)
import tensorflow as tf
from click.testing import CliRunner

import solar_euv
from solar_euv.cli.main import cli
from solar_euv.sdo.prep import prepare_hmi
from gallery_data import trained_run, work_dir  # docs/examples/gallery_data.py

work = work_dir()


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
