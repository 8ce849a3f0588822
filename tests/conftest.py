"""Shared pytest configuration: two logical CPUs, shared fixtures, real data paths."""
import os
import re
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

#: Test modules that check the fast paths compute what Keras computes: they
#: run those paths whatever this machine's device kind turns off.
_FAST_PATH_MODULES = ("test_fast_layers", "test_optimizers")


@pytest.fixture(autouse=True)
def _fast_paths_under_test(request):
    """The measured kind's fast paths in the modules that compare them with Keras."""
    if request.module.__name__.rsplit(".", 1)[-1] not in _FAST_PATH_MODULES:
        yield
        return
    from solar_euv.device import MEASURED_KIND, using_device_kind

    with using_device_kind(MEASURED_KIND):
        yield


REAL_SDO = pathlib.Path(__file__).resolve().parents[2] / "shared" / "real-sdo"


@pytest.fixture(scope="session")
def real_sdo_dir():
    """../shared/real-sdo beside the checkout (CI has it); skip where absent."""
    path = REAL_SDO / "aia-synoptic-2024-10-04"
    if not path.is_dir():
        pytest.skip(f"real SDO files not found at {path} (they live in ../shared, "
                    "beside the checkout)")
    return path


@pytest.fixture(scope="session")
def mirrored_strategy():
    """One MirroredStrategy over two logical CPUs for the whole test session.

    A second MirroredStrategy in the same process reuses collective keys and
    makes the collectives of the first mismatch: one per process, as in real
    training.
    """
    import tensorflow as tf

    cpus = tf.config.list_logical_devices("CPU")
    if len(cpus) < 2:
        pytest.skip("needs two logical CPUs, configured in conftest before TF starts")
    return tf.distribute.MirroredStrategy([c.name for c in cpus[:2]])


@pytest.fixture(scope="session")
def prepared_sample(tmp_path_factory):
    """A small prepared dataset made the way users make one: synthetic SDO FITS
    (12 time steps over 2011-2017, 256 px, all nine passbands) through
    ``solar-euv prepare``.  Train, validation and test splits are non-empty."""
    from click.testing import CliRunner

    from solar_euv.cli.main import cli
    from solar_euv.synthetic.sample import write_sample

    root = tmp_path_factory.mktemp("sample")
    times = ["2011-03-01T00:00:00", "2011-09-01T06:00:00", "2012-05-01T12:00:00",
             "2013-02-01T18:00:00", "2014-07-01T00:00:00", "2015-04-01T06:00:00",
             "2016-01-01T12:00:00", "2016-10-01T18:00:00", "2017-02-01T00:00:00",
             "2017-05-01T06:00:00", "2017-08-01T12:00:00", "2017-11-01T18:00:00"]
    write_sample(root / "raw", times, size=256, seed=0)
    result = CliRunner().invoke(cli, ["prepare", str(root / "raw"), str(root / "data"),
                                      "--image-size", "256", "--workers", "2", "-q"])
    assert result.exit_code == 0, result.output
    return root / "data"


@pytest.fixture(scope="module")
def module_report(request):
    """Register lines printed under a title when the module's tests end.

    Call it as ``module_report(title, lines)`` with ``lines`` a function
    returning the lines (evaluated at the end, so it sees the module's
    counts); nothing is printed when it returns no lines.
    """
    registered = []
    yield lambda title, lines: registered.append((title, lines))
    reporter = request.config.pluginmanager.getplugin("terminalreporter")
    capture = request.config.pluginmanager.getplugin("capturemanager")
    if reporter is None or capture is None:
        return
    for title, lines in registered:
        text = list(lines())
        if not text:
            continue
        with capture.global_and_fixture_disabled():
            reporter.write_line("")
            reporter.write_line(title)
            for line in text:
                reporter.write_line(f"  {line}")


@pytest.fixture(scope="session")
def assert_clean_failure():
    """Check a ``CliRunner`` result: non-zero exit, no traceback, one ``Error:`` line.

    Call it as ``assert_clean_failure(result, path)``: the one line must read
    ``Error: <file>: <problem>`` and name ``path``.
    """
    error_line = re.compile(r"^Error: (.+?): \S.*$")

    def check(result, path):
        output = result.output
        assert result.exit_code not in (0, None), output
        assert "Traceback" not in output, output
        assert result.exception is None or isinstance(result.exception, SystemExit), \
            repr(result.exception)
        errors = [line for line in output.splitlines() if line.startswith("Error:")]
        assert len(errors) == 1, output
        assert error_line.match(errors[0]) and str(path) in errors[0], output

    return check
