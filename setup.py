"""Thin setup script: metadata lives in setup.cfg.

Only the package list is computed here: every ``solar_euv*`` package found,
plus the top-level ``data/`` folder installed as ``solar_euv.data``.
"""
from setuptools import find_packages, setup

setup(
    packages=find_packages(include=["solar_euv", "solar_euv.*"]) + ["solar_euv.data"],
    package_dir={"solar_euv.data": "data"},
)
