"""``solar-euv prepare`` finishes an archive that holds unusable files.

A synthetic sample (one magnetogram per default split, AIA 171 and 193) plus
what a real archive holds: a truncated download, a cutout, a continuum image,
files with fatal QUALITY bits (AIA eclipse, HMI ``QUAL_NODATA``), a text
file named .fits and a magnetogram whose pixels are all missing (found only
when its data are read).  The two real-world ``hmi.M_720s`` QUALITY words of
the issue (``0x00010400``, ``0x00010000``) sit on good magnetograms.
"""
import hashlib
import json
import shutil
import warnings

import numpy as np
import pytest
import sunpy.data.test
from astropy.io import fits
from click.testing import CliRunner

from solar_euv.cli.main import cli
from test_io import AIA_171

SIZE = 64
TIMES = ["2016-12-31T00:00:00", "2017-03-01T06:00:00", "2017-08-01T12:00:00"]


def _copy_with(src, dst, data=None, **cards):
    """Copy of a (RICE-compressed or plain) SDO file with changed header cards or data."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with fits.open(src) as hdul:
            hdu = hdul[-1]
            header = hdu.header.copy()
            array = hdu.data.copy() if data is None else data
    header.update(cards)
    for key in ("BSCALE", "BZERO", "BLANK") if data is not None else ():
        header.remove(key, ignore_missing=True)
    fits.PrimaryHDU(array, header=header).writeto(dst)
    return dst


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    """Directory of good and bad files; returns (dir, {bad file name: category})."""
    raw = tmp_path_factory.mktemp("archive")
    for time in TIMES:
        result = CliRunner().invoke(cli, ["sample", "--out", str(raw), "--start", time,
                                          "--end", time, "--image-size", str(SIZE),
                                          "--passbands", "171,193", "-q"])
        assert result.exit_code == 0, result.output
    hmi = sorted(raw.glob("hmi*.fits"))
    aia = sorted(raw.glob("aia*.171.*.fits"))
    # real hmi.M_720s words on good magnetograms: usable, no refusal
    for path, quality in zip(hmi[:2], (0x00010400, 0x00010000)):
        tmp = path.with_suffix(".tmp")
        _copy_with(path, tmp, QUALITY=quality)
        tmp.replace(path)
    bad = {}
    shutil.copy(sunpy.data.test.get_test_filepath("resampled_hmi.fits"), raw / "continuum.fits")
    bad["continuum.fits"] = "product"
    (raw / "notes.fits").write_text("not an image\n" * 300)
    bad["notes.fits"] = "unreadable"
    blob = aia[0].read_bytes()
    (raw / "download.fits").write_bytes(blob[: len(blob) // 2])
    bad["download.fits"] = "unreadable"
    _copy_with(aia[1], raw / "eclipse.fits", QUALITY=1 << 13)
    bad["eclipse.fits"] = "QUALITY"
    _copy_with(hmi[1], raw / "nodata.fits", QUALITY=-0x80000000)
    bad["nodata.fits"] = "QUALITY"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")     # the file's BLANK card on float data
        with fits.open(AIA_171) as hdul:
            crop = hdul[0].data[20:84, 30:94].astype(np.float32)
            crpix = hdul[0].header["CRPIX1"] - 30, hdul[0].header["CRPIX2"] - 20
    _copy_with(AIA_171, raw / "cutout.fits", data=crop, CRPIX1=crpix[0], CRPIX2=crpix[1])
    bad["cutout.fits"] = "cutout"
    # the test split's magnetogram: header fine, every pixel missing
    shape = fits.getdata(hmi[2], 1).shape
    tmp = hmi[2].with_suffix(".tmp")
    _copy_with(hmi[2], tmp, data=np.full(shape, np.nan, np.float32))
    tmp.replace(hmi[2])
    bad[hmi[2].name] = "damaged"
    return raw, bad


def run(*args):
    """The CliRunner result, with ``skips``: the texts of its "skipped" warnings."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = CliRunner().invoke(cli, ["prepare", *map(str, args), "--image-size", str(SIZE),
                                          "--workers", "1", "--passbands", "171,193"])
    result.skips = [str(w.message) for w in caught if str(w.message).startswith("skipped ")]
    return result


def shard_digests(out):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(out.glob("*.tfrecord"))}


def test_archive_prepares_every_good_observation(archive, tmp_path):
    raw, bad = archive
    out = tmp_path / "data"
    result = run(raw, out)
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert {s["file"]: s["category"] for s in manifest["skipped"]} == bad
    assert all(s["reason"] for s in manifest["skipped"])
    # one line per skipped file, naming it and the reason
    lines = result.skips
    assert len(lines) == len(bad), result.stderr
    for name in bad:
        assert sum(name in line for line in lines) == 1, (name, lines)
    assert "7 files skipped: 2 QUALITY, 2 unreadable, 1 cutout, 1 damaged, " \
           "1 wrong product; see manifest.json" in result.stdout
    # the damaged magnetogram dropped its observation; the others are all there
    examples = {k: v["examples"] for k, v in manifest["splits"].items()}
    assert examples == {"train": 1, "validation": 1, "test": 0}
    assert all(v["missing"]["171"] == 0 for v in manifest["splits"].values())
    used = {s["file"] for s in manifest["sources"]}
    assert not used & set(bad)

    # a rerun keeps the shards and does not read the known-bad files again
    before = {p.name: p.stat().st_mtime_ns for p in out.glob("*.tfrecord")}
    again = run(raw, out)
    assert again.exit_code == 0, again.output
    assert {p.name: p.stat().st_mtime_ns for p in out.glob("*.tfrecord")} == before
    assert again.skips == []
    assert "7 files skipped" in again.stdout
    assert json.loads((out / "manifest.json").read_text())["skipped"] == manifest["skipped"]
    # a fresh run writes the same bytes; asked to, it reads the bad files again
    fresh = tmp_path / "fresh"
    assert run(raw, fresh).exit_code == 0
    assert shard_digests(fresh) == shard_digests(out)
    retried = run(raw, out, "--retry-skipped")
    assert retried.exit_code == 0 and len(retried.skips) == len(bad)
    assert shard_digests(out) == shard_digests(fresh)


def test_strict_stops_at_the_first_bad_file(archive, tmp_path, assert_clean_failure):
    raw, bad = archive
    result = run(raw, tmp_path / "strict", "--strict")
    assert_clean_failure(result, raw / "continuum.fits")   # the first in name order
    assert not list((tmp_path / "strict").glob("*.tfrecord"))


def test_a_bad_aia_file_found_late_leaves_its_passband_missing(archive, tmp_path):
    """An AIA image whose pixels are all missing: the observation stays, 193 is missing."""
    raw, _ = archive
    mine = tmp_path / "raw"
    shutil.copytree(raw, mine)
    victim = sorted(mine.glob("aia*2016-12-31*.193.*.fits"))[0]
    shape = fits.getdata(victim, 1).shape
    tmp = victim.with_suffix(".tmp")
    _copy_with(victim, tmp, data=np.full(shape, np.nan, np.float32))
    tmp.replace(victim)
    out = tmp_path / "data"
    result = run(mine, out)
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert {s["file"]: s["category"] for s in manifest["skipped"]}[victim.name] == "damaged"
    assert manifest["splits"]["train"]["examples"] == 1
    assert manifest["splits"]["train"]["missing"]["193"] == 1
    # rerun: the same decision without reading it, shards kept
    before = shard_digests(out)
    again = run(mine, out)
    assert again.exit_code == 0 and again.skips == []
    assert shard_digests(out) == before
