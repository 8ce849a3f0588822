"""Seconds per magnetogram, end to end: a 4096 px HMI file to nine AIA passbands at 1024 px.

What ``solar-euv predict`` does for one full-disk file, stage by stage:
read and validate the FITS file and put it on the 1024 px grid (sunpy,
skimage warp), run the paper's generator (64 base filters, nine outputs;
untrained weights, the speed does not depend on them), and write the nine
FITS files (DN/s, full headers) and PNGs; then ``predict_files`` as a whole,
and the exported SavedModel's ``serving_default`` (Gauss in, DN/s out) in
place of the Keras network.  Each figure is the best of ``--repeat`` runs
after a warm-up.  Writes ``benchmarks/results/predict_end_to_end.json``::

    python -m benchmarks.predict_end_to_end --repeat 2
"""
import argparse
import os
import pathlib
import shutil
import tempfile

from benchmarks.common import best_times, machine_info, results_table, write_json

__all__ = ["main"]

RESULTS = pathlib.Path(__file__).resolve().parent / "results" / "predict_end_to_end.json"


def _best(func, repeat):
    return best_times([func], repeat)[0]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--input-size", type=int, default=4096, help="HMI file side")
    parser.add_argument("--image-size", type=int, default=1024, help="network grid side")
    parser.add_argument("--base-filters", type=int, default=64)
    parser.add_argument("--results", default=str(RESULTS))
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

    import keras
    import numpy as np
    import tensorflow as tf

    from solar_euv.export import export_saved_model
    from solar_euv.inference.generation import generate
    from solar_euv.inference.predict import OutputDirectory, _write_outputs, predict_files
    from solar_euv.inference.trained_model import load_trained_model, write_model_metadata
    from solar_euv.models import build_pix2pix
    from solar_euv.passbands import PASSBAND_NAMES
    from solar_euv.scaling import Scaling
    from solar_euv.sdo.magnetograms import read_magnetogram
    from solar_euv.synthetic.sample import write_sample

    n = args.image_size
    work = pathlib.Path(tempfile.mkdtemp(prefix="predict-e2e-"))
    try:
        write_sample(work / "raw", ["2017-08-01T12:00:00"], size=args.input_size,
                     passbands=["171"])
        source = sorted((work / "raw").glob("hmi.*.fits"))[0]
        keras.utils.set_random_seed(0)
        model = build_pix2pix(n, model="A", out_channels=9, base_filters=args.base_filters)
        model.compile(gan_weight=0.0)
        model(np.zeros((1, n, n, 1), "float32"))
        path = work / "model.keras"
        model.save(path)
        write_model_metadata(path, PASSBAND_NAMES, Scaling(), n, kind="A")
        trained = load_trained_model(path)

        state = {}

        def read():
            state["m"] = read_magnetogram(str(source), n)

        def network():
            state["r"] = generate(trained, state["m"].gauss[None])

        def write(formats):
            out_dir = work / "out"
            shutil.rmtree(out_dir, ignore_errors=True)
            with OutputDirectory(out_dir) as out:
                _write_outputs(out, trained, state["r"], 0, state["m"], "t", formats)
                out.commit()

        def whole():
            shutil.rmtree(work / "predict", ignore_errors=True)
            predict_files(trained, [source], work / "predict")

        t_read = _best(read, args.repeat)
        t_net = _best(network, args.repeat)
        t_fits = _best(lambda: write(("fits",)), args.repeat)
        t_both = _best(lambda: write(("fits", "png")), args.repeat)
        t_whole = _best(whole, args.repeat)

        version = export_saved_model(trained, work / "serving", name="e2e", verify=False)
        serving = tf.saved_model.load(str(version)).signatures["serving_default"]
        gauss = tf.constant(state["m"].gauss[None, :, :, None], tf.float32)

        def saved():
            state["s"] = serving(magnetogram=gauss)

        t_saved = _best(saved, args.repeat)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    stages = [("read + validate + put on the grid (sunpy, skimage warp)", t_read),
              ("generator, Keras (G -> DN/s)", t_net),
              ("write 9 FITS", t_fits),
              ("write 9 FITS + 9 PNG", t_both),
              ("`predict_files` end to end (FITS + PNG)", t_whole),
              ("generator, SavedModel `serving_default` (Gauss -> DN/s)", t_saved),
              ("SavedModel path: read + serving + 9 FITS", t_read + t_saved + t_fits)]
    for label, seconds in stages:
        print(f"{seconds:7.2f} s  {label}")
    command = "python -m benchmarks.predict_end_to_end " + " ".join(argv or [])
    result = results_table(
        f"One {args.input_size} px HMI file to nine passbands at {n} px (the paper's "
        f"generator, {args.base_filters} base filters, untrained; best of {args.repeat} "
        "after a warm-up)", ["stage", "seconds", "share of end to end"],
        [[label, f"{seconds:.2f}", f"{100 * seconds / t_whole:.0f} %"]
         for label, seconds in stages],
        command=command.strip(), machine=machine_info(command))
    write_json(args.results, result)
    print(f"written: {args.results}")


if __name__ == "__main__":
    main()
