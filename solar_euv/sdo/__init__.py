"""SDO files: reading, validating, calibrating, fetching (never imports TensorFlow).

Reading and checking: :mod:`~solar_euv.sdo.io`, :mod:`~solar_euv.sdo.headers`,
:mod:`~solar_euv.sdo.quality`, :mod:`~solar_euv.sdo.magnetogram_kind`,
:mod:`~solar_euv.sdo.magnetograms`.  Calibrating onto the common grid:
:mod:`~solar_euv.sdo.calibration`, :mod:`~solar_euv.sdo.resample`,
:mod:`~solar_euv.sdo.binning`, :mod:`~solar_euv.sdo.prep`,
:mod:`~solar_euv.sdo.batch`, :mod:`~solar_euv.sdo.grid`.  Pairing and
splitting: :mod:`~solar_euv.sdo.pairing`, :mod:`~solar_euv.sdo.splits`.
Fetching from JSOC: :mod:`~solar_euv.sdo.jsoc_query`,
:mod:`~solar_euv.sdo.download`, :mod:`~solar_euv.sdo.fetch`,
:mod:`~solar_euv.sdo.jsoc_table`; GONG from NSO:
:mod:`~solar_euv.sdo.gong_archive`.  Times and cadences:
:mod:`~solar_euv.sdo.times`.  The synthetic Sun is :mod:`solar_euv.synthetic`.
"""
