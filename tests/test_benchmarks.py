"""The training benchmark harness (``python -m benchmarks``) in a tiny configuration."""
import json
import pathlib
import sys

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
