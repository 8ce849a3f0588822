"""JSOC queries and downloads (solar_euv.sdo.fetch); nothing here contacts the network.

The drms client is replaced by ``FakeClient``, which answers queries from the
recorded tables in tests/data and exports with made-up URLs; downloads go
through ``FakeOpener``.
"""
import io
import pathlib
import socket
import urllib.error

import pandas as pd
import pytest
from click.testing import CliRunner

from solar_euv.cli.base import SolarEUVGroup
from solar_euv.cli.fetch import command as fetch_command
from solar_euv.exceptions import SolarEUVError
from solar_euv.sdo import fetch as fetch_module
from solar_euv.sdo.download import FetchError, download
from solar_euv.sdo.fetch import fetch
from solar_euv.sdo.jsoc_query import (export_query, filename_for, grid_query, jsoc_time,
                                      select_nearest, series_for, time_grid, window_query)
from solar_euv.sdo.times import parse_cadence

DATA = pathlib.Path(__file__).parent / "data"
STEPS = ["2017-01-01T00:00:00", "2017-01-01T06:00:00", "2017-01-01T12:00:00",
         "2017-01-01T18:00:00"]


def table(name):
    return pd.read_csv(DATA / name, dtype={"T_REC": str, "T_OBS": str})


class FakeRequest:
    def __init__(self, ds, rows):
        self.ds, self._rows, self.status = ds, rows, 0

    def wait(self, timeout=None):
        return True

    def has_succeeded(self):
        return True

    @property
    def urls(self):
        return pd.DataFrame(self._rows, columns=["record", "filename", "url"])


class FakeClient:
    """Answers the record sets fetch() builds, from recorded tables."""

    def __init__(self, tables, records_by_recnum):
        self.tables, self.records, self.queries, self.exports = tables, records_by_recnum, [], []

    def query(self, ds, key=None):
        self.queries.append(ds)
        assert key == "T_REC,T_OBS,WAVELNTH,QUALITY,*recnum*"
        return self.tables.get(ds, pd.DataFrame(columns=key.split(",")))

    def export(self, ds, method=None, protocol=None, email=None):
        assert (method, protocol, email) == ("url", "fits", "me@example.org")
        self.exports.append(ds)
        numbers = [int(n) for n in ds.split("[:")[1].split("]")[0].replace("#", "").split(",")]
        rows = [(self.records[n], f"f{n}.fits", f"http://jsoc.example/SUM/f{n}.fits")
                for n in numbers]
        return FakeRequest(ds, rows)


class FakeResponse(io.BytesIO):
    def __init__(self, data, status=200):
        super().__init__(data)
        self.status = status
        self.headers = {"Content-Length": str(len(data))}


class FakeOpener:
    """Serves bytes per URL; can fail a number of times first."""

    def __init__(self, fail_first=0):
        self.calls, self.fail_first = [], fail_first

    def __call__(self, request, timeout=None):
        self.calls.append((request.full_url, request.get_header("Range")))
        if len(self.calls) <= self.fail_first:
            raise urllib.error.URLError(socket.timeout("timed out"))
        data = ("SIMPLE  =  T / " + request.full_url).encode()
        start = request.get_header("Range")
        if start:
            offset = int(start.split("=")[1].rstrip("-"))
            return FakeResponse(data[offset:], status=206)
        return FakeResponse(data)


def cli():
    """The fetch command inside a package group (without importing every command)."""
    group = SolarEUVGroup("solar-euv")
    group.add_command(fetch_command)
    return group


def test_fetch_is_registered():
    import ast

    main = pathlib.Path(fetch_module.__file__).parents[1] / "cli" / "main.py"
    for node in ast.parse(main.read_text()).body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "COMMANDS":
            assert "fetch" in ast.literal_eval(node.value)
            break
    else:
        pytest.fail("solar_euv/cli/main.py has no COMMANDS list")


# -- grid and record sets ----------------------------------------------------------------

def test_cadence_and_time_grid():
    assert parse_cadence("6h").total_seconds() == 21600
    assert parse_cadence("30min").total_seconds() == 1800
    assert parse_cadence("720s").total_seconds() == 720
    assert parse_cadence("1d").total_seconds() == 86400
    with pytest.raises(SolarEUVError, match="cadence 'often' is not a duration"):
        parse_cadence("often")
    grid = time_grid("2017-01-01", "2017-01-01T18:00:00", "6h")
    assert [t.isot for t in grid] == [s + ".000" for s in STEPS]
    assert len(time_grid("2017-01-01", "2017-01-01T17:59:59", "6h")) == 3
    with pytest.raises(SolarEUVError, match="is before start"):
        time_grid("2017-01-02", "2017-01-01")


def test_record_set_strings():
    assert jsoc_time("2017-01-01T00:00:00") == "2017.01.01_00:00:37_TAI"   # TAI - UTC = 37 s
    assert series_for("hmi") == "hmi.M_720s"
    assert series_for("171") == "aia.lev1_euv_12s" and series_for("94") == "aia.lev1_euv_12s"
    assert series_for("1600") == "aia.lev1_uv_24s" and series_for(1700) == "aia.lev1_uv_24s"
    assert (grid_query("171", "2017-01-01", "2017-01-01T18:00:00", "6h")
            == "aia.lev1_euv_12s[2017.01.01_00:00:37_TAI/64801s@21600s][171]")
    assert (grid_query("hmi", "2017-01-01", "2017-01-02", "12h")
            == "hmi.M_720s[2017.01.01_00:00:37_TAI/86401s@43200s]")
    assert (window_query("1700", "2017-01-01T12:00:00", "6min")
            == "aia.lev1_uv_24s[2017.01.01_11:54:37_TAI/720s][1700]")
    assert export_query("hmi", [5001, 5002]) == "hmi.M_720s[:#5001,#5002]{magnetogram}"
    assert export_query("335", [7]) == "aia.lev1_euv_12s[:#7]{image}"
    assert (filename_for("hmi", "2017.01.01_06:00:00_TAI")
            == "hmi.M_720s.20170101_060000_TAI.magnetogram.fits")
    assert (filename_for("171", "2017-01-01T12:00:12Z")
            == "aia.lev1_euv_12s.2017-01-01T120012Z.171.image_lev1.fits")
    with pytest.raises(SolarEUVError, match="unknown AIA passband '4500'"):
        series_for("4500")


def test_nearest_record_selection_from_recorded_query():
    chosen = select_nearest(table("jsoc_aia171_grid.csv"), STEPS, "171", "6min")
    assert chosen["2017-01-01T00:00:00.000Z"].recnum == 1001
    assert chosen["2017-01-01T06:00:00.000Z"].recnum == 1002      # NRT bit alone: usable
    assert chosen["2017-01-01T12:00:00.000Z"] is None             # eclipse bit: refused
    assert chosen["2017-01-01T18:00:00.000Z"] is None             # no record
    window = select_nearest(table("jsoc_aia171_window_1200.csv"), [STEPS[2]], "171", "6min")
    best = window["2017-01-01T12:00:00.000Z"]
    assert (best.recnum, best.t_obs) == (1010, "2017-01-01T12:00:21.340Z")
    # a tighter tolerance leaves nothing within reach of 06:00:09
    assert select_nearest(table("jsoc_aia171_grid.csv"), [STEPS[1]], "171",
                          "5s")["2017-01-01T06:00:00.000Z"] is None
    hmi = select_nearest(table("jsoc_hmi_grid.csv"), STEPS, "hmi", "6min")
    assert [r and r.recnum for r in hmi.values()] == [5001, 5002, 5003, None]
    assert hmi["2017-01-01T00:00:00.000Z"].t_obs == "2016-12-31T23:59:24.000Z"


# -- downloads -----------------------------------------------------------------------------

def test_download_writes_part_then_renames_and_skips_existing(tmp_path):
    target = tmp_path / "a.fits"
    opener = FakeOpener()
    assert download("http://x/a.fits", target, opener=opener, pause=0) is True
    assert target.read_bytes().startswith(b"SIMPLE")
    assert not (tmp_path / "a.fits.part").exists()
    assert download("http://x/a.fits", target, opener=opener, pause=0) is False
    assert len(opener.calls) == 1


def test_download_resumes_a_partial_file_and_retries(tmp_path):
    target = tmp_path / "b.fits"
    (tmp_path / "b.fits.part").write_bytes(b"SIMPLE  =")
    opener = FakeOpener(fail_first=1)
    assert download("http://x/b.fits", target, opener=opener, pause=0, retries=2)
    assert opener.calls == [("http://x/b.fits", "bytes=9-"), ("http://x/b.fits", "bytes=9-")]
    assert target.read_bytes() == b"SIMPLE  =  T / http://x/b.fits"


def test_download_gives_up_with_a_clear_message(tmp_path):
    with pytest.raises(FetchError, match=r"c\.fits: download from http://x/c\.fits failed "
                                         r"after 3 attempts \(timed out\)"):
        download("http://x/c.fits", tmp_path / "c.fits", opener=FakeOpener(fail_first=9),
                 pause=0, retries=2)
    assert not (tmp_path / "c.fits").exists()


# -- the whole fetch ---------------------------------------------------------------------

def recorded_client():
    start, end = STEPS[0], STEPS[-1]
    tables = {
        grid_query("171", start, end, "6h"): table("jsoc_aia171_grid.csv"),
        window_query("171", STEPS[2], "6min"): table("jsoc_aia171_window_1200.csv"),
        grid_query("hmi", start, end, "6h"): table("jsoc_hmi_grid.csv"),
    }
    records = {}
    for t in tables.values():
        for row in t.to_dict("records"):
            wave = "" if row["WAVELNTH"] > 6000 else f"[{row['WAVELNTH']}]"
            series = "hmi.M_720s" if not wave else "aia.lev1_euv_12s"
            records[int(row["*recnum*"])] = f"{series}[{row['T_REC']}]{wave}"
    return FakeClient(tables, records)


def test_fetch_queries_selects_exports_and_resumes(tmp_path):
    client = recorded_client()
    opener = FakeOpener()
    result = fetch(STEPS[0], STEPS[-1], tmp_path, passbands="171", email="me@example.org",
                   client=client, opener=opener, retry_pause=0)
    assert sorted(r.recnum for r in result.planned) == [1001, 1002, 1010, 5001, 5002, 5003]
    assert sorted(result.missing) == [("171", "2017-01-01T18:00:00.000Z"),
                                      ("hmi", "2017-01-01T18:00:00.000Z")]
    assert client.exports == ["hmi.M_720s[:#5001,#5002,#5003]{magnetogram}",
                              "aia.lev1_euv_12s[:#1001,#1002,#1010]{image}"]
    names = sorted(p.name for p in tmp_path.iterdir())
    assert "aia.lev1_euv_12s.2017-01-01T120012Z.171.image_lev1.fits" in names
    assert "hmi.M_720s.20170101_000000_TAI.magnetogram.fits" in names
    assert len(result.downloaded) == 6 and not any(n.endswith(".part") for n in names)
    # window queries only for the steps the grid could not serve
    assert window_query("171", STEPS[2], "6min") in client.queries
    assert window_query("171", STEPS[1], "6min") not in client.queries

    # A rerun exports and downloads nothing.
    rerun_client = recorded_client()
    again = fetch(STEPS[0], STEPS[-1], tmp_path, passbands="171", email="me@example.org",
                  client=rerun_client, opener=opener, retry_pause=0)
    assert again.downloaded == [] and len(again.skipped) == 6
    assert rerun_client.exports == []


def test_fetch_needs_an_email_unless_dry_run(tmp_path):
    with pytest.raises(SolarEUVError, match="need a registered e-mail address"):
        fetch(STEPS[0], STEPS[-1], tmp_path, passbands="171", client=recorded_client())
    plan = fetch(STEPS[0], STEPS[-1], tmp_path, passbands="171", dry_run=True,
                 client=recorded_client())
    assert len(plan.planned) == 6 and list(tmp_path.iterdir()) == []


class OfflineClient:
    def query(self, ds, key=None):
        raise urllib.error.URLError(socket.gaierror(-3, "Temporary failure in name "
                                                        "resolution"))


def test_offline_message(tmp_path, monkeypatch):
    monkeypatch.setattr(fetch_module, "_default_client", lambda email: OfflineClient())
    with pytest.raises(FetchError, match=r"cannot reach JSOC \(http://jsoc.stanford.edu\): "
                                         r".*Temporary failure in name resolution.*check "
                                         r"the network connection"):
        fetch(STEPS[0], STEPS[1], tmp_path, passbands="171", email="me@example.org")


def test_unregistered_email_and_offline_client_construction(tmp_path, monkeypatch):
    import drms

    def unregistered(self, email):
        return False                        # what JSOC answers for an unknown address

    monkeypatch.setattr(drms.Client, "check_email", unregistered)
    with pytest.raises(FetchError, match=r"does not accept the e-mail address 'x@y.org'"):
        fetch(STEPS[0], STEPS[1], tmp_path, passbands="171", email="x@y.org")

    def offline(self, email):
        raise urllib.error.URLError(ConnectionRefusedError(111, "Connection refused"))

    monkeypatch.setattr(drms.Client, "check_email", offline)
    with pytest.raises(FetchError, match=r"cannot reach JSOC .*Connection refused"):
        fetch(STEPS[0], STEPS[1], tmp_path, passbands="171", email="x@y.org")


def test_cli_offline_is_one_line_without_traceback(tmp_path, monkeypatch):
    monkeypatch.setattr(fetch_module, "_default_client", lambda email: OfflineClient())
    result = CliRunner().invoke(cli(), ["fetch", "--start", "2017-01-01", "--end",
                                      "2017-01-01T06:00:00", "--passbands", "171",
                                      "--email", "me@example.org", str(tmp_path / "raw")])
    assert result.exit_code == 1
    assert "Error: cannot reach JSOC" in result.output
    assert "Traceback" not in result.output


def test_cli_dry_run_lists_the_plan(tmp_path, monkeypatch):
    monkeypatch.setattr(fetch_module, "_default_client", lambda email: recorded_client())
    result = CliRunner().invoke(cli(), ["fetch", "--start", STEPS[0], "--end", STEPS[-1],
                                      "--passbands", "171", "--dry-run", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "recnum 1010" in result.output
    assert "0 downloaded, 0 already present, 6 records chosen, 2 steps without" in result.output


def test_export_failure_message(tmp_path):
    import drms

    class Refusing(FakeClient):
        def export(self, ds, **kwargs):
            raise drms.DrmsExportError("4: invalid email")

    client = recorded_client()
    refusing = Refusing(client.tables, client.records)
    with pytest.raises(FetchError, match=r"JSOC export of hmi.M_720s\[:#5001.*failed: "
                                         r"4: invalid email \(the e-mail address must be "
                                         r"registered"):
        fetch(STEPS[0], STEPS[-1], tmp_path, passbands="171", email="me@example.org",
              client=refusing)


def test_fetch_mdi_magnetograms_from_jsoc(tmp_path, monkeypatch):
    """--instrument mdi: mdi.fd_M_96m_lev182, segment data, 48 min default tolerance."""
    steps = ["2010-10-15T18:00:00", "2010-10-15T20:00:00", "2010-10-15T22:00:00"]
    grid = grid_query("mdi", steps[0], steps[-1], "2h")
    assert grid == "mdi.fd_M_96m_lev182[2010.10.15_18:00:34_TAI/14401s@7200s]"
    assert export_query("mdi", [7240]) == "mdi.fd_M_96m_lev182[:#7240]{data}"
    mdi = table("jsoc_mdi_grid.csv")
    records = {int(r["*recnum*"]): f"mdi.fd_M_96m_lev182[{r['T_REC']}]"
               for r in mdi.to_dict("records")}
    client = FakeClient({grid: mdi}, records)
    monkeypatch.setattr(fetch_module, "_default_client", lambda email: client)
    opener = FakeOpener()
    monkeypatch.setattr(urllib.request, "urlopen", opener)
    result = CliRunner().invoke(cli(), ["fetch", "--start", steps[0], "--end", steps[-1],
                                        "--cadence", "2h", "--instrument", "mdi",
                                        "--passbands", "none", "--email", "me@example.org",
                                        str(tmp_path)])
    assert result.exit_code == 0, result.output
    # 18:00 -> 17:38 UTC (22 min), 20:00 -> 19:14 UTC (46 min), 22:00: none within 48 min
    assert client.exports == ["mdi.fd_M_96m_lev182[:#7239,#7240]{data}"]
    assert window_query("mdi", steps[2], "48min") in client.queries
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "mdi.fd_M_96m_lev182.20101015_173600_TAI.data.fits",
        "mdi.fd_M_96m_lev182.20101015_191200_TAI.data.fits"]
    assert "2 downloaded" in result.output and "1 steps without" in result.output
    assert "missing: mdi at 2010-10-15T22:00:00.000Z" in result.output


class SlowOpener(FakeOpener):
    """FakeOpener that holds each transfer a moment and counts transfers at once."""

    def __init__(self):
        super().__init__()
        import threading

        self.lock, self.active, self.most = threading.Lock(), 0, 0

    def __call__(self, request, timeout=None):
        import time

        with self.lock:
            self.active += 1
            self.most = max(self.most, self.active)
        try:
            time.sleep(0.05)
            return super().__call__(request, timeout)
        finally:
            with self.lock:
                self.active -= 1


def test_fetch_jobs_downloads_in_parallel_with_the_same_result(tmp_path):
    one, many = tmp_path / "one", tmp_path / "many"
    serial = fetch(STEPS[0], STEPS[-1], one, passbands="171", email="me@example.org",
                   client=recorded_client(), opener=FakeOpener(), retry_pause=0)
    opener = SlowOpener()
    parallel = fetch(STEPS[0], STEPS[-1], many, passbands="171", email="me@example.org",
                     client=recorded_client(), opener=opener, retry_pause=0, jobs=3,
                     bar=True)
    assert opener.most > 1                       # transfers overlapped
    assert [p.name for p in parallel.downloaded] == [p.name for p in serial.downloaded]
    assert sorted(parallel.missing) == sorted(serial.missing)
    for path in serial.downloaded:
        assert (many / path.name).read_bytes() == path.read_bytes()
    with pytest.raises(SolarEUVError, match="jobs must be at least 1"):
        fetch(STEPS[0], STEPS[-1], many, passbands="171", email="me@example.org",
              client=recorded_client(), opener=opener, jobs=0)


def test_fetch_jobs_stops_at_a_failed_file_and_keeps_the_others(tmp_path):
    class Refusing(FakeOpener):
        def __call__(self, request, timeout=None):
            if "1002" in request.full_url or "120012" in request.full_url:
                raise urllib.error.HTTPError(request.full_url, 404, "Not Found", {}, None)
            return super().__call__(request, timeout)

    with pytest.raises(FetchError, match="failed after 1 attempts .HTTP 404"):
        fetch(STEPS[0], STEPS[-1], tmp_path, passbands="171", email="me@example.org",
              client=recorded_client(), opener=Refusing(), retry_pause=0, retries=0, jobs=4)
    assert not list(tmp_path.glob("*.part"))
    assert list(tmp_path.glob("hmi.M_720s.*.fits"))   # the magnetograms came first
