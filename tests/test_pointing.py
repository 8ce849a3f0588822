"""``prepare --pointing jsoc``: JSOC's AIA master pointing table through aiapy, offline.

No test reaches JSOC.  aiapy's ``get_pointing_table("jsoc", time_range=...)``
asks ``aiapy.calibrate.util._get_data_from_jsoc`` (a drms query of
``aia.master_pointing3h[START-END]`` for all keys); the tests put a stand-in
answer there, laid out as the query's pandas DataFrame: ``T_START`` and
``T_STOP`` every 3 hours with a ``Z``, and for each wavelength ``A_<wl>_X0``,
``A_<wl>_Y0`` (CCD pixels, 0-based), ``A_<wl>_IMSCALE`` (arcsec/px) and
``A_<wl>_INSTROT`` (deg), the columns aiapy's ``update_pointing`` reads.  The
values are of the size JSOC's table holds (disk centre near pixel 2050, 0.6
arcsec/px, hundredths of a degree of roll, drifting by tenths of a pixel) but
are not a capture of JSOC: the tests check the mechanism (fetch once, cache,
apply as the table says, record, refuse offline).  Offline is what aiapy
raises when drms cannot connect: an ``OSError``.
"""
import hashlib
import json
import re

import numpy as np
import pytest
from click.testing import CliRunner

from solar_euv.cli.main import cli
from jsoc_fake import fake_jsoc

SIZE = 64
TIMES = ["2016-06-01T00:00:00", "2016-06-01T06:00:00"]
WAVELENGTHS = ("094", "131", "171", "193", "211", "304", "335", "1600", "1700", "4500")


def _row_values(wl, start):
    """Pointing of wavelength ``wl`` in the 3-hour slot starting at ``start`` (a Time)."""
    k = WAVELENGTHS.index(wl)
    phase = (start.mjd % 365.25) / 365.25 * 2 * np.pi
    return {"X0": 2050.6 + 0.3 * k + 0.4 * np.sin(phase), "Y0": 2046.9 + 0.2 * k
            + 0.3 * np.cos(phase), "IMSCALE": 0.6000 + 0.0002 * (k % 4),
            "INSTROT": 0.0137 - 0.03 * (k % 4)}


def _jsoc_answer(query):
    """The stand-in DataFrame for ``aia.master_pointing3h[START-END]``."""
    import astropy.units as u
    import pandas
    from astropy.time import Time

    start, end = re.fullmatch(r"aia\.master_pointing3h\[(\S+?Z)-(\S+Z)\]", query).groups()
    start = Time(start.rstrip("Z"), scale="utc")
    first = Time(start.isot[:10] + "T00:00:00", scale="utc")
    slots = [first + 3 * k * u.hour for k in range(int((Time(end.rstrip("Z")) - first).to_value(
        u.hour) // 3) + 1)]
    rows = []
    for slot in slots:
        row = {"T_START": slot.isot[:19] + "Z", "T_STOP": (slot + 3 * u.hour).isot[:19] + "Z"}
        for wl in WAVELENGTHS:
            row.update({f"A_{wl}_{q}": v for q, v in _row_values(wl, slot).items()})
        rows.append(row)
    return pandas.DataFrame(rows)


@pytest.fixture
def online(monkeypatch, tmp_path):
    return fake_jsoc(monkeypatch, tmp_path, answer=lambda query: _jsoc_answer(query))


@pytest.fixture
def offline(monkeypatch, tmp_path):
    fake_jsoc(monkeypatch, tmp_path,
              error="Unable to query the JSOC.\n Error message: <urlopen error [Errno -3] "
                    "Temporary failure in name resolution>")


@pytest.fixture(scope="module")
def raw(tmp_path_factory):
    from solar_euv.synthetic.sample import write_sample

    raw = tmp_path_factory.mktemp("raw")
    write_sample(raw, TIMES, size=SIZE, passbands=["171"], seed=5)
    return raw


def prepare(raw, out, *extra):
    return CliRunner().invoke(cli, ["prepare", str(raw), str(out), "--image-size", str(SIZE),
                                    "--workers", "1", "--passbands", "171", "--splits",
                                    "all=2016:2016", "-q", *extra])


def shard_digests(out):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in out.glob("*.tfrecord")}


def test_fetch_asks_once_for_the_months_and_caches(online, tmp_path):
    from solar_euv.sdo.pointing import fetch_pointing_table, load_pointing_table

    path = fetch_pointing_table(["2016-06-01T00:00:09.35Z", "2016-06-30T22:00:00Z"])
    assert online == [("aia.master_pointing3h[2016-05-31T00:00:00.000Z-"
                       "2016-06-30T23:59:59.000Z]", "**ALL**")]
    assert path == tmp_path / "cache" / "aia_master_pointing3h_2016-06_2016-06.ecsv"
    table = load_pointing_table(path)
    assert table["A_171_X0"].unit == "pix" and table["A_171_INSTROT"].unit == "deg"
    assert table["T_START"][0].isot == "2016-05-31T00:00:00.000"
    assert fetch_pointing_table(["2016-06-15T00:00:00"]) == path and len(online) == 1


def test_a_table_fetched_during_the_month_is_fetched_again_for_later_images(online):
    from astropy.io import ascii as astropy_ascii
    from astropy.table import QTable

    from solar_euv.sdo.pointing import fetch_pointing_table

    path = fetch_pointing_table(["2016-06-01T00:00:00"])
    early = QTable.read(path, format="ascii.ecsv")[:20]      # to 2 June 12:00
    astropy_ascii.write(early, path, format="ecsv", overwrite=True)
    assert fetch_pointing_table(["2016-06-01T12:00:00"]) == path and len(online) == 1
    assert fetch_pointing_table(["2016-06-20T00:00:00"]) == path and len(online) == 2
    assert len(QTable.read(path, format="ascii.ecsv")) > 20


def test_level_15_images_keep_their_header(online, real_sdo_dir):
    from solar_euv.exceptions import SolarEUVWarning
    from solar_euv.sdo.io import read_sdo
    from solar_euv.sdo.pointing import apply_pointing, fetch_pointing_table

    image = read_sdo(real_sdo_dir / "AIAsynoptic0171.fits", grid_size=SIZE)
    assert image.level >= 1.5
    with pytest.warns(SolarEUVWarning, match="level-1.5 images keep the pointing"):
        assert apply_pointing(image, fetch_pointing_table([image.time])) is image.map


def _expected(table, wl, time, size):
    """CRPIX, CDELT, CROTA2 at ``size`` px from the table's row for ``time``."""
    from astropy.time import Time

    t = Time(time, scale="utc")
    i = np.flatnonzero((table["T_START"] <= t) & (t < table["T_STOP"]))[0]
    b = 4096 / size
    return {"crpix1": (table[f"A_{wl}_X0"][i].value + 1 - 0.5) / b + 0.5,
            "crpix2": (table[f"A_{wl}_Y0"][i].value + 1 - 0.5) / b + 0.5,
            "cdelt1": table[f"A_{wl}_IMSCALE"][i].value * b,
            "crota2": table[f"A_{wl}_INSTROT"][i].value}   # synthetic headers: no SAT_ROT


def test_the_header_gets_the_tables_pointing(online, raw):
    from solar_euv.sdo.io import read_sdo
    from solar_euv.sdo.pointing import apply_pointing, fetch_pointing_table, load_pointing_table
    from solar_euv.sdo.prep import prepare_file

    path = sorted(raw.glob("aia*171*.fits"))[0]
    table_path = fetch_pointing_table(TIMES)
    image = read_sdo(path, grid_size=SIZE)
    updated = apply_pointing(image, table_path).meta
    want = _expected(load_pointing_table(table_path), "171", image.time, SIZE)
    for key, value in want.items():
        assert updated[key] == pytest.approx(value, abs=1e-9), key
        assert abs(image.map.meta[key] - value) > 1e-4, key      # it did change
    assert updated["cdelt2"] == pytest.approx(want["cdelt1"])
    assert "pc1_1" not in updated and updated["x0_mp"] > 2000

    header = prepare_file(path, SIZE)
    jsoc = prepare_file(path, SIZE, pointing_table=table_path)
    assert header.meta["pointing"] == "header" and jsoc.meta["pointing"] == "jsoc"
    assert not np.array_equal(header.data, jsoc.data)     # the disk moved on the grid


def test_at_full_frame_it_is_aiapys_update_pointing(online):
    """At 4096 px the result is aiapy's own ``update_pointing`` (here on a header-only map)."""
    import sunpy.map
    from aiapy.calibrate import update_pointing

    from solar_euv.sdo.io import SDOImage
    from solar_euv.sdo.pointing import apply_pointing, fetch_pointing_table, load_pointing_table

    meta = {"telescop": "SDO/AIA", "instrume": "AIA_3", "wavelnth": 171, "waveunit": "angstrom",
            "t_obs": "2016-06-01T04:30:09.35Z", "date-obs": "2016-06-01T04:30:08.35",
            "ctype1": "HPLN-TAN", "ctype2": "HPLT-TAN", "cunit1": "arcsec", "cunit2": "arcsec",
            "crval1": 0.0, "crval2": 0.0, "cdelt1": 0.599489, "cdelt2": 0.599489,
            "crpix1": 2054.03, "crpix2": 2048.14, "crota2": 0.021, "sat_rot": -0.0042,
            "rsun_obs": 945.0, "dsun_obs": 1.518e11, "hgln_obs": 0.0, "hglt_obs": -0.5,
            "lvl_num": 1.0, "exptime": 2.0}
    smap = sunpy.map.Map((np.broadcast_to(np.float32(0), (4096, 4096)), meta))
    table_path = fetch_pointing_table(["2016-06-01T04:30:09"])
    ours = apply_pointing(SDOImage(map=smap, kind="171", path=""), table_path).meta
    theirs = update_pointing(smap, pointing_table=load_pointing_table(table_path)).meta
    for key in ("crpix1", "crpix2", "cdelt1", "cdelt2", "crota2", "x0_mp", "y0_mp"):
        assert ours[key] == pytest.approx(theirs[key], abs=1e-12), key
    assert ours["crota2"] == pytest.approx(-0.03 * 2 + 0.0137 - 0.0042)


def test_no_entry_for_the_time_names_the_file(online, raw):
    from solar_euv.exceptions import InputError
    from solar_euv.sdo.pointing import fetch_pointing_table
    from solar_euv.sdo.prep import prepare_file

    elsewhere = fetch_pointing_table(["2012-03-01T00:00:00"])
    path = sorted(raw.glob("aia*171*.fits"))[0]
    with pytest.raises(InputError) as info:
        prepare_file(path, SIZE, pointing_table=elsewhere)
    assert info.value.category == "uncorrectable" and path.name in str(info.value)
    assert "--pointing header" in str(info.value) and "\n" not in str(info.value)


def test_prepare_with_jsoc_records_the_table_and_reuses_it(online, raw, tmp_path):
    out = tmp_path / "data"
    result = prepare(raw, out, "--pointing", "jsoc")
    assert result.exit_code == 0, result.output
    assert len(online) == 1
    manifest = json.loads((out / "manifest.json").read_text())
    entry = manifest["calibration"]["pointing"]
    cached = tmp_path / "cache" / "aia_master_pointing3h_2016-06_2016-06.ecsv"
    assert entry["name"] == cached.name and "aia.master_pointing3h" in entry["source"]
    assert entry["sha256"] == hashlib.sha256(cached.read_bytes()).hexdigest()
    assert entry["time_range"] == ["2016-05-31T00:00:00.000Z", "2016-07-01T00:00:00.000Z"]
    assert "path" not in entry
    assert manifest["splits"]["all"]["examples"] == 2
    assert manifest["splits"]["all"]["missing"]["171"] == 0

    # A rerun takes the cached table (no second fetch) and keeps every shard.
    before = {p.name: p.stat().st_mtime_ns for p in out.glob("*.tfrecord")}
    again = prepare(raw, out, "--pointing", "JSOC")
    assert again.exit_code == 0, again.output
    assert len(online) == 1
    assert {p.name: p.stat().st_mtime_ns for p in out.glob("*.tfrecord")} == before

    # Another choice is detected: every shard is written again, as a fresh run would.
    jsoc = shard_digests(out)
    assert prepare(raw, out, "--pointing", "header").exit_code == 0
    assert json.loads((out / "manifest.json").read_text())["calibration"]["pointing"] == {
        "source": "header"}
    fresh = tmp_path / "fresh"
    assert prepare(raw, fresh).exit_code == 0
    assert shard_digests(out) == shard_digests(fresh) != jsoc


def test_the_default_keeps_the_header_and_asks_no_one(monkeypatch, raw, tmp_path):
    import aiapy.calibrate.util as util
    import drms

    def never(*args, **kwargs):
        raise AssertionError("the default --pointing must not reach JSOC")

    monkeypatch.setattr(util, "_get_data_from_jsoc", never)
    monkeypatch.setattr(util, "get_pointing_table", never)
    monkeypatch.setattr(drms, "Client", never)
    monkeypatch.setenv("SOLAR_EUV_CACHE", str(tmp_path / "cache"))
    out = tmp_path / "data"
    result = prepare(raw, out)
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["calibration"]["pointing"] == {"source": "header"}
    assert not (tmp_path / "cache").exists()


def test_offline_is_one_sentence_naming_the_default(offline, raw, tmp_path):
    out = tmp_path / "data"
    result = prepare(raw, out, "--pointing", "jsoc")
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    assert "cannot fetch the AIA pointing table" in lines[0]
    assert "JSOC is out of reach (offline?)" in lines[0]
    assert "--pointing header prepares" in lines[0]
    assert not list(out.glob("*.tfrecord")) and not (tmp_path / "cache").exists()
    bad = prepare(raw, tmp_path / "d2", "--pointing", "lmsal")
    assert bad.exit_code == 2 and "'header', 'jsoc'" in bad.output
