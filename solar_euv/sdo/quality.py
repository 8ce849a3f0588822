"""The SDO ``QUALITY`` keyword, bit by bit, as the instrument teams define it.

AIA level 1
-----------
The bits are those of the SDO user's guide (section 7.7.6, table 2), named
with the text aiapy's :func:`aiapy.util.check_quality_flag` prints for them
(``aiapy/util/util.py``, ``_QUALITY_FLAG_MESSAGES``); JSOC's level-1 code
(``proj/lev0/apps/quallev1.h``: ``Q_NOFLAT`` ... ``Q_MISSALL``) sets them.
:data:`AIA_QUALITY_BITS` holds them all.  Of these:

* harmless (accepted silently, :data:`AIA_BENIGN_QUALITY_BITS`): bit 4 (no
  limb fit: not applicable to AIA), bit 8 (``MISSVALS`` non-zero: a few
  pixels missing, treated as missing data) and bit 30 (quicklook /
  near-real-time image);
* fatal (:data:`AIA_FATAL_QUALITY_BITS`): bits 0-3 (flat field, orbit,
  ancillary or master pointing data not available), 9-11 (more than 1 %,
  5 %, 25 % of the pixels missing), 12-18 (not in science pointing,
  eclipse, no Sun presence, safe mode, dark image, ISS loop open,
  calibration image), 20 (focus out of range) and 31 (image not available);
* any other set bit (bit 21, "register flag is set", and the bits the guide
  leaves empty) is accepted with a warning naming it.

HMI level 1.5 (line-of-sight observables such as ``hmi.M_720s``)
-----------------------------------------------------------------
The bits of JSOC's level-1.5 definitions, ``proj/lev1.5_hmi/apps/QUALITY.txt``
(the text served at ``jsoc.stanford.edu/doc/data/hmi/Quality_Bits/QUALITY.txt``,
"updated on May 24, 2013", with the 2017 and 2021 additions) and the
``QUAL_*`` constants of ``HMI_observables.c``.  JSOC splits them into two
sections that may reuse bits (``QUALITY.notes``: "be sure to note which
section of QUALITY.txt applies"):

* "no line-of-sight observables produced and the reason why, QUALITY < 0":
  ``QUAL_NODATA`` (bit 31) and its reasons, bits 17-30
  (:data:`HMI_NO_OBSERVABLE_BITS`); ``HMI_observables`` sets every one of
  them together with creating an empty record.  Any of them is fatal.
* "data products created but in sub-optimal conditions, QUALITY > 0":
  bits 5-16 (:data:`HMI_SUBOPTIMAL_BITS`: ``QUAL_LOWINTERPNUM`` 0x10000,
  ``QUAL_NOCOSMICRAY`` 0x400, ...).  The data are there and usable; they are
  accepted, with a warning for ``QUAL_POORQUALITY`` (0x20), of which JSOC
  says "careful when using these observables".  Bits 0-4 are "reserved for
  future use" and give a warning when set.

The no-observable section also names bits 9 (``QUAL_NOCOEFFKEYWORD``) and 7
(``QUAL_NOCOEFFPRECORD``) as reasons; they only say so when ``QUALITY < 0``
(bit 31 set, already fatal).  With ``QUALITY > 0`` the sub-optimal section
applies, where 0x200 is ``QUAL_ECLIPSE`` and 0x80 ``QUAL_TEMPERROR``.
"""
from solar_euv.exceptions import InputError

__all__ = [
    "AIA_QUALITY_BITS",
    "AIA_FATAL_QUALITY_BITS",
    "AIA_BENIGN_QUALITY_BITS",
    "HMI_NO_OBSERVABLE_BITS",
    "HMI_SUBOPTIMAL_BITS",
    "HMI_WARNING_BITS",
    "NEAR_REAL_TIME_BIT",
    "quality_problems",
    "check_quality",
]

NEAR_REAL_TIME_BIT = 0x40000000
"""AIA QUALITY bit 30: quicklook (near-real-time) image; not a defect."""

# SDO user's guide, section 7.7.6, table 2, in the words of aiapy 0.10
# (aiapy.util.util._QUALITY_FLAG_MESSAGES); tests compare them with
# aiapy.util.check_quality_flag.
AIA_QUALITY_BITS = {
    0: "Flatfield data are not available",
    1: "Orbit data are not available",
    2: "Ancillary science data are not available",
    3: "Master pointing data are not available",
    4: "Limb-fit data are not available (generally not applicable to AIA images)",
    8: "Value of MISSVALS keyword is nonzero",
    9: "Value of MISSVALS keyword is more than 1% of the value of the TOTVALS keyword",
    10: "Value of MISSVALS keyword is more than 5% of the value of the TOTVALS keyword",
    11: "Value of MISSVALS keyword is more than 25% of the value of the TOTVALS keyword",
    12: "Spacecraft is not in science pointing mode (coincides with ACS_MODE keyword set to "
        "a value other than SCIENCE)",
    13: "Spacecraft eclipse flag is set (coincides with ACS_ECLP keyword set to YES)",
    14: "Spacecraft sun presence flag is not set (coincides with ACS_SUNP keyword set to NO)",
    15: "Spacecraft safe mode flag is set (coincides with ACS_SAFE keyword set to YES)",
    16: "Dark image flag is set (coincides with IMG_TYPE keyword set to DARK)",
    17: "Image Stabilization System (ISS) loop is open (coincides with AISTATE keyword set "
        "to OPEN)",
    18: "Calibration image",
    20: "Focus is out of range",
    21: "Register flag is set",
    30: "Quicklook image",
    31: "Image is not available",
}
"""Every AIA level-1 QUALITY bit the SDO user's guide defines (bit -> its text)."""

AIA_FATAL_QUALITY_BITS = frozenset({0, 1, 2, 3, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 20, 31})
"""AIA bits that make an image unusable."""

AIA_BENIGN_QUALITY_BITS = frozenset({4, 8, 30})
"""AIA bits accepted silently (no limb fit, a few pixels missing, quicklook)."""

# JSOC proj/lev1.5_hmi/apps/QUALITY.txt, first section: "NO Line-of-Sight
# OBSERVABLES PRODUCED AND THE REASON WHY, QUALITY < 0" (bits 0x20000 and up).
HMI_NO_OBSERVABLE_BITS = {
    31: ("QUAL_NODATA", "no l.o.s. observables image was produced"),
    30: ("QUAL_TARGETFILTERGRAMMISSING", "no target filtergram was found near target time"),
    29: ("QUAL_NOINTERPOLATEDKEYWORDS", "could not interpolate some keywords at target time"),
    28: ("QUAL_NOFRAMELISTINFO", "could not figure out which observables framelist was used"),
    27: ("QUAL_WRONGCADENCE", "the cadence of the framelist run does not match the expected "
                              "value"),
    26: ("QUAL_WRONGTARGET", "the target filtergram does not belong to the current framelist"),
    25: ("QUAL_MISSINGLEV1D", "not enough lev1d filtergrams to produce an observable"),
    24: ("QUAL_MISSINGKEYWORDLEV1D", "could not read some needed keywords in the lev1d data"),
    23: ("QUAL_WRONGWAVELENGTHNUM", "the number of wavelengths in the lev1d records is not "
                                    "correct"),
    22: ("QUAL_MISSINGKEYWORDLEV1P", "could not read some needed keywords in the lev1p data"),
    21: ("QUAL_NOLOOKUPRECORD", "could not find a record for the look-up tables for the "
                                "MDI-like algorithm"),
    20: ("QUAL_NOLOOKUPKEYWORD", "could not read the keywords of the look-up tables for the "
                                 "MDI-like algorithm"),
    19: ("QUAL_NOTENOUGHINTERPOLANTS", "not enough interpolation points for the temporal "
                                       "interpolation"),
    18: ("QUAL_INTERPOLATIONFAILED", "the temporal interpolation routine failed"),
    17: ("QUAL_MISSINGLEV1P", "not enough lev1p records to produce an observable"),
}
"""HMI level-1.5 bits meaning that no observable was produced (bit -> JSOC name, text)."""

# Same file, section "Line-of-Sight and Vector field data products CREATED BUT
# IN SUB-OPTIMAL CONDITIONS, QUALITY > 0".  QUALITY.txt lists 0x100 and 0x40
# both as QUAL_LARGEFTSID (0x40 added in 2021, the value in HMI_observables.c).
HMI_SUBOPTIMAL_BITS = {
    16: ("QUAL_LOWINTERPNUM", "the number of interpolation points was not always as high as "
                              "expected"),
    15: ("QUAL_LOWKEYWORDNUM", "some keywords could not be interpolated properly at target "
                               "time"),
    14: ("QUAL_ISSTARGET", "the ISS loop was open for one or several filtergrams used"),
    13: ("QUAL_NOTEMP", "cannot read the temperatures needed for polarization calibration"),
    12: ("QUAL_NOGAPFILL", "could not properly gap-fill all the lev 1 filtergrams"),
    11: ("QUAL_LIMBFITISSUE", "some lev1 records were discarded (R_SUN or CRPIX missing or "
                              "off)"),
    10: ("QUAL_NOCOSMICRAY", "some cosmic-ray hit lists could not be read"),
    9: ("QUAL_ECLIPSE", "at least one lev1 record was taken during an eclipse"),
    8: ("QUAL_LARGEFTSID", "HFTSACID of target filtergram > 4000, which adds noise"),
    7: ("QUAL_TEMPERROR", "code error discovered, will be corrected in later versions"),
    6: ("QUAL_LARGEFTSID", "HFTSACID of target filtergram > 4000, which adds noise"),
    5: ("QUAL_POORQUALITY", "poor quality: careful when using these observables"),
}
"""HMI level-1.5 bits of data created in sub-optimal conditions (bit -> JSOC name, text)."""

HMI_WARNING_BITS = frozenset({5})
"""Sub-optimal HMI bits that give a warning (``QUAL_POORQUALITY``); the others are silent."""


def _aia_name(bit):
    return f"bit {bit} ({AIA_QUALITY_BITS[bit]})" if bit in AIA_QUALITY_BITS else \
        f"bit {bit} (not defined in the SDO user's guide)"


def _hmi_name(bit, table):
    name, text = table[bit]
    return f"bit {bit} {name} ({text})"


def quality_problems(quality, kind):
    """Split a QUALITY word into fatal and non-fatal findings.

    Parameters
    ----------
    quality : int
        The ``QUALITY`` keyword (a negative value is read as its 32-bit word).
    kind : str
        ``"hmi"`` for a level-1.5 magnetogram, else an AIA passband name.

    Returns
    -------
    fatal, warn : list of str
        Descriptions of the set bits that make the image unusable, and of
        those that deserve a warning, each naming the bit as its team does
        (``"bit 13 (Spacecraft eclipse flag is set (...))"``,
        ``"bit 31 QUAL_NODATA (no l.o.s. observables image was produced)"``).

    Examples
    --------
    >>> quality_problems(0x00010400, "hmi")
    ([], [])
    >>> quality_problems(0x40000000, "171")
    ([], [])
    """
    quality = int(quality) & 0xFFFFFFFF
    fatal, warn = [], []
    for bit in range(32):
        if not quality & (1 << bit):
            continue
        if kind == "hmi":
            if bit in HMI_NO_OBSERVABLE_BITS:
                fatal.append(_hmi_name(bit, HMI_NO_OBSERVABLE_BITS))
            elif bit in HMI_WARNING_BITS:
                warn.append(_hmi_name(bit, HMI_SUBOPTIMAL_BITS))
            elif bit not in HMI_SUBOPTIMAL_BITS:
                warn.append(f"bit {bit} (reserved by JSOC for future use)")
        elif bit in AIA_FATAL_QUALITY_BITS:
            fatal.append(_aia_name(bit))
        elif bit not in AIA_BENIGN_QUALITY_BITS:
            warn.append(_aia_name(bit))
    return fatal, warn


def check_quality(header, kind, path):
    """Refuse a file whose QUALITY word holds a fatal bit.

    Parameters
    ----------
    header : mapping
        FITS header (or map meta) with the ``QUALITY`` keyword (0 when absent).
    kind : str
        ``"hmi"`` or an AIA passband name.
    path : str
        The file, named in messages.

    Returns
    -------
    str or None
        A warning text naming the file and the bits that deserve one, or
        None.

    Raises
    ------
    solar_euv.exceptions.InputError
        With category ``"QUALITY"`` when a fatal bit is set or QUALITY is not
        an integer.
    """
    quality = header.get("QUALITY", 0)
    try:
        quality = int(quality)
    except (TypeError, ValueError):
        raise InputError(path, f"has an unreadable QUALITY keyword {quality!r}",
                         category="QUALITY") from None
    fatal, warn = quality_problems(quality, kind)
    word = f"QUALITY=0x{quality & 0xFFFFFFFF:08X}"
    if fatal:
        raise InputError(path, f"is flagged unusable by {word}: " + ", ".join(fatal),
                         category="QUALITY")
    if warn:
        return f"{path}: {word} has " + ", ".join(warn) + " set; using the image anyway"
    return None
