"""The scripts in bin/: --help, a real run each, and a clean refusal."""
import json
import pathlib
import runpy
import subprocess
import sys

import numpy as np
import pytest
from astropy.io import fits

from solar_euv.exceptions import SolarEUVWarning
from solar_euv.scaling import Scaling

BIN = pathlib.Path(__file__).resolve().parents[1] / "bin"
SCRIPTS = sorted(BIN.glob("*.py"))
SIZE = 64


def _main(name):
    return runpy.run_path(str(BIN / name), run_name="solar_euv_bin_test")["main"]


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    """A bare .keras file with its sidecar (no run directory around it)."""
    from solar_euv.inference.trained_model import write_model_metadata
    from solar_euv.models import build_generator

    root = tmp_path_factory.mktemp("model")
    generator = build_generator(SIZE, base_filters=8)
    generator.save(root / "generator.keras")
    write_model_metadata(root / "generator.keras", ["304"], Scaling(hmi_limit=1500.0), SIZE)
    return root / "generator.keras"


@pytest.fixture(scope="module")
def hmi_file(tmp_path_factory):
    from solar_euv.synthetic.sample import write_sample

    raw = tmp_path_factory.mktemp("raw")
    write_sample(raw, ["2014-03-01T06:00:00"], size=256, seed=1, passbands=("304",))
    return next(raw.glob("hmi.M_720s.*.fits")), next(raw.glob("aia*.fits"))


def _keras_result(model_file, hmi):
    from solar_euv.inference.generation import generate
    from solar_euv.inference.trained_model import load_trained_model
    from solar_euv.sdo.prep import prepare_hmi

    trained = load_trained_model(model_file)
    return generate(trained, prepare_hmi(hmi, SIZE)).data[0, ..., 0]


def test_every_script_has_help():
    assert {p.name for p in SCRIPTS} >= {"generate_euv.py", "saved_model_predict.py"}
    for script in SCRIPTS:
        result = subprocess.run([sys.executable, str(script), "--help"], capture_output=True,
                                text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith("Usage:") and "magnetogram" in result.stdout
        assert "-q, --quiet" in result.stdout and "-v, --verbose" in result.stdout
        assert "tensorflow" not in result.stderr.lower()


def test_generate_euv_writes_an_aia_map(model_file, hmi_file, tmp_path, capsys):
    import sunpy.map

    hmi, aia = hmi_file
    main = _main("generate_euv.py")
    assert main([str(model_file), str(hmi), "--out", str(tmp_path)]) == 0
    written = pathlib.Path(capsys.readouterr().out.strip())
    assert written.name == hmi.name.split(".fits")[0] + ".304.fits"
    m = sunpy.map.Map(written)
    assert m.wavelength.to_value("angstrom") == 304.0 and m.meta["hmilimit"] == 1500.0
    np.testing.assert_array_equal(m.data, _keras_result(model_file, hmi))

    assert main([str(model_file), str(aia), "--out", str(tmp_path)]) == 1
    assert "not an HMI magnetogram" in capsys.readouterr().err
    assert main([str(model_file), str(hmi), "--out", str(tmp_path)]) == 1   # no overwrite
    assert "exists already" in capsys.readouterr().err
    assert main([str(model_file), str(hmi), "--passbands", "4500"]) == 1
    assert "unknown AIA passband '4500'" in capsys.readouterr().err
    assert main([str(model_file)]) == 2                                   # usage error
    assert "Missing argument" in capsys.readouterr().err


def test_generate_euv_quiet_and_passbands_of_a_bare_model(model_file, hmi_file, tmp_path,
                                                         capsys):
    hmi, _ = hmi_file
    bare = tmp_path / "bare.keras"
    bare.write_bytes(model_file.read_bytes())          # no sidecar: passbands unknown
    main = _main("generate_euv.py")
    assert main([str(bare), str(hmi), "--out", str(tmp_path / "a")]) == 1
    assert "give it with --passbands" in capsys.readouterr().err
    with pytest.warns(SolarEUVWarning, match="no sidecar or run config.json"):
        assert main([str(bare), str(hmi), "--out", str(tmp_path / "b"), "--passbands", "304",
                     "-q"]) == 0
    assert capsys.readouterr().out == ""
    assert [p.name for p in (tmp_path / "b").iterdir()] == [hmi.name.split(".fits")[0]
                                                           + ".304.fits"]


def test_saved_model_predict_matches_keras(model_file, hmi_file, tmp_path, capsys):
    from solar_euv.export import export_saved_model
    from solar_euv.inference.trained_model import load_trained_model

    hmi, _ = hmi_file
    version = export_saved_model(load_trained_model(model_file), tmp_path / "serving",
                                 verify=False)
    assert version == tmp_path / "serving" / "generator" / "1"
    request = tmp_path / "request.json"
    main = _main("saved_model_predict.py")
    assert main([str(version), str(hmi), "--out", str(tmp_path / "gen"), "--request-json",
                 str(request)]) == 0
    written = pathlib.Path(capsys.readouterr().out.strip())
    np.testing.assert_allclose(fits.getdata(written), _keras_result(model_file, hmi),
                               rtol=1e-4, atol=1e-3)
    body = json.loads(request.read_text())
    assert body["signature_name"] == "serving_default"
    assert np.asarray(body["instances"][0]["magnetogram"]).shape == (SIZE, SIZE, 1)

    assert main([str(tmp_path), str(hmi)]) == 1
    assert "is not a SavedModel from `solar-euv export`" in capsys.readouterr().err
