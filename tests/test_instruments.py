"""SOHO/MDI and NSO/GONG magnetograms: read by sunpy, cross-calibrated to HMI, refused when wrong."""
import numpy as np
import pytest
from astropy.io import fits
from click.testing import CliRunner

import solar_euv
from solar_euv.cli.main import cli
from solar_euv.exceptions import InputError
from solar_euv.scaling import solar_radius_px
from solar_euv.synthetic import instruments as si
from solar_euv.sdo.magnetograms import CROSS_CALIBRATION, read_magnetogram
from solar_euv.synthetic.sun import SyntheticSun

from test_predict import BANDS, SIZE, run_dir  # noqa: F401  (the tiny run fixture)

TIME = "2010-10-15T19:12:00"


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """One MDI-like and one GONG-like synthetic magnetogram of the same Sun (256 px)."""
    root = tmp_path_factory.mktemp("other")
    return {name: si.write_magnetogram(root / name, name, TIME, size=256, seed=0)
            for name in ("mdi", "gong")}


def test_sunpy_reads_the_synthetic_files_as_their_instruments(files):
    import sunpy.map
    from sunpy.map.sources import GONGMagnetogramMap, MDIMap

    mdi, gong = sunpy.map.Map(files["mdi"]), sunpy.map.Map(files["gong"])
    assert isinstance(mdi, MDIMap) and isinstance(gong, GONGMagnetogramMap)
    for m in (mdi, gong):
        assert abs((m.date.utc.datetime - np.datetime64(TIME).astype(object))
                   .total_seconds()) < 1e-3
        assert m.meta["synthetc"] is True
    # Same field of view as the full instruments: MDI ~1.97"/px at 1024, GONG ~2.5"/px at 860.
    assert float(mdi.scale.axis1.value) == pytest.approx(962.47 / 488.7 * 4, rel=1e-3)
    assert float(gong.scale.axis1.value) == pytest.approx(962.47 / 385.2 * 860 / 256,
                                                          rel=1e-3)


@pytest.mark.parametrize("instrument", ["mdi", "gong"])
def test_cross_calibrated_to_hmi_equivalent_gauss(files, instrument):
    mag = read_magnetogram(files[instrument], 256)
    assert mag.instrument == instrument
    assert abs((mag.time.utc.datetime - np.datetime64(TIME).astype(object))
               .total_seconds()) < 1e-3
    truth = SyntheticSun(0).magnetogram(mag.time, 256)
    r = np.hypot(*(np.mgrid[:256, :256] - 127.5))
    inside = np.isfinite(truth) & (r < 0.95 * solar_radius_px(256))
    slope = np.polyfit(truth[inside], mag.gauss[inside], 1)[0]
    # The file holds B_HMI / factor (blurred, noisy): without the published factor the
    # slope would be 0.6 (MDI 0.8 * 0.701, GONG 0.88 / 1.438); with it, near 1.
    assert 0.75 < slope < 1.05
    assert np.corrcoef(truth[inside], mag.gauss[inside])[0, 1] > 0.85
    assert np.all(mag.gauss[r > solar_radius_px(256)] == 0)


@pytest.mark.parametrize("instrument", ["mdi", "gong"])
def test_predict_writes_the_instrument_and_the_cross_calibration(run_dir, files, tmp_path,
                                                                 instrument):
    import sunpy.map
    from sunpy.map.sources import AIAMap

    out = tmp_path / "gen"
    result = CliRunner().invoke(cli, ["predict", str(run_dir), str(files[instrument]),
                                      "--out", str(out), "--format", "fits"])
    assert result.exit_code == 0, result.output
    written = sorted(out.glob("*.fits"))
    assert len(written) == len(BANDS)
    cal = CROSS_CALIBRATION[instrument]
    for path in written:
        with fits.open(path) as hdul:
            h = hdul[0].header
        assert h["SRCINST"] == {"mdi": "SOHO/MDI", "gong": "NSO/GONG"}[instrument]
        assert h["XCALFAC"] == cal.factor == {"mdi": 0.701, "gong": 1.438}[instrument]
        assert h["XCALDOI"] == "10.1007/s11207-025-02523-y"
        assert "Liu" in h["XCALREF"] and h["SOURCE"] == files[instrument].name
        assert h["SRCPLATE"] > 1.9
        with fits.open(files[instrument]) as src:       # QUALITY copied, not judged
            assert h.get("SRCQUALI") == src[0].header.get("QUALITY")
        m = sunpy.map.Map(path)
        assert isinstance(m, AIAMap) and m.data.shape == (SIZE, SIZE)
        assert abs((m.date.utc.datetime - np.datetime64(TIME).astype(object))
                   .total_seconds()) < 1e-3
    maps = solar_euv.generate(run_dir, sunpy.map.Map(files[instrument]))
    assert maps.instrument == instrument and maps["171"].meta["xcalfac"] == cal.factor
    if instrument == "mdi":                 # a set QUALITY bit is copied, the file still used
        flagged = tmp_path / files[instrument].name
        with fits.open(files[instrument]) as src:
            src[0].header["QUALITY"] = 512
            src.writeto(flagged)
        assert solar_euv.generate(run_dir, flagged)["171"].meta["srcquali"] == 512


@pytest.mark.parametrize("instrument, template, message", [
    ("mdi", "mdi.fd_Ic.20101015_230100_TAI.data.header",
     "is an MDI image that is not a line-of-sight magnetogram"),
    ("gong", "gong_halpha.header", "is a GONG h-alpha image"),
    ("mdi", "cutout", "is a cutout or partial field of view"),
    ("gong", "cutout", "is a cutout or partial field of view"),
])
def test_refuses_continuum_h_alpha_and_cutouts_naming_the_file(run_dir, tmp_path, instrument,
                                                                template, message,
                                                                assert_clean_failure):
    if template == "cutout":
        good = si.write_magnetogram(tmp_path / "raw", instrument, TIME, size=128)
        with fits.open(good) as hdul:
            data, header = hdul[0].data[:60, :70], hdul[0].header
        bad = tmp_path / f"cutout_{good.name}"
        fits.PrimaryHDU(data, header).writeto(bad)
    else:
        bad = si.write_magnetogram(tmp_path / "raw", instrument, TIME, size=128,
                                   template=template)
    with pytest.raises(InputError, match=message):
        read_magnetogram(bad, SIZE)
    result = CliRunner().invoke(cli, ["predict", str(run_dir), str(bad), "--out",
                                      str(tmp_path / "gen")])
    assert_clean_failure(result, bad)
    assert message in result.output and not (tmp_path / "gen").exists()


def test_refuses_synoptic_maps(tmp_path):
    from sunpy.data.test import get_test_filepath

    header = fits.Header.fromtextfile(get_test_filepath("gong_synoptic.header"))
    path = tmp_path / "mrzqs_synoptic.fits"
    fits.PrimaryHDU(np.zeros((180, 360), "float32"),
                    fits.Header([c for c in header.cards if c.keyword not in
                                 ("BITPIX", "NAXIS", "NAXIS1", "NAXIS2", "SIMPLE")])
                    ).writeto(path)
    with pytest.raises(InputError, match="synoptic .Carrington. map"):
        read_magnetogram(path, SIZE)


def test_prepare_pairs_mdi_and_gong_with_aia_in_hmi_equivalent_gauss(tmp_path):
    """The MDI/AIA overlap (May 2010 - April 2011): MDI and GONG files paired with AIA."""
    import json

    from solar_euv.sdo.prep import prepare_file

    raw = tmp_path / "raw"
    times = ["2010-10-15T19:12:00", "2010-10-16T19:12:00"]
    mdi = si.write_magnetogram(raw, "mdi", times[0], size=128)
    si.write_magnetogram(raw, "gong", times[1], size=128)
    prepared = prepare_file(mdi, 64)
    assert (prepared.kind, prepared.instrument) == ("hmi", "mdi")
    assert prepared.meta["cross_calibration"] == 0.701
    np.testing.assert_array_equal(prepared.data, read_magnetogram(mdi, 64).gauss)
    for t in times:
        SyntheticSun(0).write_time_step(raw, t, 128, passbands=("171",), hmi=False)
    out = tmp_path / "data"
    result = CliRunner().invoke(cli, ["prepare", str(raw), str(out), "--image-size", "64",
                                      "--passbands", "171", "--workers", "1", "-q",
                                      "--splits", "train=2010-05-01:2011-04-30"])
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["splits"]["train"]["examples"] == 2
    assert manifest["magnetograms"]["instruments"] == {"mdi": 1, "gong": 1}
    assert manifest["magnetograms"]["cross_calibration"]["mdi"]["factor"] == 0.701
    assert manifest["magnetograms"]["cross_calibration"]["gong"]["doi"] == \
        "10.1007/s11207-025-02523-y"


def test_one_sun_seen_by_hmi_mdi_and_gong(files, tmp_path):
    """The three instruments see the same synthetic Sun: their HMI-equivalent maps agree."""
    hmi_file = next(p for p in SyntheticSun(0).write_time_step(tmp_path, TIME, 512,
                                                                passbands=("171",))
                    if p.name.startswith("hmi"))
    grid = {"hmi": read_magnetogram(hmi_file, 128).gauss}
    grid.update({name: read_magnetogram(files[name], 128).gauss for name in ("mdi", "gong")})
    inside = np.hypot(*(np.mgrid[:128, :128] - 63.5)) < 0.9 * solar_radius_px(128)
    for name in ("mdi", "gong"):
        assert np.corrcoef(grid["hmi"][inside], grid[name][inside])[0, 1] > 0.85
        # cross-calibrated: same field strength (uncalibrated, the slope would be 0.7 / 1.4)
        slope = np.polyfit(grid["hmi"][inside], grid[name][inside], 1)[0]
        assert 0.85 < slope < 1.15


def test_other_soho_instruments_are_not_taken_for_mdi():
    from solar_euv.sdo.magnetogram_kind import magnetogram_instrument

    with pytest.raises(InputError, match="not a line-of-sight magnetogram this package reads "
                                         r"\(TELESCOP='SOHO', INSTRUME='EIT'\)"):
        magnetogram_instrument({"TELESCOP": "SOHO", "INSTRUME": "EIT", "WAVELNTH": 195},
                               "efz19970101.000000")


def test_prepare_skips_and_records_unusable_mdi_and_gong_files(tmp_path):
    """A refused MDI or GONG file in a batch is skipped and listed, as an SDO file is."""
    import json

    raw = tmp_path / "raw"
    times = ["2010-10-15T19:12:00", "2010-10-16T19:12:00", "2010-10-17T19:12:00"]
    si.write_magnetogram(raw, "mdi", times[0], size=128)
    continuum = si.write_magnetogram(tmp_path / "c", "mdi", times[1], size=128,
                                     template="mdi.fd_Ic.20101015_230100_TAI.data.header")
    continuum = continuum.rename(raw / "mdi_continuum.fits")
    good = si.write_magnetogram(tmp_path / "g", "gong", times[2], size=128)
    with fits.open(good) as hdul:
        fits.PrimaryHDU(hdul[0].data[:60, :70], hdul[0].header).writeto(raw / "gong_cut.fits")
    for t in times:
        SyntheticSun(0).write_time_step(raw, t, 128, passbands=("171",), hmi=False)
    out = tmp_path / "data"
    args = ["prepare", str(raw), str(out), "--image-size", "64", "--passbands", "171",
            "--workers", "1", "-q", "--splits", "train=2010-05-01:2011-04-30"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["splits"]["train"]["examples"] == 1
    assert manifest["magnetograms"]["instruments"] == {"mdi": 1}
    skipped = {s["file"]: s for s in manifest["skipped"]}
    assert skipped["mdi_continuum.fits"]["category"] == "product"
    assert "not a line-of-sight magnetogram" in skipped["mdi_continuum.fits"]["reason"]
    assert skipped["gong_cut.fits"]["category"] == "cutout"
    strict = CliRunner().invoke(cli, args[:2] + [str(tmp_path / "strict")] + args[3:]
                                + ["--strict"])
    assert strict.exit_code != 0 and "mdi_continuum.fits" in strict.output
