"""The training benchmark harness (``python -m benchmarks``) in a tiny configuration."""
import json
import pathlib
import sys

import numpy as np
import pytest

# benchmarks/ sits beside the package at the repository root (not installed).
_ROOT = str(pathlib.Path(__file__).resolve().parents[1])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from benchmarks.__main__ import compare, main  # noqa: E402

TINY = ["--models", "B", "--sizes", "64", "--base-filters", "4", "--rounds", "1",
        "--steps", "1", "--warmup", "1", "--matmul-size", "256",
        "--precisions", "float32,mixed_bfloat16", "--xla", "off"]


@pytest.fixture(scope="module")
def tiny_result(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    assert main(["run", "--quick", "--out", str(out)] + TINY) == 0
    return out, json.loads((out / "train_speed.json").read_text())


def test_json_has_machine_peak_and_one_row_per_configuration(tiny_result):
    out, result = tiny_result
    machine = result["machine"]
    for key in ("device", "cpu_count", "usable_cores", "tensorflow", "keras", "command"):
        assert machine[key]
    assert machine["command"].startswith("python -m benchmarks run --quick")
    assert set(result["peak"]) == {"float32", "mixed_bfloat16"}
    assert all(p["flops_per_s"] > 0 for p in result["peak"].values())
    keys = [r["key"] for r in result["rows"]]
    assert keys == ["project/B/64/1/float32/False", "project/B/64/1/mixed_bfloat16/False",
                    "authors/B/64/1/float32/False"]
    for row in result["rows"]:
        assert row["steps_per_s"] > 0 and row["images_per_s"] == pytest.approx(
            row["steps_per_s"] * row["batch"])
        assert 0 < row["peak_fraction"] and 0 < row["peak_fraction_cpu"]
        assert row["cpu_seconds"] > 0 and row["peak_rss_mb_group"] > 0
        assert row["flops_per_step"] <= row["flops_graph_tf_stats"] <= row["flops_graph_all"]
    assert set(result["ratios"]) == {k for k in keys if k.startswith("project/")}
    table = (out / "train_speed.md").read_text()
    assert "| project | B | 64 | 1 | mixed_bfloat16 | no |" in table


def test_flop_count_agrees_with_the_analytic_count(tiny_result):
    _, result = tiny_result
    for row in result["rows"]:
        # Convolutions: G x3 + D x7 within 10 %.  (The total also counts
        # BatchNorm and losses, which weigh much more in a 64 px network with
        # 4 filters than at full width: see test_paper_reference_flops_at_256.)
        by_type = row["flops_by_type"]
        # The small convolutions computed as matrix products count as MatMul.
        conv = sum(v for k, v in by_type.items() if k.startswith("Conv2D") or k == "MatMul")
        assert conv == pytest.approx(row["flops_analytic"], rel=0.10)
        assert by_type["Conv2DBackpropFilter"] > 0
        assert row["flops_per_step"] >= conv


def test_compare_prints_ratios(tiny_result):
    _, result = tiny_result
    slower = json.loads(json.dumps(result))
    for row in slower["rows"]:
        row["step_seconds"] *= 2
    lines = compare(slower, result)
    assert len(lines) == 2 + len(result["rows"])
    assert "| 2.00 |" in lines[2]
    assert compare(slower, {"rows": []})[-1].startswith("| (no configuration in common)")


def test_paper_reference_flops_at_256():
    """The counts reproduce the reference note: ~80 GFLOP per step at 256 px.

    Model A's graph count equals G x3 of the analytic count to 1 %.
    """
    from benchmarks.train_speed import analytic_step_flops, count_step_flops
    from solar_euv.models import build_pix2pix

    model = build_pix2pix(256, "B", bottleneck_size=1)  # the authors' network
    model.compile()
    counted = count_step_flops(model, 256)
    assert analytic_step_flops(model) / 1e9 == pytest.approx(80, rel=0.02)
    assert counted["executed"] / 1e9 == pytest.approx(80, rel=0.10)
    model_a = build_pix2pix(256, "A", bottleneck_size=1)
    model_a.compile(gan_weight=0)
    assert count_step_flops(model_a, 256)["executed"] == pytest.approx(
        analytic_step_flops(model_a), rel=0.01)


def test_authors_reference_uses_stock_keras_layers():
    """The reference loop times Keras's own layers, not this project's faster ones."""
    import keras

    from benchmarks.train_speed import authors_step

    _, generator = authors_step("B", 64, 1, base_filters=4)
    kinds = {type(layer) for layer in generator.layers}
    assert keras.layers.BatchNormalization in kinds and keras.layers.Conv2DTranspose in kinds
    assert all(kind.__module__.startswith("keras.") for kind in kinds), kinds


# -- the data side of ``run``: input pipeline, preparation, prediction ------------
SECTIONS = ("pipeline", "prep", "predict")
DATA_TINY = ["--data-sizes", "64", "--pipeline-seconds", "0.2", "--pipeline-examples", "4",
             "--prep-size", "256", "--predict-images", "1", "--predict-batch", "1",
             "--data-repeat", "1"]


def test_quick_run_skips_the_data_side_by_default(tiny_result):
    out, result = tiny_result
    assert not set(SECTIONS) & set(result)
    assert "Input pipeline" not in (out / "train_speed.md").read_text()


def test_measure_pipeline_rows_and_ratio_to_training():
    from benchmarks.pipeline_speed import (compare_with_training, measure_pipeline,
                                           pipeline_markdown)

    rows = measure_pipeline(sizes=[64], examples=4, seconds=0.2, warmup=1)
    assert [(r["size"], r["passbands"], r["target_channels"]) for r in rows] == [
        (64, "171", 1), (64, "all", 9)]
    for row in rows:
        assert row["examples_per_s"] > 0 and row["mib_per_s"] > 0
        assert row["record_mib"] == pytest.approx(2 * 64 * 64 * 10 / 2 ** 20)
    training = [
        {"key": "project/A/64/1/float32/False", "loop": "project", "model": "A", "size": 64,
         "batch": 1, "precision": "float32", "xla": False, "images_per_s": 50.0},
        {"key": "project/B/64/1/float32/False", "loop": "project", "model": "B", "size": 64,
         "batch": 1, "precision": "float32", "xla": False, "images_per_s": 4.0},
        {"key": "project/B/64/1/mixed_bfloat16/False", "loop": "project", "model": "B",
         "size": 64, "batch": 1, "precision": "mixed_bfloat16", "xla": False,
         "images_per_s": 8.0},
        {"key": "authors/B/64/1/float32/False", "loop": "authors", "model": "B", "size": 64,
         "batch": 1, "precision": "float32", "xla": False, "images_per_s": 2.0}]
    other = dict(rows[0], size=128)
    compare_with_training(rows + [other], training)
    for row in rows:
        assert row["training_key"] == "project/B/64/1/float32/False"
        assert row["vs_training"] == pytest.approx(row["examples_per_s"] / 4.0)
    assert other["training_key"] is None and other["vs_training"] is None
    table = pipeline_markdown(rows + [other]).splitlines()
    assert len(table) == 2 + 3 and table[0].startswith("| px | target passbands |")
    assert table[-1].endswith("| n/a | n/a | n/a |")


def test_measure_prep_rows_on_small_synthetic_files():
    from benchmarks.prep_speed import measure_prep, prep_markdown

    rows = measure_prep(input_size=256, repeat=1, passbands=("171",))
    assert [r["kind"] for r in rows] == ["hmi", "171"]
    for row in rows:
        assert row["input_size"] == 256 and row["out_shape"] == [64, 64]
        for key in ("files_per_s", "files_per_s_cpu", "ref_files_per_s",
                    "ref_files_per_s_cpu", "speedup", "speedup_cpu"):
            assert row[key] > 0, key
        assert row["cc_binned"] > 0.9
    assert rows[0]["flux"] is None and rows[1]["flux"] == pytest.approx(1, abs=0.01)
    json.dumps(rows, allow_nan=False)                       # plain JSON values
    assert len(prep_markdown(rows).splitlines()) == 2 + 2


def test_measure_predict_rows_keras_and_saved_model():
    from benchmarks.predict_speed import measure_predict, predict_markdown

    seen = []
    rows = measure_predict(sizes=[64], batch_size=1, images=1, repeat=1, base_filters=4,
                           generate=True, mc_samples=2, on_row=seen.append)
    assert seen == rows and len(rows) == 1
    row = rows[0]
    assert (row["size"], row["batch_size"], row["images"], row["base_filters"]) == (64, 1, 1, 4)
    for key in ("predict_images_per_s", "saved_model_images_per_s", "generate_images_per_s",
                "generate_mc_images_per_s"):
        assert row[key] > 0, key
    assert row["mc_samples"] == 2
    table = predict_markdown(rows).splitlines()
    assert "SavedModel serving_default images/s" in table[0] and "generate" in table[0]
    plain = dict(row, generate_images_per_s=None, generate_mc_images_per_s=None)
    assert "generate" not in predict_markdown([plain])


def test_a_failing_data_part_is_recorded_and_the_others_run(monkeypatch):
    import benchmarks.data_speed as data_speed

    roots = []

    def fake(name):
        def measure(*args, root=None, **kwargs):
            roots.append(pathlib.Path(root))
            (pathlib.Path(root) / name).write_text("x")
            if name == "prep":
                raise RuntimeError("no aiapy today")
            return [{"size": 64}]
        return measure

    for name in ("measure_pipeline", "measure_prep", "measure_predict"):
        monkeypatch.setattr(data_speed, name, fake(name.split("_")[1]))
    monkeypatch.setattr(data_speed, "compare_with_training", lambda rows, training: rows)
    result = data_speed.run_data_benchmarks("quick", [], echo=lambda line: None)
    assert result["pipeline"]["rows"] == result["predict"]["rows"] == [{"size": 64}]
    assert result["prep"]["error"] == "RuntimeError: no aiapy today"
    assert "rows" not in result["prep"] and result["prep"]["settings"]["input_size"] == 4096
    assert len(set(roots)) == 1 and not roots[0].exists()   # one temporary directory, removed
    with pytest.raises(TypeError):
        data_speed.run_data_benchmarks("quick", [], echo=lambda line: None, colour=1)


@pytest.fixture(scope="module")
def tiny_data_result(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench-data")
    argv = (["run", "--quick", "--data", "--out", str(out)] + TINY
            + ["--precisions", "float32", "--no-authors"] + DATA_TINY)
    assert main(argv) == 0
    return out, json.loads((out / "train_speed.json").read_text())


def test_run_with_data_writes_the_data_sections(tiny_data_result):
    out, result = tiny_data_result
    assert [r["key"] for r in result["rows"]] == ["project/B/64/1/float32/False"]
    assert result["machine"]["command"].startswith("python -m benchmarks run --quick --data")
    for name in SECTIONS:
        section = result[name]
        assert section["rows"] and section["seconds"] > 0 and "error" not in section
    pipeline = result["pipeline"]["rows"]
    assert [r["passbands"] for r in pipeline] == ["171", "all"]
    train = result["rows"][0]["images_per_s"]
    for row in pipeline:
        assert row["size"] == 64 and row["examples_per_s"] > 0
        assert row["training_key"] == "project/B/64/1/float32/False"
        assert row["vs_training"] == pytest.approx(row["examples_per_s"] / train)
    assert [r["kind"] for r in result["prep"]["rows"]] == ["hmi", "1700", "171"]
    assert all(r["files_per_s"] > 0 and r["ref_files_per_s"] > 0
               for r in result["prep"]["rows"])
    (predict,) = result["predict"]["rows"]
    assert predict["size"] == 64 and predict["base_filters"] == 4
    assert predict["predict_images_per_s"] > 0 and predict["saved_model_images_per_s"] > 0
    assert predict["generate_images_per_s"] is None
    table = (out / "train_speed.md").read_text()
    assert "| project | B | 64 | 1 | float32 | no |" in table
    for header in ("| px | target passbands | record (MiB) | examples/s |",
                   "| channel | input px | output px | solar_euv files/s (wall) |",
                   "| px | batch, images | base filters | Model.predict images/s |"):
        assert header in table
    assert table.index("| loop | model |") < table.index("Input pipeline") < table.index(
        "Preparation") < table.index("Prediction")


def test_layer_speed_times_every_layer_pair():
    from benchmarks.layer_speed import measure

    rows = measure(repeat=1, shapes={"convt": [(4, 8, 4)], "logits": [(9, 8)],
                                     "bn": [(8, 4)]})
    assert [r["group"] for r in rows] == ["convt", "logits", "bn"]
    assert rows[0]["shape"] == "4x4x8 -> 8x8x4"
    for row in rows:
        assert row["keras_ms"] > 0 and row["project_ms"] > 0
        assert row["ratio"] == pytest.approx(row["keras_ms"] / row["project_ms"])


def test_learn_writes_curves_references_and_sharpness(prepared_sample, tmp_path, capsys):
    out = tmp_path / "learn"
    assert main(["learn", "--out", str(out), "--data", str(prepared_sample), "--sun-seed",
                 "0", "--passbands", "171", "--models", "A,B", "--no-nine", "--steps", "2",
                 "--image-size", "64", "--validate-every", "1"]) == 0
    result = json.loads((out / "learn.json").read_text())
    assert [r["name"] for r in result["runs"]] == ["A-171", "B-171"]
    assert result["runs"][0]["curve"]["steps"] == [1, 2]
    refs = result["references"]
    assert set(refs) >= {"pixel_fit", "oracle", "oracle_at_size"}
    assert -1 <= result["untrained"]["171"] <= 1
    for run in result["runs"]:
        final = run["final"]["171"]
        assert final["HFP"] > 0 and final["FLUX"] > 0 and -1 <= final["CC"] <= 1
    text = (out / "learn.md").read_text()
    assert "| 171 |" in text and "A-171 CC" in text and "HF power ratio" in text
    assert (out / "learn.png").stat().st_size > 5000
    assert result["command"].startswith("python -m benchmarks learn")
    assert result["machine"]["device_kind"] and result["machine"]["cpu_count"] >= 1
    # Runs made in parallel (one per core) combine into one result and one set of tables.
    other = json.loads((out / "learn.json").read_text())
    other["command"] += " --passbands 193"
    other["references"] = {k: ({"193": 0.5} if isinstance(v, dict) else v)
                           for k, v in other["references"].items()}
    other["untrained"] = {"193": 0.1}
    other["runs"] = [dict(run, name="A-193", passbands=["193"],
                          final={"193": run["final"]["171"]},
                          curve={"steps": run["curve"]["steps"],
                                 "CC": {"193": run["curve"]["CC"]["171"]}})
                     for run in other["runs"][:1]]
    (tmp_path / "other.json").write_text(json.dumps(other))
    merged_dir = tmp_path / "merged"
    assert main(["learn", "--out", str(merged_dir), "--merge", str(out / "learn.json"),
                 "--merge", str(tmp_path / "other.json")]) == 0
    merged = json.loads((merged_dir / "learn.json").read_text())
    assert [r["name"] for r in merged["runs"]] == ["A-171", "B-171", "A-193"]
    assert list(merged["references"]["pixel_fit"]) == ["171", "193"]
    assert " ; " in merged["command"]
    runs_table = json.loads((merged_dir / "learn_runs.json").read_text())
    assert [row[:2] for row in runs_table["rows"]] == [["A-171", "171"], ["B-171", "171"],
                                                      ["A-193", "193"]]
    other["lr"] = 1.0
    (tmp_path / "other.json").write_text(json.dumps(other))
    with pytest.raises(ValueError, match="different settings: lr"):
        main(["learn", "--out", str(merged_dir), "--merge", str(out / "learn.json"),
              "--merge", str(tmp_path / "other.json")])
    # where the error of a run lies (benchmarks.learn_errors), on the same run
    from benchmarks import learn_errors

    assert learn_errors.main([str(out / "runs" / "A-171"), "--band", "171", "--sun-seed", "0",
                              "--out", str(tmp_path / "errors")]) == 0
    errors = json.loads((tmp_path / "errors" / "learn_errors_171.json").read_text())
    assert set(errors["cc"]) == {"model", "fit", "oracle"}
    for table in ("brightness", "radius"):
        rows = errors[table]
        assert sum(r["pixels"] for r in rows) == sum(r["pixels"] for r in errors["radius"])
        for name in ("model", "fit"):
            assert sum(r[f"{name}_share"] for r in rows) == pytest.approx(1.0)
    assert "| 0.99-1 R |" in (tmp_path / "errors" / "learn_errors_171.md").read_text()


def test_error_tables_put_the_error_where_it_is():
    from benchmarks.learn_errors import error_tables
    from solar_euv.scaling import disk_center_px, solar_radius_px

    size = 64
    yy, xx = np.mgrid[0:size, 0:size]
    rho = np.hypot(xx - disk_center_px(size), yy - disk_center_px(size)) / solar_radius_px(size)
    observed = np.where(rho <= 1.0, 100.0 + 10.0 * rho, 0.0)[None].repeat(2, axis=0)
    observed[:, 32, 32] = 1000.0                        # one bright pixel per image
    exact_but_limb = np.where(rho > 0.99, 0.0, observed)   # a dark last ring
    tables = error_tables(observed, {"m": exact_but_limb, "perfect": observed})
    ring = {r["range"]: r for r in tables["radius"]}
    assert ring["0.99-1 R"]["m_share"] == pytest.approx(1.0)
    assert ring["0.99-1 R"]["m_ratio"] < 0.02 and ring["0-0.9 R"]["m_sse"] == 0
    assert all(r["perfect_sse"] == 0 for r in tables["radius"] + tables["brightness"])
    top = tables["brightness"][-1]
    # the two bright pixels (and the few brightest of the rest) make the top band
    assert top["pixels"] < 30
    assert top["observed_mean"] > 1.5 * tables["brightness"][-2]["observed_mean"]


def test_results_name_the_device_kind(tiny_result):
    from solar_euv.device import KINDS, device_kind

    out, result = tiny_result
    assert result["machine"]["device_kind"] == device_kind() and device_kind() in KINDS
    assert result["settings"]["fast_paths"] == ["table"]
    assert f"(kind {device_kind()}" in (out / "train_speed.md").read_text()


def test_fast_path_variants_run_side_by_side(monkeypatch):
    from benchmarks.train_speed import run_benchmark

    monkeypatch.setenv("SOLAR_EUV_DEVICE_KIND", "cpu-avx2")
    result = run_benchmark("quick", models=["A"], sizes=[64], precisions=["float32"],
                           rounds=1, steps=1, warmup=1, base_filters=4, matmul_size=256,
                           fast_paths=["table", "off", "no-fused_batch_norm"],
                           echo=lambda line: None)
    assert [r["key"] for r in result["rows"]] == [
        "project/A/64/1/float32/False", "project (off)/A/64/1/float32/False",
        "project (no-fused_batch_norm)/A/64/1/float32/False", "authors/A/64/1/float32/False"]
    assert result["machine"]["device_kind"] == "cpu-avx2"
    assert result["settings"]["fast_path_settings"]["off"]["fused_adam"] is False
    assert not result["settings"]["fast_path_settings"]["table"]["fused_batch_norm"]
    assert set(result["ratios"]) == {r["key"] for r in result["rows"][:3]}


def test_modes_leave_emulated_bfloat16_out(monkeypatch):
    from benchmarks.train_speed import supported_precisions

    both = ["float32", "mixed_bfloat16"]
    monkeypatch.setenv("SOLAR_EUV_DEVICE_KIND", "cpu-avx2")
    assert supported_precisions(both, explicit=False) == ["float32"]
    assert supported_precisions(both) == both  # asked for: measured anyway
    monkeypatch.setenv("SOLAR_EUV_DEVICE_KIND", "cpu-avx512-bf16")
    assert supported_precisions(both + ["mixed_float16"], explicit=False) == both


def test_default_run_reads_the_training_log():
    from benchmarks.default_run import parse_training_output

    log = """solar-euv-train: model A, passbands 171, 128 px, global batch 4; precision mixed_bfloat16
step 100/600: g_loss 11.45, l1 0.1145; 1.66 steps/s, about 5 min left
step 200: validation L1 0.0448; 171 CC 0.765
step 400: validation L1 0.0401; 171 CC 0.790
done: 600 steps in 42 s (14.26 steps/s); validation L1 0.0307, 171 CC 0.800 (per-pixel fit 0.801, oracle 0.875, at 128 px 0.818) on 21 validation examples; model: runs/solar-euv/model.keras
"""
    figures = parse_training_output(log)
    assert figures["curve"] == [[200, 0.765], [400, 0.790]]
    assert (figures["steps"], figures["train_seconds"], figures["steps_per_s"]) == (600, 42, 14.26)
    assert (figures["cc"], figures["pixel_fit"], figures["oracle"], figures["oracle_at_size"]) \
        == (0.800, 0.801, 0.875, 0.818)
    with pytest.raises(ValueError, match="no 'done:' line"):
        parse_training_output("step 200: validation L1 0.0448; 171 CC 0.765\n")


def test_learn_ablation_log_becomes_a_results_table():
    from benchmarks.learn_ablation import ablation_table

    defaults = {"band": "171", "steps": 600, "every": 200, "disk_loss": False, "log": "x"}
    lines = [json.dumps({"args": dict(defaults, band="1700", steps=400, disk_loss=True,
                                      log="y"),
                         "curve": [[200, 30.0, 0.9512], [400, 61.2, 0.9641]],
                         "machine": "a CPU"}),
             json.dumps({"args": defaults, "curve": [[200, 29.0, 0.7]]})]
    table = ablation_table(lines, defaults, command="c", machine={"cpu": "x"})
    assert table["columns"][2:4] == ["200", "400"]
    assert table["rows"][0][:5] == ["1700", "`--band 1700 --steps 400 --disk-loss`", "0.951",
                                    "0.964", "61"]
    assert table["rows"][0][-1] == "a CPU" and table["rows"][1][-1] == "not recorded"
    assert table["rows"][1][1:4] == ["(the defaults)", "0.700", ""]


def test_profile_writes_its_table(tmp_path, capsys):
    assert main(["profile", "--model", "A", "--size", "64", "--base-filters", "8",
                 "--steps", "1", "--top", "4", "--logdir", str(tmp_path / "trace"),
                 "--out", str(tmp_path)]) == 0
    table = json.loads((tmp_path / "profile_project_A_64.json").read_text())
    assert table["columns"] == ["op type", "ms/step", "share of op time", "ops/step"]
    assert 1 <= len(table["rows"]) <= 4 and table["machine"]
    assert table["command"].startswith("python -m benchmarks profile --model A --size 64")
    assert any("Conv2D" in row[0] for row in table["rows"])
