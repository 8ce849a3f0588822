"""Each warning is printed once.

``drms`` (imported by aiapy) used to add a handler to the root logger, to
which astropy's logger -- the one that prints every SolarEUVWarning -- passes
its records on: every warning came out twice.  And each preparation worker
printed its own copy of a warning that every file of a passband raises.
"""
import logging
import os
import pathlib
import subprocess
import sys
import warnings

import pytest

from solar_euv.exceptions import SolarEUVWarning
from solar_euv.synthetic.sample import write_sample

REPO = pathlib.Path(__file__).resolve().parents[1]


def test_importing_aiapy_leaves_the_root_logger_alone():
    code = ("import logging; from solar_euv.sdo import thirdparty; thirdparty.drms(); "
            "import aiapy.calibrate; print(len(logging.getLogger().handlers))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=dict(os.environ, PYTHONPATH=str(REPO)), check=True)
    assert out.stdout.strip() == "0", out.stderr


def test_rendering_the_synthetic_sun_leaves_the_root_logger_alone(tmp_path):
    # The synthetic Sun's degradation once imported aiapy directly: every
    # warning of a default run that prepares the sample came out twice.
    code = ("import logging, sys; from solar_euv.synthetic.sample import write_sample; "
            "write_sample(sys.argv[1], ['2019-01-01T00:00:00'], size=64, passbands=['304']); "
            "print(len(logging.getLogger().handlers), 'aiapy.calibrate' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True,
                         text=True, env=dict(os.environ, PYTHONPATH=str(REPO)), check=True)
    assert out.stdout.split() == ["0", "True"], out.stderr


def test_keep_root_logging_undoes_basic_config():
    from solar_euv.sdo.thirdparty import keep_root_logging

    root = logging.getLogger()
    before = list(root.handlers)
    with keep_root_logging():
        logging.basicConfig(level=logging.INFO, force=False)
        root.addHandler(logging.NullHandler())
    assert root.handlers == before


@pytest.fixture(scope="module")
def raw_2019(tmp_path_factory):
    """Synthetic files of 2019: AIA 304 beyond the shipped table (extrapolated)."""
    raw = tmp_path_factory.mktemp("raw2019")
    write_sample(raw, ["2019-01-01T00:00:00", "2019-01-01T06:00:00",
                       "2019-01-01T12:00:00"], size=64, passbands=["304"], seed=1)
    return raw


def test_workers_warnings_shown_once_by_the_caller(raw_2019):
    from solar_euv.sdo.batch import prepare_files

    files = sorted(raw_2019.glob("aia*.fits"))
    assert len(files) == 3
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        images = list(prepare_files(files, 64, workers=2, progress=False))
    assert len(images) == 3
    texts = [str(w.message) for w in caught if issubclass(w.category, SolarEUVWarning)]
    assert len(texts) == 1 and "AIA 304 is extrapolated past the correction table" in texts[0]


def test_cli_prints_each_warning_once(raw_2019, tmp_path):
    """The command as a user runs it: a real process, its real stderr."""
    script = pathlib.Path(sys.executable).with_name("solar-euv")
    command = [str(script)] if script.exists() else [
        sys.executable, "-c", "from solar_euv.cli.main import cli; cli()"]
    out = subprocess.run(command + ["prepare", str(raw_2019), str(tmp_path / "data"),
                                    "--image-size", "64", "--workers", "1", "--splits",
                                    "all=2018:2020"],
                         capture_output=True, text=True, timeout=600,
                         env=dict(os.environ, PYTHONPATH=str(REPO)))
    assert out.returncode == 0, out.stderr
    ours = [line for line in out.stderr.replace("\r", "\n").splitlines()
            if "SolarEUVWarning" in line]
    assert len(ours) == 1, out.stderr
    assert "the degradation of AIA 304 is extrapolated" in ours[0]
