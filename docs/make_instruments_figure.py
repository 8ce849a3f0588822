"""Make docs/instruments.png and docs/instruments.md: one synthetic Sun seen by HMI, MDI and GONG.

Usage::

    python docs/make_instruments_figure.py RUN [--passband 171] [--seed 0]
                                         [--times 2017-08-01T12:00 2017-09-01T12:00 ...]
                                         [--hmi-size 2048] [--out docs/instruments.png]
                                         [--results benchmarks/results/instruments.json]

``RUN`` is a model trained on HMI magnetograms (a ``solar-euv-train`` run
directory or ``.keras`` file).  For every time, the synthetic Sun
(:class:`solar_euv.synthetic.sun.SyntheticSun`) writes an HMI file
(``--hmi-size`` px over HMI's full field of view) and the AIA image of the
passband, and :mod:`solar_euv.synthetic.instruments` writes an MDI-like
and a GONG-like file of the same Sun (full size: 1024 and 860 px).  Each
magnetogram goes through :func:`solar_euv.generate` (MDI and GONG
cross-calibrated to HMI-equivalent Gauss); the generated image is scored
against the synthetic AIA image on the same grid with the paper's metrics
(:func:`solar_euv.metrics.image_metrics`), and the magnetogram on the grid
against the noise-free HMI-equivalent field (Pearson CC on the disk).  The
figure shows the first time; the table (``--table``) the mean over all times.
"""
import argparse
import pathlib
import sys
import tempfile

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import sunpy.visualization.colormaps  # noqa: E402,F401  (registers the sdoaia colormaps)
from matplotlib.colors import LogNorm  # noqa: E402

import solar_euv  # noqa: E402
from solar_euv.inference.trained_model import load_trained_model  # noqa: E402
from solar_euv.metrics import METRIC_NAMES, image_metrics  # noqa: E402
from solar_euv.passbands import get_passband  # noqa: E402
from solar_euv.scaling import disk_mask  # noqa: E402
from solar_euv.synthetic import instruments as synthetic_instruments  # noqa: E402
from solar_euv.sdo.magnetograms import CROSS_CALIBRATION, read_magnetogram  # noqa: E402
from solar_euv.sdo.prep import prepare_aia  # noqa: E402
from solar_euv.synthetic.sun import SyntheticSun  # noqa: E402

HERE = pathlib.Path(__file__).resolve().parent
INSTRUMENTS = ("hmi", "mdi", "gong")
TIMES = ("2017-08-01T12:00:00", "2017-09-01T12:00:00", "2017-10-01T12:00:00",
         "2017-11-01T12:00:00")


def _files(sun, time, band, hmi_size, root):
    paths = sun.write_time_step(root / "sdo", time, hmi_size, passbands=(band,))
    files = {"hmi": next(p for p in paths if p.name.startswith("hmi")),
             "aia": next(p for p in paths if p.name.startswith("aia"))}
    for name in ("mdi", "gong"):
        files[name] = synthetic_instruments.write_magnetogram(root / name, name, time,
                                                              seed=sun.seed)
    return files


def _one_time(trained, sun, time, band, hmi_size):
    size = trained.image_size
    with tempfile.TemporaryDirectory() as tmp:
        files = _files(sun, time, band, hmi_size, pathlib.Path(tmp))
        observed = prepare_aia(files["aia"], size)
        mags = {name: read_magnetogram(files[name], size) for name in INSTRUMENTS}
        maps = solar_euv.generate(trained, [files[name] for name in INSTRUMENTS])
    field = np.nan_to_num(sun.magnetogram(mags["hmi"].time, size))
    inside = disk_mask(size, 0.95)
    rows = {}
    for name, generated in zip(INSTRUMENTS, maps):
        row = image_metrics(generated[band].data, observed)
        row["input CC"] = float(np.corrcoef(mags[name].gauss[inside], field[inside])[0, 1])
        rows[name] = row
    images = {name: (mags[name].gauss, m[band].data) for name, m in zip(INSTRUMENTS, maps)}
    return rows, images, observed


def _figure(path, images, observed, rows, band, time):
    pb = get_passband(band)
    norm = LogNorm(pb.vmin, pb.vmax, clip=True)
    fig, axes = plt.subplots(2, 4, figsize=(13, 6.6))
    for k, name in enumerate(INSTRUMENTS):
        gauss, generated = images[name]
        title = CROSS_CALIBRATION[name].name
        axes[0, k].imshow(gauss, origin="lower", cmap="gray", vmin=-300, vmax=300)
        axes[0, k].set_title(f"{title} (x{CROSS_CALIBRATION[name].factor:g}), "
                             f"CC to field {rows[name]['input CC']:.3f}", fontsize=8)
        axes[1, k].imshow(np.clip(generated, pb.vmin, None), origin="lower", cmap=pb.cmap,
                          norm=norm)
        axes[1, k].set_title(f"{band} A from {name.upper()}: CC {rows[name]['CC']:.3f}, "
                             f"RE {rows[name]['RE']:+.3f}", fontsize=8)
    axes[0, 3].imshow(np.clip(observed, pb.vmin, None), origin="lower", cmap=pb.cmap,
                      norm=norm)
    axes[0, 3].set_title(f"synthetic AIA {band} A (the truth)", fontsize=8)
    axes[1, 3].axis("off")
    axes[1, 3].text(0.0, 0.5, _table(rows, band, plain=True), family="monospace",
                    fontsize=8, va="center")
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(f"One synthetic Sun at {time} seen by HMI, MDI and GONG; {band} A from an "
                 "HMI-trained model", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _table(rows, band, plain=False):
    keys = ("input CC",) + tuple(METRIC_NAMES)
    if plain:
        lines = ["       " + " ".join(f"{k:>8}" for k in keys)]
        lines += [f"{name:<6} " + " ".join(f"{rows[name][k]:8.3f}" for k in keys)
                  for name in INSTRUMENTS]
        return "\n".join(lines)
    lines = [f"| input ({band} A) | magnetogram CC to field | " + " | ".join(METRIC_NAMES)
             + " |", "|---" * (len(keys) + 1) + "|"]
    lines += [f"| {CROSS_CALIBRATION[name].name} | "
              + " | ".join(f"{rows[name][k]:.3f}" for k in keys) + " |" for name in INSTRUMENTS]
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=pathlib.Path)
    parser.add_argument("--passband", default="171")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--times", nargs="+", default=list(TIMES))
    parser.add_argument("--hmi-size", type=int, default=2048)
    parser.add_argument("--out", type=pathlib.Path, default=HERE / "instruments.png")
    parser.add_argument("--table", type=pathlib.Path, default=HERE / "instruments.md")
    parser.add_argument("--results", type=pathlib.Path,
                        default=HERE.parent / "benchmarks" / "results" / "instruments.json",
                        help="the results table docs/predict.md shows")
    args = parser.parse_args()
    trained = load_trained_model(args.run)
    band = get_passband(args.passband).name
    sun = SyntheticSun(args.seed)
    per_time = []
    for i, time in enumerate(args.times):
        rows, images, observed = _one_time(trained, sun, time, band, args.hmi_size)
        per_time.append(rows)
        if i == 0:
            _figure(args.out, images, observed, rows, band, time)
        print(time, {name: round(rows[name]["CC"], 3) for name in INSTRUMENTS})
    mean = {name: {k: float(np.mean([r[name][k] for r in per_time]))
                   for k in per_time[0][name]} for name in INSTRUMENTS}
    text = ("# Magnetograms from HMI, MDI and GONG\n\n"
            "![one synthetic Sun seen by HMI, MDI and GONG, and the passband generated from each]"
            "(instruments.png)\n\n"
            f"Model {trained.label} ({trained.image_size} px), seed {args.seed}, "
            f"{len(args.times)} times ({', '.join(args.times)}); mean over the times.\n\n"
            + _table(mean, band) + "\n\n"
            "Made by (the model: `solar-euv-train` with no options, the quick preset):\n\n"
            "```\npython docs/make_instruments_figure.py " + " ".join(sys.argv[1:]) + "\n```\n")
    args.table.write_text(text)
    _write_results(args, trained, mean, band, per_time)
    print(text)


def _write_results(args, trained, mean, band, per_time):
    """``benchmarks/results/instruments.json``: the same table, with machine and command,
    and each time's CC in the notes."""
    sys.path.insert(0, str(HERE.parent))
    from benchmarks.common import machine_info, results_table, write_json

    keys = ("input CC",) + tuple(METRIC_NAMES)
    rows = [[CROSS_CALIBRATION[name].name] + [f"{mean[name][k]:.3f}" for k in keys]
            for name in INSTRUMENTS]
    table = results_table(
        f"Generated {band} A from HMI, MDI and GONG renderings of one synthetic Sun (mean over "
        f"{len(args.times)} times {args.times[0][:10]} to {args.times[-1][:10]}, seed "
        f"{args.seed}; HMI written at {args.hmi_size} px; model {trained.label}, "
        f"{trained.image_size} px)",
        [f"input ({band} A)", "magnetogram CC to field", *METRIC_NAMES], rows,
        command="python docs/make_instruments_figure.py " + " ".join(sys.argv[1:]),
        machine=machine_info(),
        notes=[f"{time}: CC " + ", ".join(f"{CROSS_CALIBRATION[name].name} "
                                           f"{rows_t[name]['CC']:.3f}" for name in INSTRUMENTS)
               for time, rows_t in zip(args.times, per_time)])
    write_json(args.results, table)


if __name__ == "__main__":
    main()
