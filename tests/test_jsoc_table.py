"""``--correction-table jsoc``: the current AIA correction table through aiapy, offline.

No test reaches JSOC.  aiapy's ``get_correction_table("JSOC")`` asks
``aiapy.calibrate.util._get_data_from_jsoc`` (a drms query of
``aia.response``); the tests put a stand-in answer there: the V8 table shipped
with aiapy and solar_euv, laid out as the query's pandas DataFrame (times
with a ``Z``, extra columns).  It is not a capture of JSOC's current table:
no such recording exists here, and the tests check the mechanism (fetch,
cache, record, use, refuse offline), not the table's numbers.  Offline is
what aiapy raises when drms cannot connect: an ``OSError``.
"""
import hashlib
import json

import numpy as np
import pytest
from astropy.io import ascii as astropy_ascii
from click.testing import CliRunner

from solar_euv.cli.main import cli
from solar_euv.exceptions import InputError, SolarEUVError
from solar_euv.sdo.calibration import correction_table_path, degradation_factor
from solar_euv.sdo.jsoc_table import fetch_correction_table
from jsoc_fake import fake_jsoc

SIZE = 64


def _jsoc_answer():
    import pandas

    table = astropy_ascii.read(correction_table_path())
    frame = table.to_pandas()
    for name in ("DATE", "T_START", "T_STOP"):
        frame[name] = [str(v)[:19] + "Z" for v in frame[name]]
    frame["RECNUM"] = np.arange(len(frame))          # JSOC returns more than aiapy keeps
    return pandas.DataFrame(frame)


@pytest.fixture
def online(monkeypatch, tmp_path):
    return fake_jsoc(monkeypatch, tmp_path, answer=lambda query: _jsoc_answer())


@pytest.fixture
def offline(monkeypatch, tmp_path):
    fake_jsoc(monkeypatch, tmp_path,
              error="Unable to query the JSOC. Error: <urlopen error [Errno -3] "
                    "Temporary failure in name resolution>")


def test_fetch_caches_a_file_that_serves_like_the_table(online, tmp_path):
    path = fetch_correction_table()
    assert online == [("aia.response[][!1=1!]", "**ALL**")]
    assert path.parent == tmp_path / "cache" and path.name == "aia_V8_jsoc_response_table.ecsv"
    for band, time in (("171", "2015-06-01T00:00:00"), ("304", "2012-01-01T00:00:00")):
        assert degradation_factor(band, time, path) == pytest.approx(
            degradation_factor(band, time), rel=1e-12)
    # an unchanged table gives the same file, untouched
    digest, mtime = hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns
    again = fetch_correction_table()
    assert again == path and path.stat().st_mtime_ns == mtime
    assert hashlib.sha256(again.read_bytes()).hexdigest() == digest


def test_offline_says_so_in_one_sentence_naming_the_option(offline):
    with pytest.raises(SolarEUVError) as info:
        fetch_correction_table()
    text = str(info.value)
    assert "\n" not in text and "JSOC is out of reach (offline?)" in text
    assert "--correction-table FILE" in text


def test_negative_factor_names_the_option(real_sdo_dir):
    """The real 2024 AIA 304 file: the V8 table extrapolates to a negative factor."""
    from solar_euv.sdo.prep import prepare_file

    with pytest.raises(InputError) as info:
        prepare_file(real_sdo_dir / "AIAsynoptic0304.fits", SIZE)
    assert info.value.category == "uncorrectable"
    assert "--correction-table jsoc" in str(info.value)
    assert "--correction-table FILE" in str(info.value)


@pytest.fixture(scope="module")
def raw(tmp_path_factory):
    raw = tmp_path_factory.mktemp("raw")
    result = CliRunner().invoke(cli, ["sample", "--out", str(raw), "--start", "2016-06-01",
                                      "--end", "2016-06-01", "--image-size", str(SIZE),
                                      "--passbands", "171", "-q"])
    assert result.exit_code == 0, result.output
    return raw


def test_prepare_records_the_fetched_table(online, raw, tmp_path):
    out = tmp_path / "data"
    args = ["prepare", str(raw), str(out), "--image-size", str(SIZE), "--workers", "1",
            "--passbands", "171", "--splits", "all=2016:2016", "--correction-table", "JSOC",
            "-q"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    entry = json.loads((out / "manifest.json").read_text())["calibration"]["correction_table"]
    cached = tmp_path / "cache" / "aia_V8_jsoc_response_table.ecsv"
    assert entry["name"] == cached.name and "JSOC" in entry["source"]
    assert entry["sha256"] == hashlib.sha256(cached.read_bytes()).hexdigest()
    before = {p.name: p.stat().st_mtime_ns for p in out.glob("*.tfrecord")}
    assert CliRunner().invoke(cli, args).exit_code == 0       # same table: shards kept
    assert {p.name: p.stat().st_mtime_ns for p in out.glob("*.tfrecord")} == before


def test_prepare_offline_fails_cleanly(offline, raw, tmp_path):
    result = CliRunner().invoke(cli, ["prepare", str(raw), str(tmp_path / "data"), "--image-size",
                                      str(SIZE), "--correction-table", "jsoc"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and "--correction-table FILE" in errors[0], result.output
    bad = CliRunner().invoke(cli, ["prepare", str(raw), str(tmp_path / "d2"),
                                   "--correction-table", str(tmp_path / "none.txt")])
    assert bad.exit_code == 2 and "'jsoc' or an existing table file" in bad.output
