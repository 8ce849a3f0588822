"""Shared pytest configuration: small sizes, CPU, optional slow tests, real data paths."""
import os
import pathlib

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest


def _split_cpu_for_mirrored_tests():
    """Expose two logical CPUs before TensorFlow starts (MirroredStrategy tests)."""
    try:
        import tensorflow as tf
    except ImportError:  # pragma: no cover - tensorflow is a hard dependency
        return
    cpus = tf.config.list_physical_devices("CPU")
    try:
        tf.config.set_logical_device_configuration(
            cpus[0], [tf.config.LogicalDeviceConfiguration()] * 2)
    except RuntimeError:
        pass  # already initialised by an earlier import; mirrored tests then skip


_split_cpu_for_mirrored_tests()

REAL_SDO = pathlib.Path(__file__).resolve().parents[2] / "shared" / "real-sdo"


def pytest_addoption(parser):
    parser.addoption("--runslow", action="store_true", default=False,
                     help="also run tests marked slow")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--runslow"):
        return
    skip = pytest.mark.skip(reason="slow; run with --runslow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def real_sdo_dir():
    """../shared/real-sdo beside the checkout (CI has it); skip where absent."""
    path = REAL_SDO / "aia-synoptic-2024-10-04"
    if not path.is_dir():
        pytest.skip(f"real SDO files not found at {path} (they live in ../shared, "
                    "beside the checkout)")
    return path
