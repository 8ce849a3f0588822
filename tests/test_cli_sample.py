"""Tests of ``solar-euv sample`` through click's CliRunner."""
import re

import astropy.units as u
import pytest
import sunpy.map
from astropy.time import Time
from click.testing import CliRunner

from solar_euv.cli.main import cli


def _invoke(args):
    return CliRunner().invoke(cli, ["sample", *args])


def test_sample_writes_hmi_and_aia_files(tmp_path):
    out = tmp_path / "s"
    result = _invoke(["--out", str(out), "--count", "2", "--image-size", "64",
                      "--passbands", "171,1600", "--seed", "5"])
    assert result.exit_code == 0, result.output
    assert "wrote 6 files (2 time steps, 64 px, seed 5)" in result.output
    names = sorted(p.name for p in out.iterdir())
    assert len(names) == 6
    assert names[0].startswith("aia.lev1_euv_12s.2011-01-01T0000") and names[0].endswith(
        ".171.image_lev1.fits")
    assert sum(n.startswith("hmi.M_720s.") for n in names) == 2
    assert sum(".1600.image_lev1" in n and n.startswith("aia.lev1_uv_24s.") for n in names) == 2
    maps = [sunpy.map.Map(out / n) for n in names]
    assert {type(m).__name__ for m in maps} == {"AIAMap", "HMIMap"}
    nominal = [Time("2011-01-01T00:00", scale="utc"), Time("2017-12-31T18:00", scale="utc")]
    for m in maps:   # HMI T_REC is on the TAI 720 s grid: up to 37 s before the nominal time
        assert min(abs((m.date - t).to_value(u.s)) for t in nominal) < 60


def test_sample_start_end_cadence(tmp_path):
    out = tmp_path / "s"
    result = _invoke(["--out", str(out), "--start", "2013-05-01T00:00",
                      "--end", "2013-05-01T12:00", "--cadence", "6h", "--image-size", "64",
                      "--passbands", "94", "-v"])
    assert result.exit_code == 0, result.output
    assert len(re.findall(r"^2013-05-01T\d\d:00:00: 2 files$", result.output, re.M)) == 3
    assert len(list(out.glob("hmi.M_720s.20130501_*_TAI.1.magnetogram.fits"))) == 3
    assert len(list(out.glob("aia.lev1_euv_12s.2013-05-01T*Z.94.image_lev1.fits"))) == 3


def test_sample_quiet_prints_nothing(tmp_path):
    result = _invoke(["--out", str(tmp_path), "--count", "1", "--image-size", "64",
                      "--passbands", "304", "-q"])
    assert result.exit_code == 0
    assert result.output == ""


@pytest.mark.parametrize("args, message", [
    (["--count", "2", "--start", "2012-01-01"], "either --count or --start/--end"),
    (["--count", "1", "--passbands", "999"], "unknown AIA passband '999'"),
    (["--count", "1", "--image-size", "300"], "--image-size 300 is not supported"),
    (["--count", "1", "--cadence", "often"], "cadence 'often' is not a duration"),
    (["--start", "2012-01-01", "--end", "2011-01-01"], "is before start"),
    (["--start", "the day after tomorrow"], "is not a date or time"),
    (["--count", "0"], "count must be at least 1"),
])
def test_sample_bad_input_gives_one_clear_line(tmp_path, args, message):
    result = _invoke(["--out", str(tmp_path / "s"), "--image-size", "64", *args]
                     if "--image-size" not in args else ["--out", str(tmp_path / "s"), *args])
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    assert message in lines[0]
    assert not (tmp_path / "s").exists()


def test_sample_requires_out():
    result = _invoke(["--count", "1"])
    assert result.exit_code == 2
    assert "--out" in result.output


def test_sample_help_lists_the_options():
    result = _invoke(["--help"])
    assert result.exit_code == 0
    for option in ("--out", "--start", "--end", "--cadence", "--count", "--image-size",
                   "--passbands", "--seed"):
        assert option in result.output
