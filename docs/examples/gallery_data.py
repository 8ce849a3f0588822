"""The gallery's shared data: a small synthetic dataset and a tiny trained run.

Not an example itself (``ignore_pattern`` in ``docs/conf.py``): the examples
import it, so that the dataset is rendered and the model trained once per
build, in ``$SOLAR_EUV_GALLERY_DIR`` (which ``conf.py`` sets) or in a fresh
temporary directory when an example is run on its own.
"""
import os
import pathlib
import tempfile

from click.testing import CliRunner

from solar_euv.cli.main import cli
from solar_euv.passbands import PASSBAND_NAMES
from solar_euv.training import TrainConfig, train

__all__ = ["work_dir", "prepared_data", "trained_run"]


def work_dir():
    """``$SOLAR_EUV_GALLERY_DIR``, else a new temporary directory."""
    path = pathlib.Path(os.environ.get("SOLAR_EUV_GALLERY_DIR") or tempfile.mkdtemp())
    path.mkdir(parents=True, exist_ok=True)
    return path


def prepared_data(work):
    """16 synthetic time steps over 2011-2017 at 128 px, prepared into TFRecords."""
    data = work / "data"
    if not (data / "manifest.json").exists():
        for args in (["sample", "--out", str(work / "raw"), "--count", "16",
                      "--image-size", "128", "-q"],
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
