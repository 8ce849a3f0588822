"""Package data of solar_euv (installed as ``solar_euv.data`` from the top-level data/)."""
