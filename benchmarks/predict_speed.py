"""Images per second of the paper's generator: keras Model.predict vs the exported SavedModel.

For each size, an untrained paper-sized U-Net (64 base filters, one passband;
the speed does not depend on the weights) is measured three ways on random
magnetograms already on the grid (reading and preparing FITS files is
measured by ``prep_speed.py``):

* ``Model.predict`` on network units (the bare network);
* :func:`solar_euv.inference.generation.generate`: Gauss in, DN/s out (``solar-euv
  predict`` without the file handling), also with ``--mc-samples 4``;
* the ``serving_default`` signature of :func:`solar_euv.export.export_saved_model`
  loaded with ``tf.saved_model.load`` (Gauss in, DN/s out).

Each figure is the best of ``--repeat`` timed runs over ``--images`` images
after one warm-up run; the four ways take turns, so a change of load on a
shared machine hits them alike::

    python benchmarks/predict_speed.py --sizes 256 1024 --batch-size 4 --images 8

``python -m benchmarks run`` measures ``Model.predict`` and the SavedModel
through :func:`measure_predict` (``generate=False``) and writes
:func:`predict_markdown`'s table.
"""
import argparse
import os
import pathlib
import tempfile

try:
    from benchmarks.common import best_times
except ImportError:        # run as a script, python benchmarks/predict_speed.py
    from common import best_times

__all__ = ["measure_predict", "predict_markdown", "main"]


def measure_predict(sizes=(256, 1024), batch_size=4, images=8, repeat=3, base_filters=64,
                    generate=True, mc_samples=4, root=None, on_row=None):
    """Images/s of an untrained generator through ``Model.predict`` and the SavedModel.

    Parameters
    ----------
    sizes : sequence of int
        Image sides in pixels.
    batch_size : int
        Batch size of every way.
    images : int
        Random magnetograms per timed run.
    repeat : int
        Timed runs per way (after one warm-up run); the best is kept.
    base_filters : int
        Width of the U-Net (64: the paper's).
    generate : bool
        Also time :func:`solar_euv.inference.generation.generate`, plain and with
        ``mc_samples`` Monte-Carlo dropout passes.
    mc_samples : int
        Passes of the Monte-Carlo measurement.
    root : str or os.PathLike, optional
        Existing directory for the saved ``.keras`` file and the SavedModel
        (one sub-directory per size); default: a temporary directory per
        size, removed afterwards.
    on_row : callable, optional
        Called with each row as soon as it is measured.

    Returns
    -------
    list of dict
        One row per size: ``size``, ``batch_size``, ``images``, ``repeat``,
        ``base_filters``, ``predict_images_per_s`` (``Model.predict`` on
        network units), ``saved_model_images_per_s`` (``serving_default``,
        Gauss in, DN/s out), ``generate_images_per_s`` and
        ``generate_mc_images_per_s`` (None unless ``generate``) and
        ``mc_samples``.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import numpy as np
    import tensorflow as tf

    from solar_euv.export import export_saved_model
    from solar_euv.inference.generation import generate as generate_dn
    from solar_euv.inference.generation import mc_dropout_generator, network_input
    from solar_euv.inference.trained_model import TrainedModel
    from solar_euv.models import build_generator
    from solar_euv.scaling import Scaling

    rng = np.random.default_rng(0)
    rows = []
    for size in sizes:
        generator = build_generator(size, base_filters=base_filters)
        with tempfile.TemporaryDirectory(prefix=f"predict-{size}-", dir=root) as tmp:
            path = pathlib.Path(tmp) / "generator.keras"
            generator.save(path)
            trained = TrainedModel(model=generator, generator=generator, passbands=("171",),
                                   scaling=Scaling(), image_size=size, path=path, kind="A",
                                   metadata_source="benchmark")
            gauss = rng.normal(0, 300, (images, size, size)).astype("float32")
            x = network_input(gauss, trained.scaling)
            version = export_saved_model(trained, pathlib.Path(tmp) / "serving",
                                         verify=False)
            serve = tf.saved_model.load(str(version)).signatures["serving_default"]
            batches = [tf.constant(gauss[i:i + batch_size, ..., None])
                       for i in range(0, images, batch_size)]
            ways = {"predict": lambda: generator.predict(x, batch_size=batch_size,
                                                         verbose=0)}
            if generate:
                mc_model = mc_dropout_generator(generator, seed=0)
                ways["generate"] = lambda: generate_dn(trained, gauss, batch_size=batch_size)
                ways["generate_mc"] = lambda: generate_dn(
                    trained, gauss, batch_size=batch_size, mc_samples=mc_samples,
                    mc_model=mc_model)
            ways["saved_model"] = lambda: [serve(magnetogram=b)["aia_171"].numpy()
                                           for b in batches]
            seconds = best_times(list(ways.values()), repeat)
            rates = {name: images / t for name, t in zip(ways, seconds)}
        row = {"size": size, "batch_size": batch_size, "images": images, "repeat": repeat,
               "base_filters": base_filters, "predict_images_per_s": rates["predict"],
               "saved_model_images_per_s": rates["saved_model"],
               "generate_images_per_s": rates.get("generate"),
               "generate_mc_images_per_s": rates.get("generate_mc"),
               "mc_samples": mc_samples if generate else None}
        rows.append(row)
        if on_row is not None:
            on_row(row)
    return rows


def predict_markdown(rows):
    """Markdown table of :func:`measure_predict` rows.

    Parameters
    ----------
    rows : list of dict

    Returns
    -------
    str
        Table lines, no trailing newline; the ``generate`` columns only
        where a row measured them.
    """
    with_generate = any(r.get("generate_images_per_s") is not None for r in rows)
    head = ("| px | batch, images | base filters | Model.predict images/s "
            "| SavedModel serving_default images/s | SavedModel / predict |")
    rule = "|---|---|---|---|---|---|"
    if with_generate:
        head += " generate images/s | generate, MC dropout images/s |"
        rule += "---|---|"
    lines = [head, rule]
    for r in rows:
        line = (f"| {r['size']} | {r['batch_size']}, {r['images']} | {r['base_filters']} | "
                f"{r['predict_images_per_s']:.2f} | {r['saved_model_images_per_s']:.2f} | "
                f"{r['saved_model_images_per_s'] / r['predict_images_per_s']:.2f}x |")
        if with_generate:
            gen, mc = r.get("generate_images_per_s"), r.get("generate_mc_images_per_s")
            gen = "-" if gen is None else f"{gen:.2f}"
            mc = "-" if mc is None else f"{mc:.2f} ({r['mc_samples']} samples)"
            line += f" {gen} | {mc} |"
        lines.append(line)
    return "\n".join(lines)


def main(argv=None):
    """Command line: print the four ways' images/s per size as a markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 1024])
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--images", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--base-filters", type=int, default=64)
    args = parser.parse_args(argv)

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    print(f"TensorFlow {tf.__version__}; devices: "
          + ", ".join(d.device_type for d in tf.config.list_physical_devices())
          + f"; {os.cpu_count()} CPU cores; batch {args.batch_size}, {args.images} images, "
            f"best of {args.repeat}")
    print("| size | Model.predict (network units) | generate (G -> DN/s) | "
          "generate, 4 MC samples | SavedModel serving_default |")
    print("|---|---|---|---|---|")

    def print_row(row):
        rates = [row["predict_images_per_s"], row["generate_images_per_s"],
                 row["generate_mc_images_per_s"], row["saved_model_images_per_s"]]
        cells = [f"{r:.2f} img/s" for r in rates]
        cells[2] += f" ({4 * rates[2]:.2f} passes/s)"
        print(f"| {row['size']} | " + " | ".join(cells) + " |", flush=True)

    measure_predict(args.sizes, args.batch_size, args.images, args.repeat,
                    args.base_filters, generate=True, mc_samples=4, on_row=print_row)


if __name__ == "__main__":
    main()
