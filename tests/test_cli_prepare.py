"""``solar-euv prepare`` end to end on synthetic SDO files, and its clean failures."""
import hashlib
import json
import shutil

import numpy as np
import pytest
from click.testing import CliRunner

from solar_euv.cli.main import cli
from solar_euv.scaling import Scaling

SIZE = 64
# Magnetogram times: one per default split, plus one before 2011 (in no split).
TIMES = ["2016-12-31T00:00:00", "2017-03-01T06:00:00", "2017-08-01T12:00:00",
         "2010-06-01T00:00:00"]


@pytest.fixture(scope="module")
def raw_dir(tmp_path_factory):
    """``solar-euv sample`` files: 171 and 193 at each time but the second (171 only)."""
    raw = tmp_path_factory.mktemp("raw")
    for k, time in enumerate(TIMES):
        passbands = "171" if k == 1 else "171,193"
        result = CliRunner().invoke(cli, ["sample", "--out", str(raw), "--start", time,
                                          "--end", time, "--image-size", str(SIZE),
                                          "--passbands", passbands, "-q"])
        assert result.exit_code == 0, result.output
    assert len(list(raw.glob("hmi*.fits"))) == 4 and len(list(raw.glob("aia*.fits"))) == 7
    return raw


def run(*args):
    result = CliRunner().invoke(cli, ["prepare", *map(str, args), "-q"])
    return result


def digests(out):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(out.glob("*.tfrecord"))}


def assert_clean_failure(result, *fragments):
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def test_prepare_end_to_end_and_rerun(raw_dir, tmp_path):
    from solar_euv.dataset import make_dataset
    from solar_euv.sdo.prep import prepare_file

    out = tmp_path / "data"
    result = run(raw_dir, out, "--image-size", SIZE, "--passbands", "171,193", "--workers", 1)
    assert result.exit_code == 0, result.output
    assert "train 1" in result.stdout and "missing within 6 min: 193 in 1" in result.stdout
    manifest = json.loads((out / "manifest.json").read_text())
    assert {k: v["examples"] for k, v in manifest["splits"].items()} == {
        "train": 1, "validation": 1, "test": 1}
    assert manifest["splits"]["validation"]["missing"]["193"] == 1
    assert manifest["splits"]["train"]["range"]["until"] == "2017-01-01T00:00:00Z"
    assert manifest["pairing"]["magnetograms"] == 4
    assert len(manifest["pairing"]["outside_splits"]) == 1
    assert manifest["calibration"]["correction_table"]["name"].startswith("aia_V8")
    assert len(manifest["sources"]) == 8  # the 2010 files are not prepared
    hmi = next(s for s in manifest["sources"] if s["channel"] == "hmi")
    assert hmi["sha256"] == hashlib.sha256((raw_dir / hmi["file"]).read_bytes()).hexdigest()

    # The stored record holds what prep makes of the files, within float16.
    scaling = Scaling(mask_off_disk=False)
    (mag, tgt), = list(make_dataset(out, "test", ["171", "193"], 1, training=False,
                                    scaling=scaling))
    test_src = {s["channel"]: raw_dir / s["file"] for s in manifest["sources"]
                if s["time"].startswith("2017-08")}
    want_mag = scaling.hmi_to_network(prepare_file(test_src["hmi"], SIZE).data)
    want_193 = scaling.aia_to_network(prepare_file(test_src["193"], SIZE).data)
    np.testing.assert_allclose(mag[0, ..., 0], want_mag, rtol=2 ** -11, atol=1e-7)
    np.testing.assert_allclose(tgt[0, ..., 1], want_193, atol=2 ** -11 / np.log(2) / 7)

    # A rerun keeps every shard (same bytes, untouched), a fresh run matches it.
    before = {p.name: p.stat().st_mtime_ns for p in out.glob("*.tfrecord")}
    again = run(raw_dir, out, "--image-size", SIZE, "--passbands", "171,193", "--workers", 1)
    assert again.exit_code == 0, again.output
    assert {p.name: p.stat().st_mtime_ns for p in out.glob("*.tfrecord")} == before
    fresh = tmp_path / "fresh"
    assert run(raw_dir, fresh, "--image-size", SIZE, "--passbands", "171,193",
               "--workers", 1).exit_code == 0
    assert digests(fresh) == digests(out)


def test_custom_splits_and_tolerance(raw_dir, tmp_path):
    out = tmp_path / "data"
    result = run(raw_dir, out, "--image-size", SIZE, "--passbands", "171", "--workers", 1,
                 "--splits", "all=2010:2017", "--tolerance", "1s")
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["splits"]["all"]["examples"] == 4
    # AIA 171 is 9 s after each magnetogram (and HMI times are TAI-UTC shifted)
    assert manifest["splits"]["all"]["missing"]["171"] == 4
    assert [c["name"] for c in manifest["channels"]] == ["hmi", "171"]


@pytest.mark.parametrize("args, fragments", [
    (["--splits", "train=2011:2016,val=2016-06:2017"], ["splits 'train'", "overlap"]),
    (["--splits", "train=2011"], ["is not NAME=START:END"]),
    (["--tolerance", "6"], ["tolerance '6' is not a duration with a unit"]),
    (["--passbands", "4500"], ["unknown AIA passband '4500'"]),
    (["--splits", "future=2030:2031"], ["has no magnetogram within the split ranges",
                                        "give --splits"]),
])
def test_bad_options_fail_cleanly(raw_dir, tmp_path, args, fragments):
    result = run(raw_dir, tmp_path / "out", "--image-size", SIZE, "--workers", 1, *args)
    assert_clean_failure(result, *fragments)


def test_bad_inputs_fail_cleanly_naming_the_file(raw_dir, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert_clean_failure(run(empty, tmp_path / "o1"), str(empty), "holds no FITS files")

    not_fits = tmp_path / "notfits"
    shutil.copytree(raw_dir, not_fits)
    (not_fits / "broken.fits").write_text("hello")
    assert_clean_failure(run(not_fits, tmp_path / "o2", "--image-size", SIZE, "--workers", 1,
                             "--strict"), "broken.fits", "not a")

    truncated = tmp_path / "truncated"
    shutil.copytree(raw_dir, truncated)
    victim = sorted(truncated.glob("aia*2017-08-01*171*.fits"))[0]
    victim.write_bytes(victim.read_bytes()[:2880 * 3])
    out = tmp_path / "o3"
    assert_clean_failure(run(truncated, out, "--image-size", SIZE, "--workers", 1,
                             "--passbands", "171", "--strict"), victim.name)
    assert not list(out.glob("*.partial"))

    only_aia = tmp_path / "onlyaia"
    only_aia.mkdir()
    for f in raw_dir.glob("aia*"):
        shutil.copy(f, only_aia)
    assert_clean_failure(run(only_aia, tmp_path / "o4", "--image-size", SIZE),
                         "holds no usable HMI magnetogram")

    assert run(raw_dir, tmp_path / "o5", "--image-size", 100).exit_code == 2  # usage error
