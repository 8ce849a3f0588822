"""Fuzzing of the FITS readers and of the command lines that read FITS files.

Seeded mutations of real files (sunpy's bundled AIA 171 level-1 file, the AIA
synoptic files in ../shared/real-sdo) and of synthetic-Sun files (HMI and AIA,
RICE-compressed): truncation at random offsets, header cards removed or given
values of the wrong type, NaN / Inf / all-zero data, wrong dimensionality,
bytes of a compressed HDU flipped, and non-FITS files named ``.fits``.  Every
case must end in :class:`~solar_euv.exceptions.InputError` naming the file, or
be accepted as a valid 2-D image, within a hang guard; a sample goes through
``solar-euv prepare`` and ``solar-euv predict``, which must exit non-zero with
one line ``Error: <path>: ...`` and no traceback.

``SOLAR_EUV_FUZZ_N`` (default 4) is the number of mutations drawn per
mutation kind and source file, ``SOLAR_EUV_FUZZ_SEED`` (default 0) the seed;
``SOLAR_EUV_FUZZ_N=50 python -m pytest tests/test_fuzz.py`` is a long run.
The counts of inputs tried per reader are printed when the module ends.
"""
import collections
import contextlib
import os
import pathlib
import signal
import warnings

import numpy as np
import pytest
from astropy.io import fits
from click.testing import CliRunner

from solar_euv.exceptions import InputError

N = int(os.environ.get("SOLAR_EUV_FUZZ_N", "4"))
SEED = int(os.environ.get("SOLAR_EUV_FUZZ_SEED", "0"))
HANG_GUARD_S = 120          # per input: a hang guard, not a performance check
CLI_SAMPLE = max(4, N // 4)  # cases per source sent through the CLIs
CLI_N = max(1, N // 8)      # mutations per kind from which the CLI sample is drawn

COUNTS = collections.Counter()   # reader -> inputs tried
OUTCOMES = collections.Counter()  # (reader, "refused" | "accepted") -> n

# Keywords worth removing or corrupting (the rest are drawn at random).
KEY_CARDS = ("SIMPLE", "BITPIX", "NAXIS", "NAXIS1", "NAXIS2", "XTENSION", "ZIMAGE",
             "ZBITPIX", "ZNAXIS", "ZNAXIS1", "ZNAXIS2", "ZCMPTYPE", "ZTILE1", "TFORM1",
             "TTYPE1", "PCOUNT", "THEAP", "TELESCOP", "INSTRUME", "WAVELNTH", "EXPTIME",
             "DATE-OBS", "T_OBS", "CDELT1", "CDELT2", "CRPIX1", "CRPIX2", "CRVAL1",
             "CRVAL2", "RSUN_OBS", "DSUN_OBS", "CROTA2", "QUALITY", "BSCALE", "BZERO",
             "BLANK", "CONTENT", "BUNIT", "CTYPE1", "CUNIT1", "R_SUN", "END")
WRONG_VALUES = ("'not a number'", "T", "F", "''", "1E999", "NaN", "-0", "99999999999999999999",
                "(1.0, 2.0)", "'2011-13-45T99:99:99'")


@pytest.fixture(scope="module", autouse=True)
def report_counts(module_report):
    """Print the number of inputs tried per reader when the module ends."""
    module_report(f"fuzzed inputs per reader (SOLAR_EUV_FUZZ_N={N}, seed {SEED}):",
                  lambda: [f"{reader}: {n} (refused {OUTCOMES[reader, 'refused']}, "
                           f"accepted {OUTCOMES[reader, 'accepted']})"
                           for reader, n in sorted(COUNTS.items())])


class Hang(Exception):
    """Raised by the hang guard."""


@contextlib.contextmanager
def hang_guard(seconds=HANG_GUARD_S):
    def _alarm(signum, frame):
        raise Hang(f"no answer within {seconds} s")

    old = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


# --------------------------------------------------------------------------
# mutations (bytes -> bytes), all driven by one numpy Generator


def _cards(blob):
    """(offset, keyword) of every 80-byte header card of every HDU."""
    out = []
    pos = 0
    while pos + 2880 <= len(blob):
        block = blob[pos:pos + 2880]
        if not (block.startswith(b"SIMPLE") or block.startswith(b"XTENSION")):
            break
        end = None
        p = pos
        while p + 80 <= len(blob):
            key = blob[p:p + 8].decode("ascii", "replace").strip()
            out.append((p, key))
            p += 80
            if key == "END":
                end = p
                break
        if end is None:
            break
        header_end = -(-end // 2880) * 2880
        hdr = fits.Header.fromstring(blob[pos:header_end].decode("ascii", "replace"))
        try:
            nbytes = _data_bytes(hdr)
        except Exception:
            break
        pos = header_end + -(-nbytes // 2880) * 2880
    return out


def _data_bytes(hdr):
    naxis = int(hdr.get("NAXIS", 0))
    if naxis == 0:
        return 0
    n = abs(int(hdr["BITPIX"])) // 8
    for i in range(1, naxis + 1):
        n *= int(hdr[f"NAXIS{i}"])
    return (n + int(hdr.get("PCOUNT", 0))) * int(hdr.get("GCOUNT", 1))


def truncate(blob, rng):
    cut = int(rng.integers(0, len(blob)))
    if rng.random() < 0.3:          # a whole number of blocks: passes the size check
        cut = cut // 2880 * 2880
    return blob[:cut]


def remove_card(blob, rng):
    cards = [c for c in _cards(blob) if c[1]]
    chosen = [c for c in cards if c[1] in KEY_CARDS]
    offset, _ = chosen[rng.integers(len(chosen))] if chosen and rng.random() < 0.8 \
        else cards[rng.integers(len(cards))]
    return blob[:offset] + b" " * 80 + blob[offset + 80:]


def wrong_type(blob, rng):
    cards = [c for c in _cards(blob) if c[1] and c[1] not in ("END", "COMMENT", "HISTORY")]
    chosen = [c for c in cards if c[1] in KEY_CARDS]
    offset, key = chosen[rng.integers(len(chosen))] if chosen and rng.random() < 0.8 \
        else cards[rng.integers(len(cards))]
    value = WRONG_VALUES[rng.integers(len(WRONG_VALUES))]
    card = f"{key:<8}= {value:>20}".ljust(80)[:80].encode("ascii")
    return blob[:offset] + card + blob[offset + 80:]


def flip_bytes(blob, rng, *, data_only=True):
    """Overwrite a few bytes (after the first header when ``data_only``)."""
    cards = _cards(blob)
    start = 2880 if len(cards) and data_only else 0
    start = min(start, len(blob) - 1)
    arr = bytearray(blob)
    for _ in range(int(rng.integers(1, 9))):
        pos = int(rng.integers(start, len(arr)))
        width = int(rng.integers(1, 64))
        arr[pos:pos + width] = rng.integers(0, 256, min(width, len(arr) - pos),
                                            dtype=np.uint8).tobytes()
    return bytes(arr)


def not_fits(blob, rng):
    kinds = [b"", b"<html><body>404 Not Found</body></html>\n",
             b"\x1f\x8b\x08\x00" + rng.integers(0, 256, 2000, dtype=np.uint8).tobytes(),
             b"SIMPLE  =                    T" + b"\0" * 100,
             rng.integers(0, 256, 2880 * 2, dtype=np.uint8).tobytes(),
             b"SIMPLE  =                    T".ljust(2880, b" ")]
    return kinds[int(rng.integers(len(kinds)))]


def _image_hdu_index(hdul):
    for i, hdu in enumerate(hdul):
        if hdu.is_image and hdu.header.get("NAXIS", 0):
            return i
    raise AssertionError("source file holds no image")


def _rewrite(source, path, fn):
    """Rewrite the image of ``source`` through ``fn(header, data) -> (header, data)``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with fits.open(source) as hdul:
            i = _image_hdu_index(hdul)
            header = hdul[i].header.copy()
            data = np.asarray(hdul[i].data, dtype="float32")
            compressed = isinstance(hdul[i], fits.CompImageHDU)
        header, data = fn(header, data)
        for key in ("BSCALE", "BZERO", "BLANK", "CHECKSUM", "DATASUM"):
            header.remove(key, ignore_missing=True)
        if compressed and data.ndim == 2:
            hdu = fits.CompImageHDU(data=data, header=header, compression_type="RICE_1",
                                    quantize_level=16.0)
            fits.HDUList([fits.PrimaryHDU(), hdu]).writeto(path, overwrite=True)
        else:
            fits.PrimaryHDU(data=data, header=header).writeto(path, overwrite=True)


def _data_mutations(rng):
    def nan(h, d):
        return h, np.full_like(d, np.nan)

    def inf(h, d):
        d = d.copy()
        mask = rng.random(d.shape) < rng.choice([0.01, 0.5, 1.0])
        d[mask] = rng.choice([np.inf, -np.inf])
        return h, d

    def zero(h, d):
        return h, np.zeros_like(d)

    def huge(h, d):
        return h, np.full_like(d, 3e38)

    def three_d(h, d):
        return h, np.stack([d, d])

    def one_d(h, d):
        return h, d[d.shape[0] // 2].copy()

    def tiny(h, d):
        return h, d[:2, :2].copy()

    def cutout(h, d):
        n = d.shape[0] // 4
        return h, d[n:-n, n:-n].copy()

    return {"nan": nan, "inf": inf, "zero": zero, "huge": huge, "3d": three_d,
            "1d": one_d, "2x2": tiny, "cutout": cutout}


BYTE_MUTATIONS = {"truncate": truncate, "remove_card": remove_card, "wrong_type": wrong_type,
                  "flip_data": flip_bytes,
                  "flip_any": lambda b, r: flip_bytes(b, r, data_only=False),
                  "not_fits": not_fits}


def make_cases(source, out_dir, rng, n=N):
    """Mutated copies of ``source`` in ``out_dir``: a list of (kind, path)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    blob = source.read_bytes()
    stem = source.name.split(".fits")[0].replace(".", "_")
    cases = []
    for kind, fn in BYTE_MUTATIONS.items():
        for i in range(n):
            path = out_dir / f"{stem}.{kind}.{i}.fits"
            path.write_bytes(fn(blob, rng))
            cases.append((kind, path))
    for kind, fn in _data_mutations(rng).items():
        path = out_dir / f"{stem}.{kind}.fits"
        _rewrite(source, path, fn)
        cases.append((kind, path))
    return cases


# --------------------------------------------------------------------------
# sources


@pytest.fixture(scope="module")
def synthetic_sources(tmp_path_factory):
    from solar_euv.synthetic.sample import write_sample

    raw = tmp_path_factory.mktemp("fuzz-synthetic")
    write_sample(raw, ["2017-08-01T12:00:00"], size=256, seed=0, passbands=("171",))
    return raw


def _sources(request):
    from sunpy.data.test import get_test_filepath

    which = request.param
    if which == "sunpy-aia171":
        return [pathlib.Path(get_test_filepath("aia_171_level1.fits"))]
    if which == "synthetic":
        raw = request.getfixturevalue("synthetic_sources")
        return sorted(raw.glob("*.fits"))
    real = request.getfixturevalue("real_sdo_dir")
    names = ["AIAsynoptic0171.fits", "AIAsynoptic0193.fits"]
    return [real / n for n in names]


@pytest.fixture(params=["sunpy-aia171", "synthetic", "real-sdo"])
def sources(request):
    return _sources(request)


def _check_one(reader, call, path):
    """Run ``call(path)``; it must refuse with InputError naming ``path`` or accept."""
    COUNTS[reader] += 1
    with hang_guard(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            result = call(path)
        except InputError as err:
            assert err.path == str(path), (reader, path, str(err))
            assert "\n" not in str(err), str(err)
            OUTCOMES[reader, "refused"] += 1
            return None
    OUTCOMES[reader, "accepted"] += 1
    return result


def _read(path):
    from solar_euv.sdo.io import read_sdo

    image = read_sdo(path)
    assert image.map.data.ndim == 2 and np.isfinite(image.map.data).any()
    return image


def _prepare(path):
    from solar_euv.sdo.prep import prepare_file

    prepared = prepare_file(path, 64)
    assert prepared.data.shape == (64, 64) and np.isfinite(prepared.data).all()
    return prepared


def _header(path):
    from solar_euv.dataset.preparing import describe_file

    return describe_file(path)


def test_readers_refuse_or_accept_every_mutated_file(sources, tmp_path):
    rng = np.random.default_rng([SEED, len(sources[0].name)])
    for source in sources:
        for kind, path in make_cases(source, tmp_path / source.stem, rng):
            _check_one("read_header (prepare scan)", _header, path)
            _check_one("read_sdo", _read, path)
            _check_one("prepare_file", _prepare, path)
    assert COUNTS["read_sdo"] > 0


# --------------------------------------------------------------------------
# command lines

def _invoke(args):
    from solar_euv.cli.main import cli

    with hang_guard():
        return CliRunner().invoke(cli, args)


def test_prepare_cli_on_mutated_files(synthetic_sources, real_sdo_dir, tmp_path,
                                      assert_clean_failure):
    """A mutated AIA file beside a good magnetogram: prepare refuses it cleanly or uses it."""
    from sunpy.data.test import get_test_filepath

    rng = np.random.default_rng([SEED, 1])
    hmi = next(synthetic_sources.glob("hmi.*.fits"))
    aia = next(synthetic_sources.glob("aia.*.171.*.fits"))
    pool = []
    for source in (aia, hmi, real_sdo_dir / "AIAsynoptic0171.fits",
                   pathlib.Path(get_test_filepath("aia_171_level1.fits"))):
        cases = make_cases(source, tmp_path / "cases" / source.stem, rng, n=CLI_N)
        picks = rng.choice(len(cases), size=min(CLI_SAMPLE, len(cases)), replace=False)
        pool.extend((source, cases[i][1]) for i in sorted(picks))
    for i, (source, bad) in enumerate(pool):
        raw = tmp_path / f"raw{i}"
        raw.mkdir()
        if source != hmi:
            (raw / hmi.name).symlink_to(hmi)
        (raw / bad.name).symlink_to(bad)
        COUNTS["solar-euv prepare"] += 1
        result = _invoke(["prepare", str(raw), str(tmp_path / f"out{i}"), "--image-size", "64",
                          "--workers", "1", "-q", "--strict", "--splits",
                          "all=2000-01-01:2030-12-31"])
        if result.exit_code == 0:
            OUTCOMES["solar-euv prepare", "accepted"] += 1
            assert (tmp_path / f"out{i}" / "manifest.json").is_file()
            continue
        OUTCOMES["solar-euv prepare", "refused"] += 1
        assert_clean_failure(result, raw / bad.name)


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    from test_predict import _make_run

    return _make_run(tmp_path_factory.mktemp("fuzz-run") / "run")


def test_predict_cli_on_mutated_magnetograms(tiny_model, synthetic_sources, tmp_path,
                                             assert_clean_failure):
    rng = np.random.default_rng([SEED, 2])
    hmi = next(synthetic_sources.glob("hmi.*.fits"))
    cases = make_cases(hmi, tmp_path / "cases", rng, n=CLI_N)
    picks = rng.choice(len(cases), size=min(2 * CLI_SAMPLE, len(cases)), replace=False)
    for i in sorted(picks):
        _, bad = cases[i]
        COUNTS["solar-euv predict"] += 1
        result = _invoke(["predict", str(tiny_model), str(bad), "--out",
                          str(tmp_path / f"gen{i}"), "--format", "fits", "-q"])
        if result.exit_code == 0:
            OUTCOMES["solar-euv predict", "accepted"] += 1
            assert list((tmp_path / f"gen{i}").glob("*.fits"))
            continue
        OUTCOMES["solar-euv predict", "refused"] += 1
        assert_clean_failure(result, bad)


