"""solar-euv evaluate: the nine-row table, its files and figures, refusals."""
import csv
import json

import numpy as np
import pytest
from click.testing import CliRunner

from solar_euv.cli.main import cli
from solar_euv.passbands import PASSBAND_NAMES


@pytest.fixture(scope="module")
def trained_run(prepared_sample, tmp_path_factory):
    """A Model A of all nine passbands from solar_euv.training.train (two steps, 64 px)."""
    from solar_euv.training import TrainConfig, train

    run = tmp_path_factory.mktemp("eval") / "run"
    config = TrainConfig(data=str(prepared_sample), passbands=PASSBAND_NAMES, model="A",
                         image_size=64, base_filters=8, batch_size=2, iterations=2,
                         save_every=2, validate_every=2, val_examples=2, run_dir=str(run))
    train(config, echo=lambda *a: None, verbose=0)
    return run


@pytest.fixture(scope="module")
def evaluation(trained_run, prepared_sample, tmp_path_factory):
    out = tmp_path_factory.mktemp("evaluation") / "out"
    result = CliRunner().invoke(cli, ["evaluate", str(trained_run), str(prepared_sample),
                                      "--out", str(out), "--figures", "2"])
    assert result.exit_code == 0, result.output
    return result.output, out


def test_prints_the_nine_row_table_beside_the_paper(evaluation):
    output, out = evaluation
    rows = [line for line in output.splitlines() if line.startswith("| ")
            and "Å" in line]
    assert [r.split("|")[1].strip() for r in rows] == [f"{b} Å" for b in PASSBAND_NAMES]
    assert "| 171 Å |" in output and "| 0.69 | -0.05 |" in output   # paper, model A
    assert "CC paper (A)" in output and "Average over 9 passband(s)" in output
    assert "paper, model A, same passbands: CC 0.84, |RE| 0.07" in output
    assert (out / "metrics.md").read_text().count("Å |") == 9


def test_files_agree_and_hold_every_image(evaluation, prepared_sample):
    from solar_euv.dataset import count_examples

    _, out = evaluation
    n = count_examples(prepared_sample, "test", PASSBAND_NAMES)
    table = list(csv.DictReader((out / "metrics.csv").open()))
    assert [r["passband"] for r in table] == list(PASSBAND_NAMES)
    record = json.loads((out / "metrics.json").read_text())
    assert record["examples"] == n and record["split"] == "test"
    per_image = list(csv.DictReader((out / "per_image.csv").open()))
    assert len(per_image) == 9 * n
    for row, entry in zip(table, record["passbands"]):
        assert int(row["n"]) == entry["n"] == n
        cc = [float(r["CC"]) for r in per_image if r["passband"] == row["passband"]]
        assert float(row["CC"]) == pytest.approx(np.mean(cc), rel=1e-9)
        assert -1 <= entry["CC"] <= 1 and 0 <= entry["PPE10"] <= entry["PPE50"] <= 1
    assert len(list(out.glob("compare.*.png"))) == min(2, n)
    assert (out / "histogram2d.png").stat().st_size > 10_000


def test_metrics_match_an_independent_computation(evaluation, trained_run, prepared_sample):
    """make_dataset (the training pipeline) + model.predict + image_metrics gives the table."""
    import dataclasses

    from solar_euv.dataset import make_dataset
    from solar_euv.inference.generation import physical_output
    from solar_euv.inference.trained_model import load_trained_model
    from solar_euv.metrics import MetricAccumulator

    _, out = evaluation
    trained = load_trained_model(trained_run)
    unmasked = dataclasses.replace(trained.scaling, mask_off_disk=False)
    acc = MetricAccumulator()
    for x, y in make_dataset(prepared_sample, "test", PASSBAND_NAMES, 2, training=False,
                             image_size=64, scaling=unmasked):
        s = trained.scaling
        fake = trained.model.predict(s.apply_mask(x.numpy(), value=s.hmi_off_disk), verbose=0)
        generated = physical_output(fake, trained.scaling)
        observed = unmasked.aia_from_network(y.numpy())
        for i in range(len(fake)):
            for c, band in enumerate(PASSBAND_NAMES):
                acc.add(band, generated[i, ..., c], observed[i, ..., c])
    expected = acc.summary()
    record = json.loads((out / "metrics.json").read_text())
    for entry in record["passbands"]:
        for key in ("CC", "RE", "PPE10", "PPE50", "FLUX", "HFP"):
            assert entry[key] == pytest.approx(expected[entry["passband"]][key], abs=2e-3)


def test_refusals(trained_run, prepared_sample, evaluation, tmp_path):
    missing = CliRunner().invoke(cli, ["evaluate", str(trained_run), str(prepared_sample),
                                       "--split", "2019", "--out", str(tmp_path / "e")])
    assert missing.exit_code == 1 and "has no split '2019'" in missing.output
    assert "Traceback" not in missing.output and not (tmp_path / "e").exists()
    _, out = evaluation
    busy = CliRunner().invoke(cli, ["evaluate", str(trained_run), str(prepared_sample),
                                    "--out", str(out)])
    assert busy.exit_code == 1 and "exists and is not empty" in busy.output
    not_data = CliRunner().invoke(cli, ["evaluate", str(trained_run), str(tmp_path),
                                        "--out", str(tmp_path / "e")])
    assert not_data.exit_code == 1 and "Error:" in not_data.output


def _lambda_model(path):
    """A .keras file whose Lambda layer carries Python bytecode."""
    import keras

    inputs = keras.Input((64, 64, 1))
    keras.Model(inputs, keras.layers.Lambda(lambda t: t * 2)(inputs)).save(path)
    return path


def _foreign_model(path):
    """A valid Keras model that is not a solar_euv model."""
    import keras

    keras.Sequential([keras.Input((64, 64, 1)), keras.layers.Conv2D(9, 1)]).save(path)
    return path


@pytest.mark.parametrize("make,message", [
    (_lambda_model, "could not be loaded as a solar_euv model"),
    (_foreign_model, "holds a Sequential, not a solar_euv model"),
])
@pytest.mark.parametrize("as_run_dir", [False, True])
def test_refuses_code_and_foreign_models(prepared_sample, tmp_path, make, message, as_run_dir):
    """Safe mode: a Lambda layer is never deserialized; one line names the file."""
    if as_run_dir:
        (tmp_path / "run").mkdir()
        bad = make(tmp_path / "run" / "model.keras")
        model = tmp_path / "run"
    else:
        bad = model = make(tmp_path / "bad.keras")
    out = tmp_path / "e"
    result = CliRunner().invoke(cli, ["evaluate", str(model), str(prepared_sample),
                                      "--out", str(out)])
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"Error: {bad}: {message}"), result.output
    if make is _lambda_model:
        assert "Lambda" in lines[0]
    assert not out.exists()


def test_refuses_data_without_the_models_passbands_or_grid_and_overwrites_on_request(
        trained_run, prepared_sample, evaluation, tmp_path):
    import json
    import shutil

    def data_with(change):
        data = tmp_path / f"data-{len(list(tmp_path.iterdir()))}"
        shutil.copytree(prepared_sample, data)
        manifest = json.loads((data / "manifest.json").read_text())
        change(manifest)
        (data / "manifest.json").write_text(json.dumps(manifest))
        return data

    def drop_94(manifest):
        manifest["channels"] = [c for c in manifest["channels"] if c["name"] != "94"]

    def grid_96(manifest):
        manifest["grid"]["size"] = 96

    for change, message in ((drop_94, "was prepared without passband(s) 94 that the model "
                                      "generates"),
                            (grid_96, "has a 96 px grid, which the model's 64 px grid does "
                                      "not divide")):
        data = data_with(change)
        result = CliRunner().invoke(cli, ["evaluate", str(trained_run), str(data), "--out",
                                          str(tmp_path / "e")])
        assert result.exit_code == 1 and message in result.output, result.output
        assert "Traceback" not in result.output and not (tmp_path / "e").exists()
    _, shared = evaluation
    out = tmp_path / "out-copy"                  # the module's evaluation stays as it is
    shutil.copytree(shared, out)
    before = (out / "metrics.csv").read_text()
    again = CliRunner().invoke(cli, ["evaluate", str(trained_run), str(prepared_sample),
                                     "--out", str(out), "--overwrite", "--figures", "2"])
    assert again.exit_code == 0, again.output
    assert (out / "metrics.csv").read_text() == before        # the same evaluation again


def test_a_failure_before_the_last_file_leaves_no_output(trained_run, prepared_sample, tmp_path,
                                                         monkeypatch):
    """The files appear only when the evaluation is complete: a disk that fills up while
    the last figure is written leaves no output directory, and one Error: line."""
    import errno

    from solar_euv import evaluate as evaluate_module

    def full(path, *args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(evaluate_module, "histogram_png", full)
    out = tmp_path / "e"
    result = CliRunner().invoke(cli, ["evaluate", str(trained_run), str(prepared_sample),
                                      "--out", str(out), "--figures", "1"])
    assert result.exit_code == 1 and "No space left on device" in result.output
    assert "Traceback" not in result.output
    assert not out.exists() or not any(out.iterdir())
