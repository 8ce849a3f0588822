"""solar-euv export: TF Serving layout, signatures in Gauss/DN/s, equality with Keras."""
import json
import shutil
import subprocess

import numpy as np
import pytest
from click.testing import CliRunner

from solar_euv.cli.main import cli
from solar_euv.scaling import Scaling, solar_radius_px

SIZE = 64
BANDS = ("171", "193")


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """A run directory holding an untrained tiny Model B (HMI clip 2000 G)."""
    from solar_euv.models import build_pix2pix

    root = tmp_path_factory.mktemp("runs") / "aia-run"
    root.mkdir()
    model = build_pix2pix(SIZE, model="B", out_channels=len(BANDS), base_filters=8)
    model.compile()
    model(np.zeros((1, SIZE, SIZE, 1), "float32"))
    model.save(root / "model.keras")
    options = {"passbands": list(BANDS), "image_size": SIZE, "model": "B"}
    (root / "config.json").write_text(json.dumps({
        "identity": options, "options": options,
        "scaling": Scaling(hmi_limit=2000.0).to_dict()}))
    return root


@pytest.fixture(scope="module")
def exported(run_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("serving")
    result = CliRunner().invoke(cli, ["export", str(run_dir), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "verified against the Keras model" in result.output
    return out / "aia-run" / "1"


def _magnetograms(batch, seed):
    rng = np.random.default_rng(seed)
    g = rng.normal(0, 400, (batch, SIZE, SIZE)).astype("float32")
    g[:, 30:34, 30:34] = 2800.0          # beyond the 2000 G clip
    g[0, 0, 0] = np.nan                  # NaN is 0 G, as in training
    return g


def test_layout_and_metadata(exported):
    assert (exported / "saved_model.pb").is_file()
    assert (exported / "variables").is_dir()
    assert not list(exported.parent.glob(".partial-*"))
    meta = json.loads((exported / "assets.extra" / "solar_euv.json").read_text())
    assert meta["passbands"] == list(BANDS) and meta["image_size"] == SIZE
    assert meta["scaling"]["hmi_limit"] == 2000.0 and meta["model"] == "B"
    assert set(meta["signatures"]) == {"serving_default", "network_units"}


@pytest.mark.parametrize("batch", [1, 3])
def test_serving_default_equals_the_keras_model(run_dir, exported, batch):
    import tensorflow as tf

    from solar_euv.inference.generation import generate, network_input
    from solar_euv.inference.trained_model import load_trained_model

    trained = load_trained_model(run_dir)
    loaded = tf.saved_model.load(str(exported))
    serve = loaded.signatures["serving_default"]
    assert set(serve.structured_outputs) == {"aia_171", "aia_193"}
    gauss = _magnetograms(batch, seed=batch)
    got = serve(magnetogram=tf.constant(gauss[..., None]))
    expected = generate(trained, np.nan_to_num(gauss), batch_size=batch).data
    for c, band in enumerate(BANDS):
        value = got[f"aia_{band}"].numpy()
        assert value.shape == (batch, SIZE, SIZE, 1)
        np.testing.assert_allclose(value[..., 0], expected[..., c], rtol=1e-4, atol=1e-3)
        outside = np.hypot(*(np.mgrid[:SIZE, :SIZE] - (SIZE - 1) / 2)) \
            > 0.99 * solar_radius_px(SIZE)
        assert np.all(value[:, outside, 0] == 0)
    network = loaded.signatures["network_units"]
    x = network_input(np.nan_to_num(gauss), trained.scaling)
    y = trained.generator.predict(x, verbose=0)
    got = network(magnetogram=tf.constant(x))
    for c, band in enumerate(BANDS):
        np.testing.assert_allclose(got[f"aia_{band}"].numpy()[..., 0], y[..., c], atol=1e-5)


def test_saved_model_cli_shows_a_predict_signature(exported):
    exe = shutil.which("saved_model_cli")
    if exe is None:
        pytest.skip("saved_model_cli (installed with tensorflow) is not on PATH")
    result = subprocess.run([exe, "show", "--dir", str(exported), "--all"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert "signature_def['serving_default']" in text
    assert "signature_def['network_units']" in text
    assert "Method name is: tensorflow/serving/predict" in text
    assert "inputs['magnetogram']" in text and "outputs['aia_193']" in text
    assert "shape: (-1, 64, 64, 1)" in text


def test_versions_and_refusals(run_dir, exported, tmp_path):
    import keras

    base = str(exported.parent.parent)
    again = CliRunner().invoke(cli, ["export", str(run_dir), "--out", base, "-q"])
    assert again.exit_code == 1 and "exists already" in again.output
    assert "Traceback" not in again.output
    second = CliRunner().invoke(cli, ["export", str(run_dir), "--out", base, "--version",
                                      "2", "--name", "aia-run", "--no-verify", "-q"])
    assert second.exit_code == 0, second.output
    assert sorted(p.name for p in exported.parent.iterdir()) == ["1", "2"]
    # --overwrite replaces an existing version; --name puts it under another model name
    stamp = (exported.parent / "2" / "saved_model.pb").stat().st_mtime_ns
    replaced = CliRunner().invoke(cli, ["export", str(run_dir), "--out", base, "--version",
                                        "2", "--overwrite", "--no-verify", "-q"])
    assert replaced.exit_code == 0, replaced.output
    assert (exported.parent / "2" / "saved_model.pb").stat().st_mtime_ns != stamp
    renamed = CliRunner().invoke(cli, ["export", str(run_dir), "--out", base, "--name",
                                       "euv-171", "--no-verify", "-q"])
    assert renamed.exit_code == 0, renamed.output
    assert (exported.parent.parent / "euv-171" / "1" / "saved_model.pb").exists()

    other = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    other.save(tmp_path / "other.keras")
    bad = CliRunner().invoke(cli, ["export", str(tmp_path / "other.keras"), "--out",
                                   str(tmp_path / "s")])
    assert bad.exit_code == 1 and "not a solar_euv model" in bad.output
    assert not (tmp_path / "s").exists()
    missing = CliRunner().invoke(cli, ["export", str(tmp_path / "nope"), "--out",
                                       str(tmp_path / "s")])
    assert missing.exit_code == 1 and "does not exist" in missing.output


@pytest.mark.parametrize("kind", ["lambda", "foreign"])
def test_refuses_code_and_foreign_models(tmp_path, kind):
    """Safe mode: a Lambda layer is never deserialized; one line names the file."""
    import keras

    bad = tmp_path / f"{kind}.keras"
    inputs = keras.Input((SIZE, SIZE, 1))
    if kind == "lambda":
        keras.Model(inputs, keras.layers.Lambda(lambda t: t * 2)(inputs)).save(bad)
        message = "could not be loaded as a solar_euv model"
    else:
        keras.Model(inputs, keras.layers.Conv2D(2, 1)(inputs)).save(bad)
        message = "holds a Functional, not a solar_euv model"
    out = tmp_path / "serving"
    result = CliRunner().invoke(cli, ["export", str(bad), "--out", str(out),
                                      "--passbands", ",".join(BANDS)])
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"Error: {bad}: {message}"), result.output
    if kind == "lambda":
        assert "Lambda" in lines[0]
    assert not out.exists()
