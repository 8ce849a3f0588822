"""How much of each synthetic AIA passband a magnetogram can predict, at the quick training size.

Usage::

    python benchmarks/synthetic_learnability.py                     # 24 train + 8 validation times
    python benchmarks/synthetic_learnability.py --train 12 --val 4 --passbands 171,1700
    python benchmarks/synthetic_learnability.py --no-generator      # without TensorFlow

The times are those of the embedded default sample
(:func:`solar_euv.synthetic.sample.default_sample_times`): ``--train`` of them
spread over its training years (2011-2016) and ``--val`` over its
validation half-year (2017 January-June).  Each time step is written as
256 px level-1 FITS files, prepared onto the 256 px common grid by
:mod:`solar_euv.sdo.prep` (the path ``solar-euv prepare`` takes) and
area-averaged to 128 px, as ``make_dataset(..., image_size=128)`` does for
the quick preset.  On the validation times it prints, per passband, the mean
of the paper's CC (:func:`solar_euv.metrics.image_metrics`, linear DN/s on
the disk) against the observed (prepared) image of:

oracle
    the noise-free truth :meth:`SyntheticSun.truth` (``unpredictable=False``,
    computed at 256 px, averaged to 128 px): the best any model can do.
oracle at 128
    the same forward model evaluated on the 128 px grid itself, i.e. from
    the magnetogram as the network sees it, without sub-pixel structure.
no instrument
    ``truth(..., unpredictable=True)`` averaged to 128 px (the observed
    image before pointing, resampling and photon noise); its difference from
    the oracle column shows what the instrument adds.
baseline
    the per-pixel fit :class:`solar_euv.reference.PixelFit` (the one
    ``solar-euv-train`` reports), fitted on the training times from the
    observed 128 px magnetogram alone.
untrained
    an untrained generator, ``build_generator(128, base_filters=32)`` with
    the network units and off-disk masking of :mod:`solar_euv.scaling`
    (seed 0, inference mode), as the validation of ``solar-euv-train`` sees
    it at step 0.

``var unpred`` is the fraction of the observed on-disk variance that is not
explained by the oracle (``1 - oracle**2``).
"""
import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import argparse  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
from solar_euv.metrics import image_metrics  # noqa: E402
from solar_euv.passbands import parse_passbands  # noqa: E402
from solar_euv.reference import PixelFit  # noqa: E402
from solar_euv.scaling import DEFAULT_SCALING  # noqa: E402
from solar_euv.sdo.prep import prepare_aia, prepare_hmi  # noqa: E402
from solar_euv.synthetic.sample import default_sample_times  # noqa: E402
from solar_euv.synthetic.sun import SyntheticSun  # noqa: E402

__all__ = ["pick_times", "observe", "fit_baseline", "predict_baseline",
           "untrained_predictions", "main"]

STORED_SIZE = 256
TRAIN_SIZE = 128


def _bin(image, size=TRAIN_SIZE):
    f = image.shape[0] // size
    return image.reshape(size, f, size, f).mean(axis=(1, 3))


def pick_times(n_train, n_val):
    """``n_train`` default-sample times from 2011-2016 and ``n_val`` from 2017 Jan-Jun."""
    times = default_sample_times()
    train = [t for t in times if t.datetime.year <= 2016]
    val = [t for t in times if t.datetime.year == 2017 and t.datetime.month <= 6]

    def spread(seq, n):
        idx = np.unique(np.round(np.linspace(0, len(seq) - 1, min(n, len(seq)))).astype(int))
        return [seq[i] for i in idx]

    return spread(train, n_train), spread(val, n_val)


def observe(sun, times, passbands, workdir):
    """Per time: prepared 128 px HMI (G) and AIA (DN/s), and the truths, from real files."""
    out = []
    for k, t in enumerate(times):
        folder = os.path.join(workdir, f"t{k:03d}")
        paths = sun.write_time_step(folder, t, STORED_SIZE, passbands)
        hmi = [p for p in paths if p.name.startswith("hmi.")][0]
        item = {"hmi": _bin(prepare_hmi(hmi, STORED_SIZE))}
        for p in paths:
            if p.name.startswith("aia."):
                item[p.name.split(".")[-3]] = _bin(prepare_aia(p, STORED_SIZE))
        item["truth"] = {b: _bin(v) for b, v in sun.truth(t, STORED_SIZE, passbands).items()}
        item["truth128"] = sun.truth(t, TRAIN_SIZE, passbands)
        item["unpred"] = {b: _bin(v) for b, v in
                          sun.truth(t, STORED_SIZE, passbands, unpredictable=True).items()}
        out.append(item)
    return out


def fit_baseline(train, band):
    """:class:`solar_euv.reference.PixelFit` of ``band`` fitted on the training times."""
    return PixelFit().fit(np.stack([item["hmi"] for item in train]),
                          np.stack([item[band] for item in train])[..., None])


def predict_baseline(fit, hmi):
    """Baseline image (DN/s) from a 128 px magnetogram."""
    return fit.predict(hmi[None])[0, ..., 0]


def untrained_predictions(val):
    """DN/s images of an untrained ``build_generator(128, base_filters=32)`` (seed 0)."""
    import keras

    from solar_euv.models import build_generator

    keras.utils.set_random_seed(0)
    generator = build_generator(TRAIN_SIZE, base_filters=32)
    x = np.stack([DEFAULT_SCALING.hmi_network_input(item["hmi"]) for item in val])[..., None]
    y = np.asarray(generator(x, training=False))[..., 0]
    return [DEFAULT_SCALING.aia_from_network(DEFAULT_SCALING.apply_mask(v)) for v in y]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=int, default=24, help="training times (2011-2016)")
    parser.add_argument("--val", type=int, default=8, help="validation times (2017 Jan-Jun)")
    parser.add_argument("--passbands", default="all")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-generator", action="store_true",
                        help="skip the untrained generator (no TensorFlow import)")
    args = parser.parse_args()
    bands = parse_passbands([args.passbands])
    sun = SyntheticSun(args.seed)
    train_t, val_t = pick_times(args.train, args.val)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        train = observe(sun, train_t, bands, os.path.join(tmp, "train"))
        val = observe(sun, val_t, bands, os.path.join(tmp, "val"))
    untrained = None if args.no_generator else untrained_predictions(val)
    print(f"{len(train)} training and {len(val)} validation times, seed {args.seed}, "
          f"{STORED_SIZE} px prepared -> {TRAIN_SIZE} px, mean CC on the validation times "
          f"({time.perf_counter() - start:.0f} s)\n")
    print("| passband | oracle | oracle at 128 | no instrument | var unpred | baseline "
          "| untrained |")
    print("|---|---|---|---|---|---|---|")
    for band in bands:
        fit = fit_baseline(train, band)

        def mean_cc(predict):
            return float(np.mean([image_metrics(predict(i, item), item[band])["CC"]
                                  for i, item in enumerate(val)]))

        oracle = mean_cc(lambda i, item: item["truth"][band])
        at128 = mean_cc(lambda i, item: item["truth128"][band])
        raw = float(np.mean([image_metrics(item["truth"][band], item["unpred"][band])["CC"]
                             for item in val]))
        base = mean_cc(lambda i, item: predict_baseline(fit, item["hmi"]))
        gen = "-" if untrained is None else f"{mean_cc(lambda i, item: untrained[i]):.3f}"
        print(f"| {band} | {oracle:.3f} | {at128:.3f} | {raw:.3f} | {1 - oracle ** 2:.2f} "
              f"| {base:.3f} | {gen} |")


if __name__ == "__main__":
    main()
