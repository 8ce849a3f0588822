#!/usr/bin/env python
"""Generate AIA images from HMI magnetograms with keras ``Model.predict``.

The package's pieces used directly, without the ``solar-euv predict``
command: load the model and its scaling, put each magnetogram on the model's
grid, scale it to network units, ``model.predict``, back to DN/s, and write
one FITS file per passband that ``sunpy.map.Map`` opens as an AIA map::

    python bin/generate_euv.py runs/solar-euv \\
        hmi.M_720s.20170701_000000_TAI.3.magnetogram.fits --out gen/

Each output is ``<out>/<input stem>.<passband>.fits``; an existing file is
not replaced.  Exit status 1 with one ``Error:`` line for a bad input.
"""
import argparse
import os
import pathlib
import sys


def main(argv=None):
    """Run the script; returns the exit status."""
    parser = argparse.ArgumentParser(
        description="Generate AIA FITS images from HMI magnetogram FITS files with a trained "
                    "solar_euv model (keras Model.predict).")
    parser.add_argument("model", help="solar-euv-train run directory or .keras file")
    parser.add_argument("magnetograms", nargs="+", help="HMI line-of-sight magnetogram FITS")
    parser.add_argument("--out", default=".", help="output directory (default: .)")
    parser.add_argument("--batch-size", type=int, default=4, help="Model.predict batch size")
    args = parser.parse_args(argv)

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import numpy as np

    from solar_euv.exceptions import InputError, SolarEUVError
    from solar_euv.inference.generation import network_input, physical_output
    from solar_euv.inference.trained_model import load_trained_model
    from solar_euv.products import output_header, write_fits
    from solar_euv.sdo.io import read_sdo
    from solar_euv.sdo.prep import prepare_hmi

    try:
        trained = load_trained_model(args.model)
        n = trained.image_size
        images = []
        for path in args.magnetograms:
            image = read_sdo(path, grid_size=n)
            if image.kind != "hmi":
                raise InputError(path, f"is an AIA {image.kind} A image, not an HMI "
                                       "magnetogram")
            images.append(image)
        gauss = np.stack([prepare_hmi(image, n) for image in images])
        y = trained.model.predict(network_input(gauss, trained.scaling),
                                  batch_size=args.batch_size, verbose=0)
        dn_per_s = physical_output(y, trained.scaling)
        out = pathlib.Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        for i, image in enumerate(images):
            stem = pathlib.Path(image.path).name.split(".fits")[0]
            for c, band in enumerate(trained.passbands):
                target = out / f"{stem}.{band}.fits"
                if target.exists():
                    raise InputError(target, "exists already; remove it or choose another "
                                             "--out")
                header = output_header(trained, image.time, band, source=image.path,
                                       source_header=image.map.meta)
                write_fits(target, dn_per_s[i, ..., c], header)
                print(target)
    except SolarEUVError as err:
        print(f"Error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
