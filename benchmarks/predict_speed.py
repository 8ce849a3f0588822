"""Images per second of the paper's generator: keras Model.predict vs the exported SavedModel.

For each size, an untrained paper-sized U-Net (64 base filters, one passband;
the speed does not depend on the weights) is measured three ways on random
magnetograms already on the grid (reading and preparing FITS files is
measured by ``prep_speed.py``):

* ``Model.predict`` on network units (the bare network);
* :func:`solar_euv.inference.generate`: Gauss in, DN/s out (``solar-euv
  predict`` without the file handling), also with ``--mc-samples 4``;
* the ``serving_default`` signature of :func:`solar_euv.export.export_saved_model`
  loaded with ``tf.saved_model.load`` (Gauss in, DN/s out).

Each figure is the best of ``--repeat`` timed runs over ``--images`` images
after one warm-up run; the four ways take turns, so a change of load on a
shared machine hits them alike::

    python benchmarks/predict_speed.py --sizes 256 1024 --batch-size 4 --images 8
"""
import argparse
import os
import tempfile
import time


def _best(fns, repeat):
    """Best time of each function, measured round-robin (fair under a changing load)."""
    for fn in fns:
        fn()                                   # warm-up: tracing, allocation
    best = [float("inf")] * len(fns)
    for _ in range(repeat):
        for k, fn in enumerate(fns):
            t0 = time.perf_counter()
            fn()
            best[k] = min(best[k], time.perf_counter() - t0)
    return best


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 1024])
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--images", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--base-filters", type=int, default=64)
    args = parser.parse_args(argv)

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import pathlib

    import numpy as np
    import tensorflow as tf

    from solar_euv.export import export_saved_model
    from solar_euv.inference import (TrainedModel, generate, mc_dropout_generator,
                                     network_input)
    from solar_euv.models import build_generator
    from solar_euv.scaling import Scaling

    print(f"TensorFlow {tf.__version__}; devices: "
          + ", ".join(d.device_type for d in tf.config.list_physical_devices())
          + f"; {os.cpu_count()} CPU cores; batch {args.batch_size}, {args.images} images, "
            f"best of {args.repeat}")
    print("| size | Model.predict (network units) | generate (G -> DN/s) | "
          "generate, 4 MC samples | SavedModel serving_default |")
    print("|---|---|---|---|---|")
    rng = np.random.default_rng(0)
    for size in args.sizes:
        generator = build_generator(size, base_filters=args.base_filters)
        with tempfile.TemporaryDirectory() as tmp:
            path = pathlib.Path(tmp) / "generator.keras"
            generator.save(path)
            trained = TrainedModel(model=generator, generator=generator, passbands=("171",),
                                   scaling=Scaling(), image_size=size, path=path, kind="A",
                                   metadata_source="benchmark")
            gauss = rng.normal(0, 300, (args.images, size, size)).astype("float32")
            x = network_input(gauss, trained.scaling)
            version = export_saved_model(trained, pathlib.Path(tmp) / "serving",
                                         verify=False)
            serve = tf.saved_model.load(str(version)).signatures["serving_default"]
            batches = [tf.constant(gauss[i:i + args.batch_size, ..., None])
                       for i in range(0, args.images, args.batch_size)]
            mc_model = mc_dropout_generator(generator, seed=0)
            seconds = _best([
                lambda: generator.predict(x, batch_size=args.batch_size, verbose=0),
                lambda: generate(trained, gauss, batch_size=args.batch_size),
                lambda: generate(trained, gauss, batch_size=args.batch_size, mc_samples=4,
                                 mc_model=mc_model),
                lambda: [serve(magnetogram=b)["aia_171"].numpy() for b in batches],
            ], args.repeat)
        rates = [args.images / t for t in seconds]
        cells = [f"{r:.2f} img/s" for r in rates]
        cells[2] += f" ({4 * rates[2]:.2f} passes/s)"
        print(f"| {size} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
