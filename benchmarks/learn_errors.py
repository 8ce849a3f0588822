"""Where a trained model's error lies, against the per-pixel fit: by brightness and by radius.

The paper's CC is a Pearson correlation of linear DN/s over the disk, so a
few large errors weigh more than many small ones.  For one passband of a run
directory this takes the validation split apart on the pixels the CC scores
(:func:`solar_euv.metrics.prepare_for_metrics`: binned to the evaluation
size, on the disk, ``x + 1`` clipped) and lists the squared error of the
linear intensity of the model (:func:`solar_euv.inference.generate`) and of
the per-pixel fit (:class:`solar_euv.reference.PixelFit`, fitted on the
training split, magnetogram clipped as the network's):

* by band of observed brightness (quantiles of the observed disk pixels of
  all validation images; default edges 0, 25 %, 99.9 %, 100 %): pixels,
  mean generated / mean observed, summed squared error;
* by ring of the disk (0-0.9-0.95-0.98-0.99-1.0 solar radii): the same.

The CC of both (and the synthetic oracle at the stored size, for the
embedded sample) are printed beside them.  This is how docs/learning.md
finds that the 1600 A model of the linear-input runs spent its error on the
brightest 0.1 % of the pixels (the strongest fields) and the limb, and the 1700 A model on the last
ring inside the limb.

Example::

    python -m benchmarks.learn_errors runs/A-1600 --band 1600 --sun-seed 0 --out results/
"""
import json
import pathlib

import numpy as np

__all__ = ["error_tables", "main"]

RINGS = (0.0, 0.9, 0.95, 0.98, 0.99, 1.0)
QUANTILES = (0.0, 0.25, 0.999, 1.0)


def _disk_pixels(images):
    """Scored pixels of every image, concatenated, and each one's radius in solar radii."""
    from solar_euv.metrics import EVALUATION_SIZE, prepare_for_metrics
    from solar_euv.scaling import disk_center_px, disk_mask, solar_radius_px

    values = np.concatenate([prepare_for_metrics(im) for im in images])
    size = images.shape[1] // max(1, images.shape[1] // EVALUATION_SIZE)   # as binned there
    yy, xx = np.mgrid[0:size, 0:size]
    rho = np.hypot(xx - disk_center_px(size), yy - disk_center_px(size)) / solar_radius_px(size)
    radius = np.tile(rho[disk_mask(size)], len(images))
    return values, radius


def _rows(observed, predictions, groups):
    rows = []
    for label, where in groups:
        row = {"range": label, "pixels": int(where.sum()),
               "observed_mean": float(observed[where].mean()) if where.any() else None}
        for name, values in predictions.items():
            err = values[where] - observed[where]
            row[f"{name}_ratio"] = (float(values[where].mean() / observed[where].mean())
                                    if where.any() else None)
            row[f"{name}_sse"] = float(np.sum(err ** 2))
        rows.append(row)
    for name in predictions:
        total = sum(r[f"{name}_sse"] for r in rows) or 1.0
        for r in rows:
            r[f"{name}_share"] = r[f"{name}_sse"] / total
    return rows


def error_tables(observed, predictions, *, quantiles=QUANTILES, rings=RINGS):
    """The two tables from ``(n, N, N)`` DN/s images.

    Parameters
    ----------
    observed : numpy.ndarray
    predictions : dict
        Name -> ``(n, N, N)`` DN/s images of the same examples.

    Returns
    -------
    dict
        ``{"brightness": rows, "radius": rows}``; each row has ``range``,
        ``pixels``, ``observed_mean`` and per prediction ``<name>_ratio``,
        ``<name>_sse``, ``<name>_share`` (of its total squared error).
    """
    obs, radius = _disk_pixels(np.asarray(observed))
    pred = {k: _disk_pixels(np.asarray(v))[0] for k, v in predictions.items()}
    edges = np.quantile(obs, quantiles)
    bands = []
    for k, (lo, hi) in enumerate(zip(edges[:-1], edges[1:])):
        last = k == len(edges) - 2
        where = (obs >= lo) & ((obs <= hi) if last else (obs < hi))
        bands.append((f"{lo:.0f}-{hi:.0f} DN/s ({100 * quantiles[k]:g}-"
                      f"{100 * quantiles[k + 1]:g} %)", where))
    ring_groups = []
    for k, (lo, hi) in enumerate(zip(rings[:-1], rings[1:])):
        last = k == len(rings) - 2
        where = (radius >= lo) & ((radius <= hi + 1e-9) if last else (radius < hi))
        ring_groups.append((f"{lo:g}-{hi:g} R", where))
    return {"brightness": _rows(obs, pred, bands), "radius": _rows(obs, pred, ring_groups)}


def _markdown(title, rows, names):
    head = ["range", "pixels", "observed mean"] + [f"{n} gen/obs" for n in names] \
        + [f"{n} squared error (share)" for n in names]
    lines = [f"### {title}", "", "| " + " | ".join(head) + " |",
             "|" + "---|" * len(head)]
    def num(value, fmt):
        return "-" if value is None else format(value, fmt)

    for r in rows:
        cells = [r["range"], f"{r['pixels']:,}", num(r["observed_mean"], ".0f")]
        cells += [num(r[f"{n}_ratio"], ".2f") for n in names]
        cells += [f"{r[f'{n}_sse']:.3g} ({100 * r[f'{n}_share']:.0f} %)" for n in names]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def run(run_dir, band, *, data=None, train_examples=None, quantiles=QUANTILES, sun_seed=None,
        echo=print):
    """Generate the validation split of ``run_dir`` and take its error apart.

    Returns
    -------
    dict
        ``run_dir``, ``band``, ``examples``, ``cc`` (model, fit, and the
        oracle when ``sun_seed`` names the synthetic Sun of the data: 0 for
        the embedded sample) and :func:`error_tables`.
    """
    from solar_euv.dataset import dataset_info
    from solar_euv.inference import generate, load_trained_model
    from solar_euv.reference import PixelFit, _mean_cc, _read, synthetic_oracle

    trained = load_trained_model(run_dir)
    config = json.loads((pathlib.Path(run_dir) / "config.json").read_text())
    data = data or config["data_dir"]
    size = trained.image_size
    index = list(trained.passbands).index(str(band))
    echo(f"{run_dir}: {band} A at {size} px, data {data}")
    times, g_val, a_val = _read(data, "validation", [str(band)], size)
    _, g_train, a_train = _read(data, "train", [str(band)], size, train_examples)
    fit = PixelFit(hmi_limit=config["scaling"]["hmi_limit"]).fit(g_train, a_train)
    predictions = {"model": generate(trained, g_val, batch_size=8).data[..., index],
                   "fit": fit.predict(g_val)[..., 0]}
    observed = a_val[..., 0]
    cc = {name: _mean_cc(p[..., None], a_val)[0] for name, p in predictions.items()}
    if sun_seed is not None:
        stored = int(dataset_info(data)["grid"]["size"])
        truth = synthetic_oracle(times, size, [str(band)], int(sun_seed), stored)
        cc["oracle"] = _mean_cc(truth, a_val)[0]
    return {"run_dir": str(run_dir), "band": str(band), "examples": len(times), "cc": cc,
            **error_tables(observed, predictions, quantiles=quantiles)}


def main(argv=None):
    import argparse

    from benchmarks.common import machine_info, machine_line, write_files

    parser = argparse.ArgumentParser(prog="python -m benchmarks.learn_errors",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("run_dir")
    parser.add_argument("--band", required=True, help="passband of the run to take apart")
    parser.add_argument("--data", help="prepared dataset (default: the run's)")
    parser.add_argument("--train-examples", type=int, default=None,
                        help="fit the per-pixel fit on the first N training examples "
                             "(default: all)")
    parser.add_argument("--quantiles", default=",".join(f"{q:g}" for q in QUANTILES),
                        help="edges of the brightness bands, as quantiles")
    parser.add_argument("--sun-seed", type=int, default=None,
                        help="seed of the synthetic Sun of the data, for the oracle's CC "
                             "(0: the embedded sample)")
    parser.add_argument("--out", help="directory for learn_errors_<tag>.json/.md")
    parser.add_argument("--tag", help="name of the files in --out (default: the passband)")
    args = parser.parse_args(argv)
    quantiles = tuple(float(q) for q in args.quantiles.split(","))
    result = run(args.run_dir, args.band, data=args.data, train_examples=args.train_examples,
                 quantiles=quantiles, sun_seed=args.sun_seed)
    result["machine"] = machine_line(machine_info())
    result["command"] = "python -m benchmarks.learn_errors " + " ".join(
        argv if argv is not None else __import__("sys").argv[1:])
    cc = ", ".join(f"{k} {v:.3f}" for k, v in result["cc"].items())
    text = "\n\n".join([f"## {args.band} A, {result['examples']} validation images: CC {cc}",
                        _markdown("By observed brightness", result["brightness"],
                                  ("model", "fit")),
                        _markdown("By radius", result["radius"], ("model", "fit"))])
    print(text)
    if args.out:
        out = pathlib.Path(args.out)
        tag = args.tag or args.band
        write_files(out, [(f"learn_errors_{tag}.json", json.dumps(result, indent=1) + "\n"),
                          (f"learn_errors_{tag}.md", text + "\n")])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
