"""GONG magnetograms from NSO's archive (solar_euv.sdo.gong_archive, ``fetch --instrument gong``).

Nothing here leaves the machine: NSO's archive is stood in for by a local HTTP
server (127.0.0.1) serving a directory tree in NSO's layout
(``YYYYMM/<site>zqaYYMMDD/<site>zqaYYMMDDtHHMM.fits.gz``) with Python's own
directory index pages; the files in it are synthetic GONG magnetograms
(:mod:`solar_euv.synthetic.instruments`, from sunpy's real GONG header).
"""
import functools
import gzip
import http.server
import os
import socket
import threading
import urllib.error

import pytest
from click.testing import CliRunner

from solar_euv.cli.base import SolarEUVGroup
from solar_euv.cli.fetch import command as fetch_command
from solar_euv.exceptions import SolarEUVError
from solar_euv.sdo.download import FetchError
from solar_euv.sdo.fetch import fetch
from solar_euv.sdo.gong_archive import (_days, check_archive, day_url, gong_records, list_day,
                                        parse_listing, select_gong)

# What an Apache index of one day's directory at NSO looks like (names from the layout
# above; sorting links and the parent directory are in every such page).
APACHE_INDEX = """<html><head><title>Index of /oQR/zqa/202501/lezqa250109</title></head>
<body><h1>Index of /oQR/zqa/202501/lezqa250109</h1><table>
<tr><th><a href="?C=N;O=D">Name</a></th><th><a href="?C=M;O=A">Last modified</a></th></tr>
<tr><td><a href="/oQR/zqa/202501/">Parent Directory</a></td></tr>
<tr><td><a href="lezqa250109t0004.fits.gz">lezqa250109t0004.fits.gz</a></td></tr>
<tr><td><a href="lezqa250109t0134.fits.gz">lezqa250109t0134.fits.gz</a></td></tr>
<tr><td><a href='lezqa250109t0204.fits'>lezqa250109t0204.fits</a></td></tr>
<tr><td><a href="lebqa250109t0135.fits.gz">other product</a></td></tr>
<tr><td><a href="lezqa250109t0134.jpg">a picture</a></td></tr>
</table></body></html>"""

# The archive's files: (site, UTC time in the name).
FILES = [("bb", "2024-12-31T23:54"), ("le", "2025-01-09T00:04"), ("le", "2025-01-09T05:44"),
         ("td", "2025-01-09T06:04"), ("td", "2025-01-09T12:20"), ("bb", "2025-01-09T23:54"),
         ("le", "2017-01-01T06:04")]


def cli():
    group = SolarEUVGroup("solar-euv")
    group.add_command(fetch_command)
    return group


def _nso_name(site, t):
    d, hm = t[2:10].replace("-", ""), t[11:16].replace(":", "")
    return f"{t[:4]}{t[5:7]}/{site}zqa{d}/{site}zqa{d}t{hm}.fits.gz"


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    """A local stand-in for NSO's zqa archive; yields (url, list of requested paths)."""
    from solar_euv.synthetic.instruments import write_magnetogram

    root = tmp_path_factory.mktemp("nso") / "oQR" / "zqa"
    scratch = tmp_path_factory.mktemp("gong-src")
    for seed, (site, t) in enumerate(FILES):
        plain = write_magnetogram(scratch, "gong", t, size=96, seed=seed)
        target = root / _nso_name(site, t)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(gzip.compress(plain.read_bytes()))
    requests = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            requests.append(self.path)
            if "udzqa250112" in self.path:          # a listing the server always fails on
                self.send_error(500, "internal error")
                return
            pages = {"ctzqa250114": b'<a href="ct_zqa_20250114_0004.fits.gz">x</a>',  # names
                     "mlzqa250113": b"<html><body>Scheduled maintenance</body></html>"}
            special = [body for key, body in pages.items() if key in self.path]
            if not special:
                super().do_GET()
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(special[0])))
            self.end_headers()
            self.wfile.write(special[0])

    saved = {k: os.environ.get(k) for k in ("no_proxy", "NO_PROXY")}
    os.environ["no_proxy"] = os.environ["NO_PROXY"] = "127.0.0.1,localhost"   # never a proxy
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Handler, directory=str(root.parents[1])))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/oQR/zqa", requests
    finally:
        server.shutdown()
        server.server_close()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def test_day_directory_and_index_page():
    assert day_url("https://gong2.nso.edu/oQR/zqa/", "td", "2013-08-04T12:04") \
        == "https://gong2.nso.edu/oQR/zqa/201308/tdzqa130804/"
    directory = "https://gong2.nso.edu/oQR/zqa/202501/lezqa250109/"
    found = parse_listing(APACHE_INDEX, directory)
    assert [(site, t.isoformat()[:16], url.rsplit("/", 1)[1]) for site, t, url in found] == [
        ("le", "2025-01-09T00:04", "lezqa250109t0004.fits.gz"),
        ("le", "2025-01-09T01:34", "lezqa250109t0134.fits.gz"),
        ("le", "2025-01-09T02:04", "lezqa250109t0204.fits")]
    assert found[0][2] == directory + "lezqa250109t0004.fits.gz"
    # links are resolved against the page's own address (after a redirect), any form
    page = ('<a href="/oQR/zqa/202501/lezqa250109/lezqa250109t0004.fits.gz">'
            '<a href="//mirror.example/x/bbzqa991231t2359.fits.gz"><a href="bbzqa250230t0000.fits">')
    found = parse_listing(page, "https://nispdata.nso.edu/ftp/oQR/zqa/202501/lezqa250109/")
    assert [(site, t.isoformat(), url) for site, t, url in found] == [
        ("bb", "1999-12-31T23:59:00", "https://mirror.example/x/bbzqa991231t2359.fits.gz"),
        ("le", "2025-01-09T00:04:00",
         "https://nispdata.nso.edu/oQR/zqa/202501/lezqa250109/lezqa250109t0004.fits.gz")]
    with pytest.raises(SolarEUVError, match="'gong2.nso.edu/oQR/zqa' is not an http"):
        check_archive("gong2.nso.edu/oQR/zqa")


def test_nearest_file_from_any_site_within_the_tolerance():
    from astropy.time import Time

    files = [(site, Time(t + ":00", scale="utc"), f"u/{site}{t}") for site, t in FILES[1:]]
    files.append(("bb", Time("2025-01-09T06:04:00", scale="utc"), "u/bb-tie"))
    steps = ["2025-01-09T00:00", "2025-01-09T06:00", "2025-01-09T12:00", "2025-01-09T18:00"]
    chosen = select_gong(files, steps, "30min")
    picked = [r and (r.site, r.t_obs) for r in chosen.values()]
    assert picked == [("le", "2025-01-09T00:04:00.000Z"),
                      ("bb", "2025-01-09T06:04:00.000Z"),   # tie with td: bb is listed first
                      ("td", "2025-01-09T12:20:00.000Z"), None]
    assert select_gong(files, steps[2:3], "15min")["2025-01-09T12:00:00.000Z"] is None
    with pytest.raises(SolarEUVError, match="unknown GONG site"):
        gong_records(steps, sites=("xx",))
    # the days listed: every UTC day a step's window touches, a day or more wide too
    assert _days(["2025-01-09T00:10"], 1800) == ["2025-01-08", "2025-01-09"]
    assert _days(["2025-01-09T12:00"], 2 * 86400) == [f"2025-01-{d:02d}" for d in range(7, 12)]


def test_fetch_gong_lists_chooses_downloads_and_resumes(archive, tmp_path):
    from solar_euv.sdo.magnetograms import read_magnetogram

    url, requests = archive
    first = len(requests)
    out = tmp_path / "raw"
    steps = dict(start="2025-01-09T06:00", end="2025-01-09T18:00", cadence="6h")
    result = fetch(**steps, out_dir=out, passbands=(), instrument="gong", tolerance="30min",
                   gong_archive=url, retry_pause=0)
    assert [p.name for p in result.downloaded] == ["tdzqa250109t0604.fits.gz",
                                                   "tdzqa250109t1220.fits.gz"]
    assert result.missing == [("gong", "2025-01-09T18:00:00.000Z")]
    assert not list(out.glob("*.part"))
    # one listing per site for the only UTC day the grid touches: no JSOC, no e-mail
    listed = [p for p in requests[first:] if p.endswith("/")]
    assert sorted(listed) == sorted(f"/oQR/zqa/202501/{s}zqa250109/"
                                    for s in ("bb", "ct", "le", "ml", "td", "ud"))
    # what came is a GONG full-disk magnetogram to the package's reader
    magnetogram = read_magnetogram(result.downloaded[0], 64)
    assert magnetogram.instrument == "gong" and magnetogram.gauss.shape == (64, 64)
    # a rerun downloads nothing
    before = len(requests)
    again = fetch(**steps, out_dir=out, passbands=(), instrument="gong", tolerance="30min",
                  gong_archive=url, retry_pause=0)
    assert again.downloaded == [] and len(again.skipped) == 2
    assert not [p for p in requests[before:] if p.endswith(".gz")]


def test_cli_dry_run_across_a_month_boundary(archive, tmp_path):
    url, _ = archive
    result = CliRunner().invoke(cli(), ["fetch", "--instrument", "gong", "--passbands", "none",
                                        "--start", "2024-12-31T18:00", "--end",
                                        "2025-01-01T00:00", "--dry-run", str(tmp_path / "raw")],
                                env={"SOLAR_EUV_GONG_ARCHIVE": url})     # the archive by name
    assert result.exit_code == 0, result.output
    assert "2025-01-01T00:00:00.000Z  gong  NSO GONG zqa (bb)  2024-12-31T23:54:00.000Z" \
        in result.output
    assert "-> bbzqa241231t2354.fits.gz" in result.output
    assert "0 downloaded, 0 already present, 1 records chosen, 1 steps without" \
        in result.output
    assert not (tmp_path / "raw").exists()


def test_a_failing_listing_is_retried_then_one_sentence(archive, tmp_path):
    url, requests = archive
    before = len(requests)
    with pytest.raises(FetchError, match=r"refused the listing .*udzqa250112/: HTTP 500 "
                                         r"internal error; try again later"):
        list_day(url, "ud", "2025-01-12", retries=2, pause=0)
    assert requests[before:].count("/oQR/zqa/202501/udzqa250112/") == 3
    result = CliRunner().invoke(cli(), ["fetch", "--instrument", "gong", "--passbands", "none",
                                        "--start", "2025-01-12T06:00", "--end",
                                        "2025-01-12T06:00", "--gong-archive", url,
                                        "--retries", "0", str(tmp_path / "raw")])
    assert result.exit_code == 1
    assert "Error: NSO's GONG archive refused the listing" in result.output
    assert "Traceback" not in result.output
    with pytest.raises(FetchError, match=r"mlzqa250113/ is not a directory index"):
        list_day(url, "ml", "2025-01-13")
    with pytest.raises(FetchError, match=r"ctzqa250114/ lists FITS files but none named "
                                         r"ctzqaYYMMDDtHHMM.fits\[.gz\] \(for example "
                                         r"ct_zqa_20250114_0004.fits.gz\)"):
        list_day(url, "ct", "2025-01-14")
    result = CliRunner().invoke(cli(), ["fetch", "--instrument", "gong", "--passbands", "none",
                                        "--start", "2025-01-09", "--end", "2025-01-09",
                                        "--gong-archive", "gong2.nso.edu/oQR/zqa",
                                        str(tmp_path / "raw")])
    assert result.exit_code != 0 and "is not an http:// or https:// URL" in result.output
    assert "Traceback" not in result.output


def test_two_steps_one_file_and_a_partial_download(archive, tmp_path):
    url, requests = archive
    out = tmp_path / "raw"
    out.mkdir()
    (out / "tdzqa250109t0604.fits.gz.part").write_bytes(b"\x1f\x8b")   # an interrupted run
    steps = dict(start="2025-01-09T05:50", end="2025-01-09T06:10", cadence="10min")
    result = fetch(**steps, out_dir=out, passbands=(), instrument="gong", tolerance="10min",
                   gong_archive=url, retry_pause=0, jobs=2)
    # 05:50 -> le 05:44; 06:00 and 06:10 -> td 06:04, one file for two steps
    assert [r.filename for r in result.planned] == ["lezqa250109t0544.fits.gz",
                                                    "tdzqa250109t0604.fits.gz",
                                                    "tdzqa250109t0604.fits.gz"]
    assert sorted(p.name for p in result.downloaded) == ["lezqa250109t0544.fits.gz",
                                                         "tdzqa250109t0604.fits.gz"]
    assert gzip.decompress((out / "tdzqa250109t0604.fits.gz").read_bytes()).startswith(b"SIMPLE")
    assert not list(out.glob("*.part"))
    again = fetch(**steps, out_dir=out, passbands=(), instrument="gong", tolerance="10min",
                  gong_archive=url, retry_pause=0)
    assert again.downloaded == [] and len(again.skipped) == 2       # each file once


def test_offline_archive_is_one_sentence(tmp_path):
    with socket.socket() as sock:                 # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/oQR/zqa"
    with pytest.raises(FetchError, match=r"cannot reach NSO's GONG archive \(http://127"):
        list_day(url, "le", "2025-01-09")
    result = CliRunner().invoke(cli(), ["fetch", "--instrument", "gong", "--passbands", "none",
                                        "--start", "2025-01-09T06:00", "--end",
                                        "2025-01-09T06:00", "--gong-archive", url,
                                        str(tmp_path / "raw")])
    assert result.exit_code == 1
    message = result.output.rsplit("\r", 1)[-1]        # after the (empty) progress bar
    assert message.startswith("Error: cannot reach NSO's GONG archive")
    assert message.count("\n") == 1 and "Traceback" not in result.output


def test_missing_directory_is_no_data_and_other_errors_are_refusals():
    class Opener:
        def __init__(self, code):
            self.code = code

        def __call__(self, request, timeout=None):
            raise urllib.error.HTTPError(request.full_url, self.code, "x", {}, None)

    assert list_day("https://nso.example/oQR/zqa", "ud", "2025-01-09", opener=Opener(404)) == []
    with pytest.raises(FetchError, match=r"refused the listing https://nso.example/oQR/zqa/"
                                         r"202501/udzqa250109/: HTTP 403"):
        list_day("https://nso.example/oQR/zqa", "ud", "2025-01-09", opener=Opener(403))


def test_aia_beside_gong_still_needs_the_jsoc_email(tmp_path):
    with pytest.raises(SolarEUVError, match="JSOC exports need a registered e-mail"):
        fetch("2025-01-09", "2025-01-09", tmp_path, passbands="171", instrument="gong")


def test_gong_from_nso_beside_aia_from_jsoc(archive, tmp_path):
    import urllib.request

    from test_fetch import STEPS, FakeOpener, recorded_client

    url, _ = archive
    jsoc_files = FakeOpener()

    def opener(request, timeout=None):        # NSO: the local archive; JSOC: the fake
        if request.full_url.startswith(url):
            return urllib.request.urlopen(request, timeout=timeout)
        return jsoc_files(request, timeout=timeout)

    client = recorded_client()
    result = fetch(STEPS[0], STEPS[-1], tmp_path, passbands="171", instrument="gong",
                   email="me@example.org", client=client, opener=opener, gong_archive=url,
                   tolerance="6min", retry_pause=0)
    assert client.exports == ["aia.lev1_euv_12s[:#1001,#1002,#1010]{image}"]   # no hmi
    names = [p.name for p in result.downloaded]
    assert names[0] == "lezqa170101t0604.fits.gz"          # GONG first, then AIA
    assert len(names) == 4 and all(n.startswith("aia.lev1_euv_12s.") for n in names[1:])
    assert ("gong", "2017-01-01T00:00:00.000Z") in result.missing
