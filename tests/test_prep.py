"""Calibration and resampling onto the common grid (solar_euv.sdo.prep, .calibration).

Ground truth comes from three independent places: fields rendered analytically
through astropy's WCS into files with a roll and an off-centre disk, the
synthetic Sun (when solar_euv.synthetic exists), and aiapy's own
``register``; the real synoptic AIA files check the limb position.
"""
import warnings

import astropy.units as u
import numpy as np
import pytest
from astropy.io import fits
from astropy.time import Time
from scipy import ndimage

from solar_euv.exceptions import InputError, SolarEUVError, SolarEUVWarning
from solar_euv.scaling import disk_center_px, disk_mask, solar_radius_px
from solar_euv.sdo.calibration import (correction_table_info, correction_table_path,
                                       degradation_factor)
from solar_euv.sdo.batch import prepare_files
from solar_euv.sdo.io import read_sdo
from solar_euv.sdo.prep import (PreparedImage, prepare_aia, prepare_file, prepare_hmi,
                                prepare_hmi_files)
from solar_euv.sdo.resample import resample_to_grid
from test_io import AIA_171, RSUN_OBS, hmi_pattern, render, write_hmi_like

TIME = "2014-01-01T00:00:09.340"


def aia_pattern(tx, ty):
    """A smooth positive intensity (DN/s) as a function of helioprojective arcsec."""
    return 200.0 + 120.0 * np.cos(tx / 140.0) * np.sin(ty / 190.0) + 40.0 * tx / RSUN_OBS


def write_aia_like(path, size=256, crota2=0.4, shift=(4.6, -3.2), level=1.0,
                   exptime=2.0, bunit="DN", degradation=True):
    """A full-disk AIA 171 file holding ``aia_pattern`` in DN (times EXPTIME, degraded)."""
    scale = RSUN_OBS / (0.39 * size)
    header = fits.Header()
    header.update(NAXIS=2, NAXIS1=size, NAXIS2=size, TELESCOP="SDO/AIA", INSTRUME="AIA_3",
                  WAVELNTH=171, WAVEUNIT="angstrom", EXPTIME=exptime, IMG_TYPE="LIGHT",
                  T_OBS=TIME + "Z", LVL_NUM=level, QUALITY=0, BUNIT=bunit,
                  CTYPE1="HPLN-TAN", CTYPE2="HPLT-TAN", CUNIT1="arcsec", CUNIT2="arcsec",
                  CDELT1=scale, CDELT2=scale, CRPIX1=(size + 1) / 2 + shift[0],
                  CRPIX2=(size + 1) / 2 + shift[1], CRVAL1=0.0, CRVAL2=0.0, CROTA2=crota2,
                  RSUN_OBS=RSUN_OBS, RSUN_REF=696000000.0, DSUN_OBS=149597870691.0 * 0.9833,
                  CRLN_OBS=100.0, CRLT_OBS=-3.0)
    header["DATE-OBS"] = TIME
    rate = render(header, aia_pattern, RSUN_OBS, 20.0)
    factor = degradation_factor("171", TIME) if degradation else 1.0
    gain = (exptime if bunit == "DN" else 1.0) * factor
    fits.PrimaryHDU(rate * np.float32(gain), header=header).writeto(path, overwrite=True)
    return path


def grid_world(size):
    """Helioprojective arcsec of every pixel of the common grid (the specification)."""
    c, r = disk_center_px(size), solar_radius_px(size)
    yy, xx = np.mgrid[0:size, 0:size]
    scale = RSUN_OBS / r
    return (xx - c) * scale, (yy - c) * scale


def fit_limb(image, centre, radius, n_angles=360, span=0.06):
    """Circle through the steepest radial intensity drop along ``n_angles`` rays."""
    theta = np.linspace(0, 2 * np.pi, n_angles, endpoint=False)
    r = np.arange((1 - span) * radius, (1 + span) * radius, 0.1)
    smooth = ndimage.gaussian_filter(np.asarray(image, float), 1.0)
    xs = centre + np.outer(np.cos(theta), r)
    ys = centre + np.outer(np.sin(theta), r)
    prof = ndimage.map_coordinates(smooth, [ys.ravel(), xs.ravel()], order=1).reshape(xs.shape)
    edge = r[np.argmin(np.gradient(prof, axis=1), axis=1)]
    px, py = centre + edge * np.cos(theta), centre + edge * np.sin(theta)
    keep = np.ones_like(px, bool)
    for _ in range(3):
        design = np.column_stack([px[keep], py[keep], np.ones(keep.sum())])
        d, e, f = np.linalg.lstsq(design, -(px[keep] ** 2 + py[keep] ** 2), rcond=None)[0]
        cx, cy = -d / 2, -e / 2
        rad = np.sqrt(cx ** 2 + cy ** 2 - f)
        res = np.hypot(px - cx, py - cy) - rad
        keep = np.abs(res) < max(3 * np.median(np.abs(res[keep])), 0.5)
    return cx, cy, rad


# -- degradation correction ----------------------------------------------------------

def test_degradation_matches_aiapy_with_shipped_table():
    from aiapy.calibrate import degradation
    from aiapy.calibrate.util import get_correction_table

    table = get_correction_table(correction_table_path())
    for passband in ("94", "171", "304", "1600", "1700"):
        expected = degradation(int(passband) * u.AA, Time("2016-03-01T12:00:00"),
                               correction_table=table)
        assert degradation_factor(passband, "2016-03-01T12:00:00") == pytest.approx(
            float(expected[0]), rel=1e-12)
    assert 0.5 < degradation_factor(171 * u.AA, "2013-01-01") < 1.0


def test_correction_table_by_path(tmp_path):
    copy = tmp_path / "aia_V8_copy_response_table.txt"
    copy.write_bytes(correction_table_path().read_bytes())
    assert degradation_factor("193", "2012-05-05", copy) == degradation_factor("193",
                                                                             "2012-05-05")
    info = correction_table_info(copy)
    assert info["name"] == copy.name and len(info["sha256"]) == 64
    with pytest.raises(InputError, match="nothing.txt: does not exist"):
        degradation_factor("193", "2012-05-05", tmp_path / "nothing.txt")
    bad = tmp_path / "bad.txt"
    bad.write_text("not a table\n")
    with pytest.raises(InputError, match="bad.txt: is not a readable AIA correction table"):
        degradation_factor("193", "2012-05-05", bad)


def test_degradation_errors():
    with pytest.raises(SolarEUVError, match="no degradation correction for AIA 171 at 2009"):
        degradation_factor("171", "2009-06-01")
    with pytest.raises(SolarEUVError, match="unknown AIA passband '4500'"):
        degradation_factor("4500", "2012-01-01")
    with pytest.warns(SolarEUVWarning, match="extrapolated past the correction table"):
        with pytest.raises(SolarEUVError, match="AIA 304 at 2024.* not physical"):
            degradation_factor("304", "2024-10-04")


# -- geometry and units against fields rendered through astropy's WCS ----------------

@pytest.mark.parametrize("crota2,compressed", [(179.93, True), (0.0, False), (-0.8, True)])
def test_hmi_recovers_rendered_field(tmp_path, crota2, compressed):
    path = write_hmi_like(tmp_path / "hmi.fits", size=256, crota2=crota2,
                          compressed=compressed)
    size = 64
    out = prepare_hmi(path, size)
    assert out.dtype == np.float32 and out.shape == (size, size)
    assert np.all(out[~disk_mask(size)] == 0.0)               # off-disk 0 G
    truth = hmi_pattern(*grid_world(size))
    # Within 0.85 R (the cubic spline rings for ~2 px inside the limb, where the
    # rendered field jumps to the 0 that replaces NaN): 2 G of a 400 G
    # pattern, whereas half a pixel of misplacement gives ~20 G.
    inner = disk_mask(size, 0.85)
    assert np.abs(out - truth)[inner].max() < 2.0


@pytest.mark.parametrize("level,crota2,shift", [(1.0, 0.4, (4.6, -3.2)),
                                                (1.5, 0.0, (0.0, 0.0))])
def test_aia_recovers_rendered_intensity(tmp_path, level, crota2, shift):
    path = write_aia_like(tmp_path / "aia.fits", crota2=crota2, shift=shift, level=level)
    size = 64
    out = prepare_aia(path, size)
    truth = aia_pattern(*grid_world(size))
    inner = disk_mask(size, 0.85)
    # DN -> DN/s and the degradation divided out: 1.5 DN/s of a 120 DN/s
    # pattern (half a pixel of misplacement gives ~12 DN/s).
    assert np.abs(out - truth)[inner].max() < 1.5
    assert out[inner].sum() / truth[inner].sum() == pytest.approx(1.0, abs=0.002)


def test_aia_already_per_second_and_degradation_off(tmp_path):
    path = write_aia_like(tmp_path / "aia.fits", bunit="DN/s", degradation=False)
    out = prepare_aia(path, 64, degradation=False)
    inner = disk_mask(64, 0.85)
    assert np.abs(out - aia_pattern(*grid_world(64)))[inner].max() < 1.5


def test_prepare_file_result(tmp_path):
    path = write_aia_like(tmp_path / "aia.fits")
    result = prepare_file(path, 64)
    assert isinstance(result, PreparedImage)
    assert (result.kind, result.instrument, result.passband) == ("171", "aia", "171")
    assert result.time == TIME + "Z"
    assert result.path == str(path) and result.size == 64
    assert result.radius_px == pytest.approx(24.5)
    assert result.meta["exptime"] == 2.0
    assert result.meta["degradation"] == pytest.approx(degradation_factor("171", TIME))
    hmi = prepare_file(write_hmi_like(tmp_path / "hmi.fits", size=128), 64)
    assert (hmi.kind, hmi.instrument, hmi.passband) == ("hmi", "hmi", None)
    assert hmi.time == "2013-12-31T23:59:25.000Z"


def test_map_input_and_wrong_kind(tmp_path):
    hmi_path = write_hmi_like(tmp_path / "hmi.fits", size=128)
    from_path = prepare_hmi(hmi_path, 64)
    from_map = prepare_hmi(read_sdo(hmi_path).map, 64)        # full resolution in memory
    assert np.allclose(from_path, from_map, atol=1e-3)
    with pytest.raises(InputError, match="is an AIA 171 A image, not an HMI magnetogram"):
        prepare_hmi(AIA_171, 64)
    with pytest.raises(InputError, match="is an HMI magnetogram, not an AIA image"):
        prepare_aia(hmi_path, 64)


def test_prepare_hmi_files_reads_every_file_before_preparing(tmp_path):
    hmi_path = write_hmi_like(tmp_path / "hmi.fits", size=128)
    images, gauss = prepare_hmi_files([hmi_path, hmi_path], 64)
    assert [i.path for i in images] == [str(hmi_path)] * 2 and gauss.shape == (2, 64, 64)
    np.testing.assert_array_equal(gauss[1], prepare_hmi(read_sdo(hmi_path, grid_size=64), 64))
    # The AIA file is refused, named as given, before the unreadable one is read.
    with pytest.raises(InputError, match="is an AIA 171 A image, not an HMI magnetogram"):
        prepare_hmi_files([hmi_path, AIA_171, tmp_path / "absent.fits"], 64)


# -- agreement with aiapy on a real level-1 file --------------------------------------

def test_agrees_with_aiapy_register_on_real_level1():
    from aiapy.calibrate import register
    from astropy.coordinates import SkyCoord

    image = read_sdo(AIA_171)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = register(image.map)
    centre = ref.wcs.world_to_pixel(SkyCoord(0 * u.arcsec, 0 * u.arcsec,
                                             frame=ref.coordinate_frame))
    scale = float(ref.scale[0].to_value(u.arcsec / u.pix))
    mine = resample_to_grid(image.map, ref.data.shape, (float(centre[0]), float(centre[1])),
                            scale)
    yy, xx = np.mgrid[0:ref.data.shape[0], 0:ref.data.shape[1]]
    radius = float(ref.rsun_obs.to_value(u.arcsec)) / scale
    disk = np.hypot(xx - centre[0], yy - centre[1]) < 0.98 * radius
    assert np.corrcoef(mine[disk], ref.data[disk])[0, 1] > 0.99
    assert mine[disk].sum() / ref.data[disk].sum() == pytest.approx(1.0, abs=0.01)


# -- real full-disk files: limb where the specification puts it ----------------------

@pytest.mark.parametrize("name,size", [("AIAsynoptic1700.fits", 1024),
                                       ("AIAsynoptic1600.fits", 512)])
def test_real_synoptic_limb_centre_and_radius(real_sdo_dir, name, size):
    out = prepare_aia(real_sdo_dir / name, size, degradation=False)
    c, r = disk_center_px(size), solar_radius_px(size)
    cx, cy, radius = fit_limb(out, c, r)
    # The UV limb lies about 1.5" above the photospheric radius RSUN_OBS refers to.
    assert abs(cx - c) < 1.0 and abs(cy - c) < 1.0
    assert abs(radius - r) < 1.0


def test_real_level15_is_only_rescaled(real_sdo_dir):
    """Level 1.5 (CROTA2 = 0, centred): the output is a pure zoom about the centre."""
    path = real_sdo_dir / "AIAsynoptic0171.fits"
    out = prepare_aia(path, 1024, degradation=False)
    smap = read_sdo(path).map
    zoom = float(smap.rsun_obs.to_value(u.arcsec)) / 392.0 / float(smap.meta["cdelt1"])
    c = 511.5
    cin = float(smap.meta["crpix1"]) - 1
    expected = ndimage.affine_transform(
        smap.data.astype(np.float32), np.diag([zoom, zoom]), offset=cin - zoom * c,
        order=3) / float(smap.meta["exptime"])
    disk = disk_mask(1024, 0.98)
    assert np.corrcoef(out[disk], expected[disk])[0, 1] > 0.9995


def test_real_2024_304_needing_an_impossible_correction_is_refused_naming_it(real_sdo_dir):
    """The V8 table extrapolates AIA 304 in October 2024 to a negative factor."""
    path = real_sdo_dir / "AIAsynoptic0304.fits"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SolarEUVWarning)   # "extrapolated past the table"
        with pytest.raises(InputError) as info:
            prepare_file(path, 64)
        assert info.value.path == str(path)
        message = str(info.value)
        assert message.startswith(f"{path}: cannot be calibrated: ")
        assert "AIA 304 at 2024-10-04" in message and "not physical" in message
        assert "--correction-table" in message and "\n" not in message
        # Without the correction the same file is usable.
        assert prepare_file(path, 64, degradation=False).meta["degradation"] == 1.0


def test_time_before_the_table_is_refused_naming_the_file(tmp_path):
    """Through prepare_file the calibration's error names the image, not only the time."""
    path = write_aia_like(tmp_path / "aia.fits", degradation=False)
    with fits.open(path, mode="update") as hdul:
        hdul[0].header["T_OBS"] = "2009-06-01T00:00:00Z"
        hdul[0].header["DATE-OBS"] = "2009-06-01T00:00:00"
    with pytest.raises(InputError, match=r"aia\.fits: cannot be calibrated: no degradation "
                                         r"correction for AIA 171 at 2009"):
        prepare_file(path, 64)


@pytest.mark.parametrize("value,size", [(3e38, 32), (3e38, 128), (1e37, 64), (2e30, 64)])
def test_huge_finite_values_are_refused_without_overflow_warnings(tmp_path, value, size):
    """Values near float32's limit: a clear refusal, no RuntimeWarning, no NaN output.

    At 32 and 64 px the 128 px file is averaged in 4x4 and 2x2 blocks while it
    is read (3e38 overflows that float32 sum); at 128 px it is not binned.
    """
    path = write_aia_like(tmp_path / "huge.fits", size=128)
    with fits.open(path, mode="update") as hdul:
        hdul[0].data[:] = np.float32(value)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        with pytest.raises(InputError) as info:
            prepare_file(path, size)
    assert info.value.path == str(path)
    assert "damaged data, not an SDO image" in str(info.value)
    assert "beyond 1e+30 is refused" in str(info.value)


def test_large_but_representable_values_still_work(tmp_path):
    """Below MAX_ABS_VALUE nothing overflows: the result is finite and scaled as usual."""
    from solar_euv.sdo.resample import MAX_ABS_VALUE

    path = write_aia_like(tmp_path / "big.fits", size=128, degradation=False)
    with fits.open(path, mode="update") as hdul:
        hdul[0].data[:] = np.float32(MAX_ABS_VALUE / 10)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        out = prepare_file(path, 32, degradation=False).data
    inner = disk_mask(32, 0.8)
    assert np.isfinite(out).all()
    np.testing.assert_allclose(out[inner], MAX_ABS_VALUE / 10 / 2.0, rtol=1e-3)


def test_resample_refuses_a_block_sum_that_overflows():
    """A map given in memory: the overflowed block is not quietly filled as missing."""
    import sunpy.map

    image = read_sdo(AIA_171)
    data = np.full(image.map.data.shape, 3e38, dtype=np.float32)
    smap = sunpy.map.Map(data, image.map.meta)
    scale = 4 * abs(float(smap.meta["cdelt1"]))                # 4x4 blocks before the warp
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        with pytest.raises(SolarEUVError, match="too large to average in float32"):
            resample_to_grid(smap, (32, 32), (15.5, 15.5), scale)


# -- many files in parallel -----------------------------------------------------------

def test_prepare_files_parallel_in_order_and_skipping(tmp_path):
    paths = [write_hmi_like(tmp_path / "hmi.fits", size=128),
             write_aia_like(tmp_path / "aia.fits", size=128)]
    bad = tmp_path / "bad.fits"
    bad.write_text("no FITS here\n" * 300)
    serial = list(prepare_files(paths, 64, workers=1, progress=False))
    with pytest.warns(SolarEUVWarning, match=r"skipped: .*bad\.fits: is not a FITS file"):
        parallel = list(prepare_files([paths[0], bad, paths[1]], 64, workers=2,
                                      progress=False, on_error="warn"))
    assert [p.kind for p in parallel] == ["hmi", "171"]
    for a, b in zip(serial, parallel):
        assert np.array_equal(a.data, b.data)
    with pytest.raises(InputError, match="bad.fits: is not a FITS file"):
        list(prepare_files([bad], 64, progress=False))


# -- the synthetic Sun: prepared level-1 files recover its ground truth ----------------

@pytest.fixture(scope="module")
def synthetic_files(tmp_path_factory):
    synthetic = pytest.importorskip("solar_euv.synthetic.sun")
    sun = synthetic.SyntheticSun(seed=0)
    out = tmp_path_factory.mktemp("synthetic")
    time = "2014-01-01T00:00:00"
    paths = sun.write_time_step(out, time, 256, passbands=["171", "1700", "94"])
    return sun, time, paths


def _block(a, k):
    n = a.shape[0] // k
    return np.nan_to_num(a).reshape(n, k, n, k).mean(axis=(1, 3))


def _best_shift_is_zero(out, truth, mask):
    """No quarter-pixel shift of the truth matches the output better than none."""
    base = np.corrcoef(out[mask], truth[mask])[0, 1]
    for dy, dx in ((0.25, 0), (-0.25, 0), (0, 0.25), (0, -0.25)):
        moved = ndimage.shift(truth, (dy, dx), order=3)
        if np.corrcoef(out[mask], moved[mask])[0, 1] > base:
            return False
    return True


def test_synthetic_level1_recovers_ground_truth(synthetic_files):
    """Files at 256 px (0.504"/0.6" x 16, rolled, off-centre, DN, degraded) -> 128 grid.

    The truth is the synthetic Sun evaluated on the 256 grid and averaged 2x2
    (the 128 grid's pixels).  Tolerances: AIA correlation >= 0.98 on the disk
    (r < 0.95 R) and on-disk flux within 0.5 %; HMI (10 G noise per input
    pixel, 60 G network lanes sampled differently by the two grids) after a
    1-pixel Gaussian smoothing of both: correlation >= 0.93 and residual RMS
    <= 5 G; and for every channel the best match is at zero shift (a quarter
    pixel of misalignment would lower the correlation).
    """
    sun, time, paths = synthetic_files
    size = 128
    inner = disk_mask(size, 0.95)
    truths = sun.truth(time, 256, ["171", "1700", "94"], unpredictable=True)
    magnetogram = sun.magnetogram(time, 256)
    seen = set()
    for path in paths:
        result = prepare_file(path, size)
        seen.add(result.kind)
        if result.kind == "hmi":
            out = ndimage.gaussian_filter(result.data, 1.0)
            truth = ndimage.gaussian_filter(_block(magnetogram, 2), 1.0)
            assert np.corrcoef(out[inner], truth[inner])[0, 1] >= 0.93
            assert np.sqrt(np.mean((out - truth)[inner] ** 2)) <= 5.0
        else:
            out, truth = result.data, _block(truths[result.kind], 2)
            assert np.corrcoef(out[inner], truth[inner])[0, 1] >= 0.98
            assert out[inner].sum() / truth[inner].sum() == pytest.approx(1.0, abs=0.005)
        assert _best_shift_is_zero(out, truth, inner), result.kind
    assert seen == {"hmi", "171", "1700", "94"}
