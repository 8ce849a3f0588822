"""The data side of ``python -m benchmarks run``: input pipeline, preparation, prediction.

Run after the training measurement in the same process, so that all figures
of one ``train_speed.json`` come from the same machine, versions and load:

* ``pipeline``: examples/s of the training input pipeline from TFRecord
  shards (:func:`benchmarks.pipeline_speed.measure_pipeline`), with the
  ratio to the training step rate of the same run at the same size;
* ``prep``: files/s of :func:`solar_euv.sdo.prep.prepare_file` and of the
  aiapy-style reference on synthetic-Sun level-1 files
  (:func:`benchmarks.prep_speed.measure_prep`);
* ``predict``: images/s through ``Model.predict`` and through the exported
  SavedModel (:func:`benchmarks.predict_speed.measure_predict`).

Every temporary file (shards, FITS files, SavedModels) lives in one
:class:`tempfile.TemporaryDirectory`, removed even when a part fails.
"""
import copy
import tempfile
import time
import traceback

from benchmarks.pipeline_speed import (compare_with_training, measure_pipeline,
                                       pipeline_markdown)
from benchmarks.predict_speed import measure_predict, predict_markdown
from benchmarks.prep_speed import measure_prep, prep_markdown

__all__ = ["DATA_MODES", "SECTIONS", "run_data_benchmarks", "markdown_data"]

#: What the data part measures in each mode of ``run`` (``--quick`` skips it
#: unless ``--data`` is given).
DATA_MODES = {
    "quick": {"sizes": [256], "pipeline_seconds": 3.0, "pipeline_examples": None,
              "prep_size": 4096, "repeat": 1, "predict_images": 2, "predict_batch": 1},
    "standard": {"sizes": [256, 1024], "pipeline_seconds": 5.0, "pipeline_examples": None,
                 "prep_size": 4096, "repeat": 2, "predict_images": 4, "predict_batch": 2},
    "full": {"sizes": [256, 1024], "pipeline_seconds": 10.0, "pipeline_examples": None,
             "prep_size": 4096, "repeat": 3, "predict_images": 8, "predict_batch": 4},
}

#: Top-level keys of the result, in the order they run.
SECTIONS = ("pipeline", "prep", "predict")


def run_data_benchmarks(mode="standard", training_rows=(), base_filters=64, echo=print,
                        **overrides):
    """Measure the input pipeline, the preparation and prediction.

    Parameters
    ----------
    mode : {"quick", "standard", "full"}
        Preset (:data:`DATA_MODES`).
    training_rows : sequence of dict
        ``rows`` of the training result of the same run: the pipeline rows
        get the ratio to the float32 training rate of the same size.
    base_filters : int
        Width of the generator whose prediction is timed.
    echo : callable
        Progress lines.
    **overrides
        Entries of :data:`DATA_MODES` (``sizes``, ``pipeline_seconds``,
        ``pipeline_examples``, ``prep_size``, ``repeat``, ``predict_images``,
        ``predict_batch``); None keeps the preset.

    Returns
    -------
    dict
        ``pipeline``, ``prep`` and ``predict``, each ``{"settings", "rows",
        "seconds"}``, or ``{"settings", "error", "seconds"}`` where that part
        raised (the other parts still run).
    """
    unknown = set(overrides) - set(DATA_MODES[mode])
    if unknown:
        raise TypeError(f"unknown setting(s): {', '.join(sorted(unknown))}")
    s = copy.deepcopy(DATA_MODES[mode])
    s.update({k: v for k, v in overrides.items() if v is not None})
    settings = {
        "pipeline": {"sizes": s["sizes"], "seconds": s["pipeline_seconds"],
                     "examples": s["pipeline_examples"], "batch": 1, "training": True,
                     "source": "synthetic float16 TFRecord shards in the page cache"},
        "prep": {"input_size": s["prep_size"], "output_size": s["prep_size"] // 4,
                 "repeat": s["repeat"],
                 "source": "synthetic-Sun level-1 files (solar_euv.synthetic, seed 0)",
                 "reference": "sunpy Map + aiapy register (cubic) + calibration + 4x4 mean"},
        "predict": {"sizes": s["sizes"], "images": s["predict_images"],
                    "batch_size": s["predict_batch"], "repeat": s["repeat"],
                    "base_filters": base_filters, "weights": "untrained"},
    }
    measure = {
        "pipeline": lambda tmp: compare_with_training(
            measure_pipeline(s["sizes"], s["pipeline_examples"], s["pipeline_seconds"],
                             root=tmp, echo=echo), list(training_rows)),
        "prep": lambda tmp: measure_prep(s["prep_size"], repeat=s["repeat"], root=tmp,
                                         echo=echo),
        "predict": lambda tmp: measure_predict(
            s["sizes"], s["predict_batch"], s["predict_images"], s["repeat"], base_filters,
            generate=False, root=tmp, on_row=lambda r: echo(
                f"  predict {r['size']} px: Model.predict {r['predict_images_per_s']:.2f}, "
                f"SavedModel {r['saved_model_images_per_s']:.2f} images/s")),
    }
    result = {}
    with tempfile.TemporaryDirectory(prefix="solar-euv-bench-") as tmp:
        for name in SECTIONS:
            echo(f"data: {name}")
            t0 = time.perf_counter()
            section = {"settings": settings[name]}
            try:
                section["rows"] = measure[name](tmp)
            except Exception as exc:  # keep the other parts and the training result
                section["error"] = f"{type(exc).__name__}: {exc}"
                echo(f"  {name} failed:\n" + traceback.format_exc())
            section["seconds"] = time.perf_counter() - t0
            result[name] = section
    return result


#: Title (from a section's settings) and table of each section in the Markdown.
_TITLES = {
    "pipeline": (lambda st: (
        f"Input pipeline: examples/s of `make_dataset` (training mode, batch 1) from "
        f"synthetic TFRecord shards in the page cache, {st['seconds']:g} s per measurement; "
        f"\"pipeline / training\" is examples/s over the images/s of the float32 training "
        f"step at the same size in this run."), pipeline_markdown),
    "prep": (lambda st: (
        f"Preparation: files/s of `solar_euv.sdo.prep.prepare_file` ({st['input_size']} -> "
        f"{st['output_size']} px) and of the reference ({st['reference']}), synthetic-Sun "
        f"level-1 files, reading included, one process, best of {st['repeat']}."),
        prep_markdown),
    "predict": (lambda st: (
        f"Prediction: images/s of an untrained generator ({st['base_filters']} base "
        f"filters, one passband) through keras `Model.predict` (network units) and the "
        f"exported SavedModel's `serving_default` (Gauss in, DN/s out), best of "
        f"{st['repeat']}."), predict_markdown),
}


def markdown_data(result):
    """Markdown of the data sections of a result (empty string where there are none).

    Parameters
    ----------
    result : dict
        A ``train_speed.json`` result, with any of :data:`SECTIONS`.

    Returns
    -------
    str
        One titled table per section present, each followed by a blank line.
    """
    text = ""
    for name in SECTIONS:
        if name not in result:
            continue
        section = result[name]
        title, table = _TITLES[name]
        body = (table(section["rows"]) if "rows" in section
                else f"(failed: {section['error']})")
        text += f"{title(section['settings'])}\n\n{body}\n\n"
    return text
