"""QUALITY judged bit by bit as the SDO teams define it (solar_euv.sdo.quality).

AIA: the SDO user's guide table as aiapy's ``check_quality_flag`` decodes it.
HMI: JSOC's level-1.5 observables definitions (``proj/lev1.5_hmi/apps/QUALITY.txt``).
Real headers: the AIA synoptic files in ../shared/real-sdo (``0x40000000``)
and sunpy's AIA 171 level-1 file; the real ``hmi.M_720s`` QUALITY words of
the issue (``0x00010400``, ``0x00010000``) are written into HMI-like files.
"""
import warnings

import pytest
from aiapy.util import check_quality_flag
from astropy.io import fits

from solar_euv.exceptions import InputError, SolarEUVWarning
from solar_euv.sdo.io import read_header, read_sdo
from solar_euv.sdo.quality import (AIA_BENIGN_QUALITY_BITS, AIA_FATAL_QUALITY_BITS,
                                   AIA_QUALITY_BITS, HMI_NO_OBSERVABLE_BITS,
                                   HMI_SUBOPTIMAL_BITS, check_quality, quality_problems)
from test_io import AIA_171, mutate_aia, write_hmi_like


def test_aia_table_is_aiapy_decoding_of_the_users_guide():
    for bit in range(32):
        decoded = check_quality_flag(1 << bit)
        assert decoded == [AIA_QUALITY_BITS.get(bit, "(empty)")], bit
    # every fatal or benign bit is one the guide defines
    assert AIA_FATAL_QUALITY_BITS | AIA_BENIGN_QUALITY_BITS <= set(AIA_QUALITY_BITS)


@pytest.mark.parametrize("bit, words", [
    (11, "more than 25% of the value of the TOTVALS"),   # was called "not in science pointing"
    (12, "not in science pointing mode"),
    (17, "Image Stabilization System (ISS) loop is open"),
    (18, "Calibration image"),                            # was bit 17
    (20, "Focus is out of range"),                        # was bit 19
    (9, "more than 1% of the value of the TOTVALS"),
])
def test_aia_fatal_bits_named_as_the_team_names_them(bit, words):
    fatal, warn = quality_problems(1 << bit, "193")
    assert fatal == [f"bit {bit} ({AIA_QUALITY_BITS[bit]})"] and warn == []
    assert words in fatal[0]


def test_aia_harmless_and_warning_bits():
    # bit 8 (MISSVALS nonzero), bit 4 (no limb fit) and bit 30 (quicklook) are routine
    assert quality_problems((1 << 8) | (1 << 4) | (1 << 30), "171") == ([], [])
    assert quality_problems(1 << 21, "171") == ([], ["bit 21 (Register flag is set)"])
    assert quality_problems(1 << 7, "171") == (
        [], ["bit 7 (not defined in the SDO user's guide)"])


def test_real_aia_headers(real_sdo_dir):
    assert check_quality(read_header(AIA_171), "171", "aia.fits") is None
    for path in sorted(real_sdo_dir.glob("*.fits")):
        header = read_header(path)
        assert int(header["QUALITY"]) == 0x40000000
        assert check_quality(header, str(header["WAVELNTH"]), str(path)) is None


@pytest.mark.parametrize("quality", [0x00010400, 0x00010000, 0x400, 0x00008000 | 0x1000])
def test_hmi_suboptimal_magnetograms_are_read_without_a_word(tmp_path, quality):
    """Real hmi.M_720s words: QUAL_LOWINTERPNUM and QUAL_NOCOSMICRAY mean usable data."""
    path = write_hmi_like(tmp_path / "hmi.fits", size=64, QUALITY=quality)
    with warnings.catch_warnings():
        warnings.simplefilter("error", SolarEUVWarning)
        image = read_sdo(path)
    assert image.kind == "hmi" and int(image.map.meta["quality"]) == quality


def test_hmi_no_observable_bits_are_fatal_and_named_by_jsoc(tmp_path):
    for bit, (name, _) in HMI_NO_OBSERVABLE_BITS.items():
        fatal, _ = quality_problems(1 << bit, "hmi")
        assert fatal and fatal[0].startswith(f"bit {bit} {name} ("), bit
    assert set(HMI_NO_OBSERVABLE_BITS) == set(range(17, 32))
    assert not set(HMI_NO_OBSERVABLE_BITS) & set(HMI_SUBOPTIMAL_BITS)
    # QUALITY < 0 as JSOC stores it (a signed 32-bit integer)
    path = write_hmi_like(tmp_path / "nodata.fits", size=64,
                          QUALITY=-0x80000000 | HMI_BIT_MISSINGLEV1P)
    with pytest.raises(InputError, match=r"nodata\.fits: is flagged unusable by "
                                         r"QUALITY=0x80020000: bit 17 QUAL_MISSINGLEV1P "
                                         r"\(.*\), bit 31 QUAL_NODATA") as info:
        read_sdo(path)
    assert info.value.category == "QUALITY"


HMI_BIT_MISSINGLEV1P = 0x20000


def test_hmi_poor_quality_and_reserved_bits_warn(tmp_path):
    assert quality_problems(0x20, "hmi") == (
        [], ["bit 5 QUAL_POORQUALITY (poor quality: careful when using these observables)"])
    assert quality_problems(0x1, "hmi") == ([], ["bit 0 (reserved by JSOC for future use)"])
    path = write_hmi_like(tmp_path / "poor.fits", size=64, QUALITY=0x20)
    with pytest.warns(SolarEUVWarning, match=r"poor\.fits: QUALITY=0x00000020 has bit 5 "
                                             r"QUAL_POORQUALITY"):
        read_sdo(path)


def test_aia_fatal_file_and_unreadable_quality(tmp_path):
    path = mutate_aia(tmp_path, QUALITY=0x40000000 | (1 << 13))
    with pytest.raises(InputError, match=r"aia\.fits: is flagged unusable by "
                                         r"QUALITY=0x40002000: bit 13 \(Spacecraft eclipse "
                                         r"flag is set"):
        read_sdo(path)
    header = fits.Header({"QUALITY": "bad"})
    with pytest.raises(InputError, match="unreadable QUALITY keyword 'bad'"):
        check_quality(header, "171", "x.fits")
