"""Make docs/synthetic_vs_real.png: one synthetic time step next to real AIA images.

Usage::

    python docs/make_synthetic_figure.py [--real ../shared/real-sdo/aia-synoptic-2024-10-04]
                                         [--out docs/synthetic_vs_real.png]

The synthetic files are written by :class:`solar_euv.synthetic.sun.SyntheticSun`
(seed 0, 2014-03-01 00:00 UTC, 512 px) into a temporary directory, read back
with sunpy, the HMI image turned by 180 deg (it is stored upside down; the
AIA rolls of < 0.15 deg are left as written); the real images
are the AIA synoptic files of 2024-10-04 (no real 94 A, no real magnetogram).
All AIA images are shown in DN/s (data / EXPTIME) with the same logarithmic
display range per passband (``solar_euv.passbands``), so levels compare directly.
"""
import argparse
import pathlib
import tempfile

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import sunpy.map  # noqa: E402
import sunpy.visualization.colormaps  # noqa: E402,F401  (registers the sdoaia colormaps)
from matplotlib.colors import LogNorm  # noqa: E402

from solar_euv.passbands import get_passband  # noqa: E402
from solar_euv.synthetic.sun import SyntheticSun  # noqa: E402

HERE = pathlib.Path(__file__).resolve().parent
DEFAULT_REAL = HERE.parents[1] / "shared" / "real-sdo" / "aia-synoptic-2024-10-04"
LAYOUT = [["hmi", "1700", "1600", "304", "171"], ["193", "211", "335", "94", "131"]]
TIME = "2014-03-01T00:00:00"


def _rate(smap):
    data = np.asarray(smap.data, dtype=float)
    if smap.exposure_time is not None:
        data = data / smap.exposure_time.to_value("s")
    return data


def _show(ax, data, name, title):
    if name == "hmi":
        ax.imshow(data, origin="lower", cmap="gray", vmin=-300, vmax=300)
    else:
        pb = get_passband(name)
        ax.imshow(np.clip(data, pb.vmin, pb.vmax), origin="lower", cmap=pb.cmap,
                  norm=LogNorm(pb.vmin, pb.vmax))
    ax.set_title(title, fontsize=8)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--real", type=pathlib.Path, default=DEFAULT_REAL)
    parser.add_argument("--out", type=pathlib.Path, default=HERE / "synthetic_vs_real.png")
    parser.add_argument("--size", type=int, default=512)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        paths = SyntheticSun(0).write_time_step(tmp, TIME, args.size)
        synthetic = {}
        for path in paths:
            smap = sunpy.map.Map(path)
            key = "hmi" if path.name.startswith("hmi.") else path.name.split(".")[3]
            data = _rate(smap)
            if key == "hmi":             # stored upside down (CROTA2 ~ 180 deg)
                data = np.rot90(data, 2)
            synthetic[key] = data

    fig, axes = plt.subplots(4, 5, figsize=(10, 8.6))
    for block, names in enumerate(LAYOUT):
        for col, name in enumerate(names):
            ax_syn, ax_real = axes[2 * block, col], axes[2 * block + 1, col]
            label = "HMI B_LOS" if name == "hmi" else f"{name} Å"
            _show(ax_syn, synthetic[name], name, f"synthetic {label}")
            real_path = args.real / f"AIAsynoptic{int(name):04d}.fits" if name != "hmi" else None
            if real_path is not None and real_path.exists():
                _show(ax_real, _rate(sunpy.map.Map(real_path)), name, f"real {label}")
            else:
                ax_real.text(0.5, 0.5, f"no real {label}\nin ../shared/real-sdo",
                             ha="center", va="center", fontsize=8, transform=ax_real.transAxes)
    for ax in axes.ravel():
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(f"Synthetic Sun (seed 0, {TIME[:10]}, {args.size} px, DN/s; "
                 f"HMI ±300 G) vs real AIA synoptic (2024-10-04)", fontsize=10)
    fig.tight_layout()
    fig.savefig(args.out, dpi=72)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e3:.0f} kB)")


if __name__ == "__main__":
    main()
