"""The SDO passbands this package knows: one table, read by every other module.

Each AIA passband has its wavelength, characteristic formation temperature
(log10 T/K, from Park et al. 2019, Table 1 of the seed brief), the sunpy
colormap used to display it, and the display scaling (a log stretch between
``vmin`` and ``vmax`` in DN/s, chosen to resemble the authors' figures).
"""
from dataclasses import dataclass

import astropy.units as u

from solar_euv.exceptions import SolarEUVError

__all__ = [
    "Passband",
    "AIA_PASSBANDS",
    "PASSBAND_NAMES",
    "HMI",
    "get_passband",
    "parse_passbands",
]


@dataclass(frozen=True)
class Passband:
    """One SDO channel.

    Attributes
    ----------
    name : str
        Short name used on the command line and in data files (``"171"``).
    wavelength : astropy.units.Quantity
        Nominal wavelength.
    log_temperature : float
        log10 of the characteristic formation temperature in K.
    cmap : str
        Name of the sunpy colormap for display.
    vmin, vmax : float
        Display range in the channel's physical unit (log stretch for AIA,
        linear for HMI).
    unit : astropy.units.Unit
        Physical unit of the calibrated data.
    """

    name: str
    wavelength: u.Quantity
    log_temperature: float
    cmap: str
    vmin: float
    vmax: float
    unit: u.UnitBase


_DN_S = u.ct / u.s  # AIA data are "DN/s"; astropy spells DN as ct in sunpy maps.

# Order follows the paper: UV first, then EUV by rising temperature.
AIA_PASSBANDS = (
    Passband("1700", 1700 * u.AA, 3.65, "sdoaia1700", 50.0, 4000.0, _DN_S),
    Passband("1600", 1600 * u.AA, 4.00, "sdoaia1600", 5.0, 800.0, _DN_S),
    Passband("304", 304 * u.AA, 4.70, "sdoaia304", 1.0, 800.0, _DN_S),
    Passband("171", 171 * u.AA, 5.78, "sdoaia171", 10.0, 6000.0, _DN_S),
    Passband("193", 193 * u.AA, 6.00, "sdoaia193", 20.0, 5000.0, _DN_S),
    Passband("211", 211 * u.AA, 6.30, "sdoaia211", 5.0, 3000.0, _DN_S),
    Passband("335", 335 * u.AA, 6.40, "sdoaia335", 1.0, 300.0, _DN_S),
    Passband("94", 94 * u.AA, 6.78, "sdoaia94", 0.5, 100.0, _DN_S),
    Passband("131", 131 * u.AA, 7.00, "sdoaia131", 1.0, 300.0, _DN_S),
)

PASSBAND_NAMES = tuple(p.name for p in AIA_PASSBANDS)

HMI = Passband("hmi", 6173 * u.AA, 3.70, "hmimag", -1500.0, 1500.0, u.G)

_BY_NAME = {p.name: p for p in AIA_PASSBANDS}


def get_passband(name):
    """Return the :class:`Passband` called ``name`` (``"171"``, ``171`` or ``"171A"``).

    Raises
    ------
    SolarEUVError
        If no AIA passband has that name.
    """
    key = str(name).strip().upper().rstrip("A").rstrip()
    if key.endswith(".0"):
        key = key[:-2]
    try:
        return _BY_NAME[key]
    except KeyError:
        known = ", ".join(PASSBAND_NAMES)
        message = f"unknown AIA passband {name!r}; known passbands are {known}"
        raise SolarEUVError(message) from None


def parse_passbands(values):
    """Turn user input into a tuple of passband names in table order.

    ``values`` is an iterable of names; ``"all"`` selects all nine and
    comma-separated lists are split.  Duplicates are dropped.
    """
    names = []
    for value in values:
        for part in str(value).split(","):
            part = part.strip()
            if not part:
                continue
            if part.lower() == "all":
                names.extend(PASSBAND_NAMES)
            else:
                names.append(get_passband(part).name)
    if not names:
        raise SolarEUVError("no passband given; name one or more of "
                            + ", ".join(PASSBAND_NAMES) + " or 'all'")
    chosen = set(names)
    return tuple(n for n in PASSBAND_NAMES if n in chosen)
