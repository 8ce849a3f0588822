"""Reading and validating SDO files (solar_euv.sdo.io).

Inputs: sunpy's real AIA 171 level-1 test file (128 x 128) and HMI continuum
file, the real AIA synoptic level-1.5 files in ../shared/real-sdo, and
mutated copies of them written into tmp_path; a small HMI-like magnetogram
is written from scratch (``write_hmi_like``, also used by test_prep.py).
"""
import warnings

import astropy.units as u
import numpy as np
import pytest
import sunpy.data.test
from astropy.io import fits
from astropy.wcs import WCS

from solar_euv.exceptions import InputError, SolarEUVWarning
from solar_euv.sdo.io import (SDOImage, block_mean, detect_kind, observation_time, read_aia,
                              read_header, read_hmi, read_sdo)

AIA_171 = sunpy.data.test.get_test_filepath("aia_171_level1.fits")
HMI_CONTINUUM = sunpy.data.test.get_test_filepath("resampled_hmi.fits")

RSUN_OBS = 960.0


def hmi_pattern(tx, ty):
    """A smooth line-of-sight field (G) as a function of helioprojective arcsec."""
    return (400.0 * np.sin(tx / 170.0) * np.cos(ty / 230.0) + 150.0 * tx / RSUN_OBS
            - 80.0 * (ty / RSUN_OBS) ** 2)


def render(header, pattern, rsun_obs, off_disk):
    """Evaluate ``pattern`` at every pixel of ``header`` with astropy's WCS (TAN)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # astropy's "datfix" notes
        wcs = WCS(header)
    ny, nx = header["NAXIS2"], header["NAXIS1"]
    yy, xx = np.mgrid[0:ny, 0:nx]
    lon, lat = wcs.wcs_pix2world(xx, yy, 0)
    tx = np.where(lon > 180, lon - 360, lon) * 3600.0
    ty = lat * 3600.0
    data = pattern(tx, ty).astype(np.float32)
    data[np.hypot(tx, ty) > rsun_obs] = off_disk
    return data


def write_hmi_like(path, size=256, crota2=179.93, shift=(3.3, -2.1), scale=None,
                   compressed=True, **cards):
    """A small full-disk HMI line-of-sight magnetogram with a known field."""
    scale = scale or RSUN_OBS / (0.39 * size)
    header = fits.Header()
    header.update(NAXIS=2, NAXIS1=size, NAXIS2=size, TELESCOP="SDO/HMI",
                  INSTRUME="HMI_FRONT2", CONTENT="MAGNETOGRAM", BUNIT="Gauss",
                  WAVELNTH=6173.0, T_OBS="2014.01.01_00:00:00.00_TAI",
                  QUALITY=0, CTYPE1="HPLN-TAN", CTYPE2="HPLT-TAN", CUNIT1="arcsec",
                  CUNIT2="arcsec", CDELT1=scale, CDELT2=scale,
                  CRPIX1=(size + 1) / 2 + shift[0], CRPIX2=(size + 1) / 2 + shift[1],
                  CRVAL1=0.0, CRVAL2=0.0, CROTA2=crota2, RSUN_OBS=RSUN_OBS,
                  RSUN_REF=696000000.0, DSUN_OBS=149597870691.0 * 0.9833,
                  CRLN_OBS=100.0, CRLT_OBS=-3.0)
    header["DATE-OBS"] = "2013-12-31T23:59:25.000"
    header.update(cards)
    data = render(header, hmi_pattern, header["RSUN_OBS"], np.nan)
    if compressed:
        raw = np.where(np.isfinite(data), np.rint(data * 10), -2147483648).astype(np.int32)
        hdu = fits.CompImageHDU(raw, header=header, compression_type="RICE_1")
        hdu.header["BSCALE"] = 0.1
        hdu.header["BZERO"] = 0.0
        hdu.header["BLANK"] = -2147483648
        fits.HDUList([fits.PrimaryHDU(), hdu]).writeto(path, overwrite=True)
    else:
        fits.PrimaryHDU(data, header=header).writeto(path, overwrite=True)
    return path


def mutate_aia(tmp_path, name="aia.fits", data=None, drop=(), compressed=False, **cards):
    """Copy of the sunpy AIA 171 test file with changed data or header cards."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # the file's BLANK card on float data
        with fits.open(AIA_171) as hdul:
            header = hdul[0].header.copy()
            array = hdul[0].data.copy() if data is None else data
    for key in drop + ("BLANK",):
        del header[key]
    header.update(cards)
    path = tmp_path / name
    if compressed:
        hdu = fits.CompImageHDU(np.asarray(array, dtype=np.float32), header=header,
                                compression_type="RICE_1", quantize_level=64)
        fits.HDUList([fits.PrimaryHDU(), hdu]).writeto(path)
    else:
        fits.PrimaryHDU(array, header=header).writeto(path)
    return path


# -- good inputs -------------------------------------------------------------------

def test_reads_real_aia_level1():
    image = read_sdo(AIA_171)
    assert isinstance(image, SDOImage)
    assert image.kind == "171" and not image.is_hmi
    assert image.level == 1.0
    assert image.map.data.shape == (128, 128)
    assert image.map.data.dtype == np.float32
    assert image.time.isot.startswith("2011-02-15T00:00:01.34")
    assert read_aia(AIA_171).wavelength == 171 * u.AA


def test_reads_real_synoptic_level15(real_sdo_dir):
    path = real_sdo_dir / "AIAsynoptic0193.fits"
    with warnings.catch_warnings():
        warnings.simplefilter("error", SolarEUVWarning)  # near-real-time bit: no warning
        image = read_sdo(path)
    assert image.kind == "193"
    assert image.level == 1.5
    assert int(image.map.meta["quality"]) == 0x40000000
    assert image.map.data.shape == (1024, 1024)
    assert np.isfinite(image.map.data).all()


def test_compressed_in_hdu1_equals_plain(tmp_path):
    plain = read_sdo(mutate_aia(tmp_path, "plain.fits")).map.data
    comp = read_sdo(mutate_aia(tmp_path, "comp.fits", compressed=True)).map.data
    assert np.allclose(comp, plain, rtol=0.02, atol=2.0)


def test_reads_gzipped_fits_and_refuses_a_truncated_one(tmp_path):
    import gzip

    path = write_hmi_like(tmp_path / "hmi.fits", size=64, compressed=False)
    blob = gzip.compress(path.read_bytes())
    (tmp_path / "hmi.fits.gz").write_bytes(blob)
    assert read_sdo(tmp_path / "hmi.fits.gz").kind == "hmi"
    (tmp_path / "cut.fits.gz").write_bytes(blob[: len(blob) // 2])
    with pytest.raises(InputError, match=r"cut\.fits\.gz: is (a truncated|not a readable)"):
        read_sdo(tmp_path / "cut.fits.gz")


def test_reads_hmi_like_magnetogram_with_blank_off_disk(tmp_path):
    path = write_hmi_like(tmp_path / "hmi.fits", size=64)
    smap = read_hmi(path)
    assert smap.data.shape == (64, 64)
    assert np.isnan(smap.data[0, 0]) and np.isfinite(smap.data[32, 32])
    image = read_sdo(path)
    assert image.kind == "hmi"
    assert image.time.isot == "2013-12-31T23:59:25.000"   # T_OBS in TAI -> UTC


def test_binning_on_read_keeps_the_wcs(tmp_path):
    path = write_hmi_like(tmp_path / "hmi.fits", size=256)
    full, binned = read_sdo(path), read_sdo(path, grid_size=64)
    assert binned.binning == 4 and binned.map.data.shape == (64, 64)
    for smap in (full.map, binned.map):
        # astropy's WCS puts the disk centre where the data say it is
        centre = smap.wcs.world_to_pixel(smap.center.__class__(
            0 * u.arcsec, 0 * u.arcsec, frame=smap.coordinate_frame))
        expected = np.array([full.map.meta["crpix1"], full.map.meta["crpix2"]]) - 1
        if smap is binned.map:
            expected = (expected - 1.5) / 4
        assert np.allclose(np.array(centre, dtype=float), expected, atol=0.05)
    block = np.nanmean(full.map.data[100:104, 120:124])
    assert binned.map.data[25, 30] == pytest.approx(block, rel=1e-5)


def test_block_mean_ignores_missing_pixels():
    raw = np.array([[1, 2, 9, -1], [3, 4, -1, -1]], dtype=np.int32)
    out = block_mean(raw.copy(), 2, bscale=0.5, blank=-1)
    assert out.shape == (1, 2)
    assert out[0, 0] == pytest.approx(0.5 * 2.5)
    assert out[0, 1] == pytest.approx(0.5 * 9)
    assert block_mean(np.full((4, 4), np.nan), 2) is None


def test_header_without_content_but_gauss_is_a_magnetogram(tmp_path):
    path = write_hmi_like(tmp_path / "hmi.fits", size=64)
    header = fits.getheader(path, 1)
    del header["CONTENT"]
    assert detect_kind(header) == "hmi"
    assert observation_time(header).isot == "2013-12-31T23:59:25.000"


# -- bad inputs: one clear sentence naming the file -----------------------------------

def test_not_fits(tmp_path):
    path = tmp_path / "notes.fits"
    path.write_text("this is a text file, not an image\n" * 100)
    with pytest.raises(InputError, match=r"notes\.fits: is not a FITS file") as info:
        read_sdo(path)
    assert info.value.path == str(path)
    with pytest.raises(InputError, match=r"notes\.fits: is not a FITS file"):
        read_header(path)


def test_read_header_only(tmp_path):
    header = read_header(write_hmi_like(tmp_path / "hmi.fits", size=64))
    assert header["CONTENT"] == "MAGNETOGRAM" and header["NAXIS1"] == 64


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        read_sdo(tmp_path / "nothing.fits")
    with pytest.raises(InputError, match="is a directory"):
        read_sdo(tmp_path)


@pytest.mark.parametrize("keep", [0.5, 0.999])
def test_truncated(tmp_path, keep):
    source = mutate_aia(tmp_path, "whole.fits")
    blob = source.read_bytes()
    path = tmp_path / "cut.fits"
    path.write_bytes(blob[: int(len(blob) * keep)])
    with pytest.raises(InputError, match=r"cut\.fits: is a truncated FITS file"):
        read_sdo(path)


def test_truncated_on_a_block_boundary(tmp_path):
    path = mutate_aia(tmp_path, "whole.fits", compressed=True)
    blob = path.read_bytes()
    cut = tmp_path / "cut.fits"
    cut.write_bytes(blob[: (len(blob) // 2880 - 2) * 2880])
    with pytest.raises(InputError, match=r"cut\.fits: is (a truncated|not a readable) FITS"):
        read_sdo(cut)


def test_continuum_product_refused():
    with pytest.raises(InputError, match=r"resampled_hmi\.fits: is an HMI continuum "
                                         r"intensity image.*not a line-of-sight magnetogram"):
        read_sdo(HMI_CONTINUUM)


def test_dopplergram_refused(tmp_path):
    path = write_hmi_like(tmp_path / "dop.fits", size=64, CONTENT="DOPPLERGRAM", BUNIT="m/s")
    with pytest.raises(InputError, match="HMI dopplergram image"):
        read_hmi(path)


def test_cutout_refused(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with fits.open(AIA_171) as hdul:
            data = hdul[0].data[20:84, 30:94].copy()
            crpix1, crpix2 = hdul[0].header["CRPIX1"], hdul[0].header["CRPIX2"]
    path = mutate_aia(tmp_path, "cutout.fits", data=data, NAXIS1=64, NAXIS2=64,
                      CRPIX1=crpix1 - 30, CRPIX2=crpix2 - 20)
    with pytest.raises(InputError, match=r"cutout\.fits: is a cutout or partial field of view"):
        read_sdo(path)


def test_all_nan_refused(tmp_path):
    path = mutate_aia(tmp_path, "nan.fits", data=np.full((128, 128), np.nan))
    with pytest.raises(InputError, match=r"nan\.fits: holds no finite pixel"):
        read_sdo(path)


def test_all_blank_magnetogram_refused(tmp_path):
    path = write_hmi_like(tmp_path / "blank.fits", size=64, RSUN_OBS=1.0)
    with pytest.raises(InputError, match="holds no finite pixel"):
        read_sdo(path)


@pytest.mark.parametrize("keyword", ["EXPTIME", "CDELT1", "CRPIX2", "WAVELNTH"])
def test_missing_keyword(tmp_path, keyword):
    path = mutate_aia(tmp_path, drop=(keyword,))
    with pytest.raises(InputError, match=rf"aia\.fits: is missing the required keyword "
                                         rf"{keyword}"):
        read_sdo(path)


def test_missing_time_and_rsun(tmp_path):
    path = mutate_aia(tmp_path, drop=("DATE-OBS", "T_OBS"))
    with pytest.raises(InputError, match="missing the required keyword DATE-OBS or T_OBS"):
        read_sdo(path)


def test_unknown_passband(tmp_path):
    path = mutate_aia(tmp_path, WAVELNTH=4500)
    with pytest.raises(InputError, match=r"aia\.fits: has the unknown AIA passband "
                                         r"WAVELNTH=4500"):
        read_sdo(path)


def test_dark_frame_and_other_instrument(tmp_path):
    with pytest.raises(InputError, match="dark frame"):
        read_sdo(mutate_aia(tmp_path, "dark.fits", IMG_TYPE="DARK"))
    with pytest.raises(InputError, match="neither an SDO/HMI magnetogram nor an SDO/AIA"):
        read_sdo(mutate_aia(tmp_path, "eit.fits", TELESCOP="SOHO", INSTRUME="EIT"))


def test_zero_exposure_refused(tmp_path):
    with pytest.raises(InputError, match="unusable exposure time EXPTIME=0"):
        read_sdo(mutate_aia(tmp_path, EXPTIME=0.0))


def test_wrong_instrument_for_reader(tmp_path):
    with pytest.raises(InputError, match="is an AIA 171 A image, not an HMI magnetogram"):
        read_hmi(AIA_171)
    path = write_hmi_like(tmp_path / "hmi.fits", size=64)
    with pytest.raises(InputError, match="is an HMI magnetogram, not an AIA image"):
        read_aia(path)
