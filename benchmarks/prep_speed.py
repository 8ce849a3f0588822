"""Speed and agreement of solar_euv's SDO preparation against aiapy's register.

For each full-disk 4096 x 4096 level-1 file (AIA and HMI) this measures, in
one process (so the numbers are per core):

* ``solar_euv``: :func:`solar_euv.sdo.prep.prepare_file` at 1024 (read,
  validate, one 4x/5x block average + one cubic affine warp, exposure and
  degradation correction);
* reference: ``sunpy.map.Map`` + ``aiapy.calibrate.register`` (cubic, at
  4096) + the same exposure/degradation correction + 4x4 block average.

Both include reading the file.  Agreement is measured on the reference's
grid (2.4"/px, the reference's disk centre): the same resampling as
``prepare_file`` (:func:`solar_euv.sdo.resample.resample_to_grid`) is evaluated
at the reference's geometry and compared on the disk (r < 0.98 R_sun):
Pearson correlation and, for AIA, the ratio of the total on-disk flux.

Inputs: files given with ``--files``; by default HMI, AIA 171 and AIA 1700
level-1 files at 4096 px written by the synthetic Sun
(:mod:`solar_euv.synthetic.sun`: HMI upside down at 0.504"/px, AIA rolled
and off-centre at 0.6"/px, RICE-compressed as JSOC serves them); with
``--source real``, 4096 files built from the real AIA synoptic images in
``../shared/real-sdo`` (upsampled 4x; the AIA one declared with a 0.35 deg
roll and an off-centre CRPIX, an HMI-like magnetogram made from the 1600 A
image's small-scale structure declared with CROTA2 = 179.93 deg at 0.504"/px).

Times are the best of ``--repeat`` runs, solar_euv and the reference
interleaved; "CPU s" is this process's CPU time (``time.process_time``),
which measures the work per core even on a machine shared with other jobs,
and gives files/s/core.  "decompression s" is the time RICE decoding alone
takes (a floor for any method that reads the file).

Usage::

    python benchmarks/prep_speed.py [--source synthetic|real] [--files F ...]
                                    [--repeat 3] [--markdown out.md]

``python -m benchmarks run`` measures the synthetic case through
:func:`measure_prep` and writes :func:`prep_markdown`'s table.
"""
import argparse
import pathlib
import sys
import tempfile
import time
import warnings

import numpy as np

__all__ = ["REAL", "build_files_from_real", "synthetic_files", "reference",
           "decompress_seconds", "mine_on", "run", "measure_prep", "markdown",
           "prep_markdown", "main"]

REAL = (pathlib.Path(__file__).resolve().parents[2] / "shared" / "real-sdo"
        / "aia-synoptic-2024-10-04")


def _write_compressed(path, data, header, dtype, bscale=None):
    from astropy.io import fits

    if bscale is not None:
        scaled = np.where(np.isfinite(data), np.round(data / bscale), -2147483648)
        hdu = fits.CompImageHDU(scaled.astype(dtype), header=header,
                                compression_type="RICE_1")
        hdu.header["BSCALE"] = bscale
        hdu.header["BZERO"] = 0.0
        hdu.header["BLANK"] = -2147483648
    else:
        hdu = fits.CompImageHDU(np.clip(np.round(data), -32768, 32767).astype(dtype),
                                header=header, compression_type="RICE_1")
    fits.HDUList([fits.PrimaryHDU(), hdu]).writeto(path, overwrite=True)


def build_files_from_real(out_dir):
    """Two 4096 level-1-like files (AIA 171, HMI-like) from the real synoptic images."""
    from astropy.io import fits
    from scipy import ndimage

    out_dir = pathlib.Path(out_dir)
    paths = []
    # AIA 171: 2.4"/px level 1.5 in DN -> 0.6"/px, declared rolled and off-centre.
    with fits.open(REAL / "AIAsynoptic0171.fits") as hdul:
        data = hdul[1].data.astype(np.float32)
        src = hdul[1].header
    big = ndimage.zoom(np.nan_to_num(data), 4, order=3)
    header = fits.Header()
    for key in ("TELESCOP", "INSTRUME", "WAVELNTH", "WAVEUNIT", "WAVE_STR", "EXPTIME",
                "T_OBS", "DATE-OBS", "DSUN_OBS", "RSUN_REF", "RSUN_OBS", "CRLN_OBS",
                "CRLT_OBS", "CTYPE1", "CTYPE2", "CUNIT1", "CUNIT2", "IMG_TYPE", "FSN"):
        header[key] = src[key]
    header.update(LVL_NUM=1.0, QUALITY=0x40000000, CDELT1=0.6, CDELT2=0.6,
                  CRPIX1=2048.5 + 12.4, CRPIX2=2048.5 - 9.7, CRVAL1=0.0, CRVAL2=0.0,
                  CROTA2=0.35, R_SUN=float(src["RSUN_OBS"]) / 0.6)
    path = out_dir / "aia_lev1_171_4096.fits"
    _write_compressed(path, big, header, np.int16)
    paths.append(path)
    # HMI-like: signed small-scale structure of 1600 A, ~+-1000 G, NaN off-disk.
    with fits.open(REAL / "AIAsynoptic1600.fits") as hdul:
        uv = np.nan_to_num(hdul[1].data.astype(np.float32))
    field = uv - ndimage.gaussian_filter(uv, 3)
    field = field / np.std(field) * 60.0
    big = ndimage.zoom(field, 4 * 0.6 / 0.504, order=3)[:4096, :4096]
    big = big[::-1, ::-1].copy()        # CROTA2 ~ 180: stored upside down
    rng = np.random.default_rng(0)
    big += rng.normal(0, 8.0, big.shape).astype(np.float32)
    rsun_obs = float(src["RSUN_OBS"])
    cx, cy = 2048.5 + 3.2 - 1, 2048.5 - 4.1 - 1
    yy, xx = np.mgrid[0:4096, 0:4096]
    big[np.hypot(xx - cx, yy - cy) > rsun_obs / 0.504 * 0.998] = np.nan
    header = fits.Header()
    header.update(TELESCOP="SDO/HMI", INSTRUME="HMI_FRONT2", CONTENT="MAGNETOGRAM",
                  BUNIT="Gauss", WAVELNTH=6173.0, T_OBS="2024.10.04_16:17:57_TAI",
                  QUALITY=0, CDELT1=0.504, CDELT2=0.504,
                  CRPIX1=cx + 1, CRPIX2=cy + 1, CRVAL1=0.0, CRVAL2=0.0, CROTA2=179.93,
                  CTYPE1="HPLN-TAN", CTYPE2="HPLT-TAN", CUNIT1="arcsec", CUNIT2="arcsec",
                  RSUN_OBS=rsun_obs, RSUN_REF=696000000.0, DSUN_OBS=float(src["DSUN_OBS"]),
                  CRLN_OBS=float(src["CRLN_OBS"]), CRLT_OBS=float(src["CRLT_OBS"]))
    header["DATE-OBS"] = "2024-10-04T16:17:20.000"
    path = out_dir / "hmi_m720s_4096.fits"
    _write_compressed(path, big, header, np.int32, bscale=0.1)
    paths.append(path)
    return paths


def synthetic_files(out_dir, size=4096, passbands=("171", "1700")):
    """Level-1 files of one time step from the synthetic Sun (seed 0).

    Parameters
    ----------
    out_dir : str or os.PathLike
    size : int
        Image side (4096: the instruments' full size; 15-40 s to write).
    passbands : sequence of str
        AIA passbands written besides the HMI magnetogram.

    Returns
    -------
    list of pathlib.Path
        The HMI file, then the AIA files.
    """
    from solar_euv.synthetic.sun import SyntheticSun

    return [pathlib.Path(p) for p in SyntheticSun(seed=0).write_time_step(
        out_dir, "2015-06-01T00:00:00", size, passbands=list(passbands))]


def reference(path, degradation=True):
    """aiapy register at full resolution + calibration + 4x4 average; with its geometry."""
    import astropy.units as u
    import sunpy.map
    from aiapy.calibrate import register
    from astropy.coordinates import SkyCoord

    from solar_euv.sdo.calibration import degradation_factor
    from solar_euv.sdo.io import observation_time, detect_kind

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        smap = sunpy.map.Map(str(path))
        smap.data.sum()                       # make sure the data are read
        kind = detect_kind(smap.meta)
        if kind == "hmi":
            smap = sunpy.map.Map(np.nan_to_num(smap.data), smap.meta)
        reg = register(smap)
    data = reg.data.astype(np.float64)
    if kind != "hmi":
        when = observation_time(smap.meta)
        factor = degradation_factor(kind, when) if degradation else 1.0
        data = data / (float(smap.meta["exptime"]) * factor)
    n = (data.shape[0] // 4) * 4
    binned = data[:n, :n].reshape(n // 4, 4, n // 4, 4).mean(axis=(1, 3))
    # Disk centre of the registered map (0-based), then of the binned grid.
    centre = reg.wcs.world_to_pixel(SkyCoord(0 * u.arcsec, 0 * u.arcsec,
                                             frame=reg.coordinate_frame))
    cx, cy = (float(centre[0]) - 1.5) / 4, (float(centre[1]) - 1.5) / 4
    scale = float(reg.scale[0].to_value(u.arcsec / u.pix)) * 4
    radius = float(reg.rsun_obs.to_value(u.arcsec)) / scale
    return binned, (cx, cy), scale, radius, kind


def decompress_seconds(path):
    """Time to decompress the image alone (the floor of any per-file cost)."""
    from astropy.io import fits

    t0 = time.perf_counter()
    with fits.open(path, do_not_scale_image_data=True) as hdul:
        for hdu in hdul:
            if hdu.is_image and hdu.header.get("NAXIS"):
                np.asarray(hdu.data).sum()
                break
    return time.perf_counter() - t0


def mine_on(image, shape, centre, scale, degradation=True):
    """solar_euv's resampling evaluated on the reference's grid, same calibration."""
    from solar_euv.sdo.prep import _aia_factors
    from solar_euv.sdo.resample import resample_to_grid

    out = resample_to_grid(image.map, shape, centre, scale)
    if image.kind != "hmi":
        exptime, factor = _aia_factors(image, None, degradation)
        out = out / (exptime * factor)
    return out


def run(paths, repeat=2, size=1024):
    """Time and compare solar_euv's preparation with the reference, file by file.

    Parameters
    ----------
    paths : sequence of path-like
        Level-1 AIA / HMI files.
    repeat : int
        Interleaved timed runs per file; the best is kept.
    size : int
        Output side of :func:`solar_euv.sdo.prep.prepare_file`.

    Returns
    -------
    list of dict
        One row per file: times in seconds (``mine_*``: solar_euv,
        ``ref_*``: reference; ``*_s`` wall clock, ``*_cpu`` CPU time), the
        rates ``files_per_s`` (wall), ``files_per_s_cpu`` (per core) and
        their ``ref_`` counterparts, speed-ups and the agreement figures.
    """
    from solar_euv.sdo.io import read_sdo
    from solar_euv.sdo.prep import prepare_file

    rows = []
    for path in paths:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            prepare_file(path, size)                              # warm-up (imports)
            t_read = min(decompress_seconds(path) for _ in range(repeat))
            t_mine, t_ref, cpu_mine, cpu_ref = [], [], [], []
            for _ in range(repeat):          # interleaved, so both see the same load
                c0, t0 = time.process_time(), time.perf_counter()
                prepared = prepare_file(path, size)
                t_mine.append(time.perf_counter() - t0)
                cpu_mine.append(time.process_time() - c0)
                c0, t0 = time.process_time(), time.perf_counter()
                ref, centre, scale, radius, kind = reference(path)
                t_ref.append(time.perf_counter() - t0)
                cpu_ref.append(time.process_time() - c0)
            image = read_sdo(path)
            mine = mine_on(image, ref.shape, centre, scale)
        yy, xx = np.mgrid[0:ref.shape[0], 0:ref.shape[1]]
        disk = np.hypot(xx - centre[0], yy - centre[1]) < 0.98 * radius
        cc = float(np.corrcoef(mine[disk], ref[disk])[0, 1])
        flux = float(mine[disk].sum() / ref[disk].sum()) if kind != "hmi" else float("nan")

        def binned4(a):
            n0, n1 = a.shape[0] // 4, a.shape[1] // 4
            return a[:n0 * 4, :n1 * 4].reshape(n0, 4, n1, 4).mean(axis=(1, 3))

        disk4 = binned4(disk.astype(float)) == 1.0
        cc4 = float(np.corrcoef(binned4(mine)[disk4], binned4(ref)[disk4])[0, 1])
        mine_s, ref_s = min(t_mine), min(t_ref)
        rows.append({
            "file": pathlib.Path(path).name, "kind": kind, "read_s": t_read,
            "mine_s": mine_s, "ref_s": ref_s, "speedup": ref_s / mine_s,
            "mine_cpu": min(cpu_mine), "ref_cpu": min(cpu_ref),
            "cc": cc, "cc_binned": cc4, "flux": flux, "out_shape": prepared.data.shape,
            "files_per_s": 1 / mine_s, "files_per_s_cpu": 1 / min(cpu_mine),
            "ref_files_per_s": 1 / ref_s, "ref_files_per_s_cpu": 1 / min(cpu_ref),
            "speedup_cpu": min(cpu_ref) / min(cpu_mine),
        })
    return rows


def measure_prep(input_size=4096, size=None, repeat=2, passbands=("171", "1700"),
                 root=None, echo=None):
    """Files/s of solar_euv's preparation and the aiapy-style reference on synthetic files.

    Writes one time step of the synthetic Sun (HMI + ``passbands``) at
    ``input_size`` and runs :func:`run` on it.

    Parameters
    ----------
    input_size : int
        Side of the level-1 files (4096 as the instruments write them).
    size : int, optional
        Output side (default: ``input_size // 4``, 1024 at 4096).
    repeat : int
        Best of this many interleaved runs.
    passbands : sequence of str
        AIA passbands besides HMI.
    root : str or os.PathLike, optional
        Existing directory for the files; default: a temporary directory,
        removed afterwards.
    echo : callable, optional
        Called with a progress line per file.

    Returns
    -------
    list of dict
        The rows of :func:`run` as plain JSON values (``out_shape`` a list,
        ``flux`` None for HMI) plus ``input_size``.
    """
    if root is None:
        with tempfile.TemporaryDirectory(prefix="prep-speed-") as tmp:
            return measure_prep(input_size, size, repeat, passbands, tmp, echo)
    out_dir = pathlib.Path(root) / f"prep-{input_size}"
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = synthetic_files(out_dir, input_size, passbands)
    rows = run(paths, repeat=repeat, size=size or input_size // 4)
    for row in rows:
        row["input_size"] = input_size
        row["out_shape"] = [int(n) for n in row["out_shape"]]
        row["flux"] = None if np.isnan(row["flux"]) else row["flux"]
        if echo is not None:
            echo(f"  prep {row['kind']} {input_size} px: {row['files_per_s']:.2f} files/s "
                 f"(reference {row['ref_files_per_s']:.2f} files/s)")
    return rows


def prep_markdown(rows):
    """Markdown table of :func:`measure_prep` rows: files/s of both methods.

    Parameters
    ----------
    rows : list of dict

    Returns
    -------
    str
        Table lines, no trailing newline.
    """
    lines = ["| channel | input px | output px | solar_euv files/s (wall) "
             "| solar_euv files/s/core (CPU) | reference files/s (wall) "
             "| reference files/s/core (CPU) | speed-up (wall / CPU) | CC after 4x binning |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(
            f"| {r['kind']} | {r['input_size']} | {r['out_shape'][0]} | "
            f"{r['files_per_s']:.2f} | {r['files_per_s_cpu']:.2f} | "
            f"{r['ref_files_per_s']:.2f} | {r['ref_files_per_s_cpu']:.2f} | "
            f"{r['speedup']:.1f}x / {r['speedup_cpu']:.1f}x | {r['cc_binned']:.4f} |")
    return "\n".join(lines)


def markdown(rows):
    """Markdown table of :func:`run` rows: times, rates, speed-ups and agreement."""
    lines = [
        "| file | channel | solar_euv s/file (wall) | CPU s/file | files/s/core "
        "| register + 4x4 s/file (wall) | CPU s/file | speed-up (wall) | speed-up (CPU) "
        "| decompression s | CC on disk (1024) | CC after 4x binning (256) | AIA flux ratio |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        flux = "-" if np.isnan(r["flux"]) else f"{r['flux']:.4f}"
        lines.append(f"| {r['file']} | {r['kind']} | {r['mine_s']:.3f} | {r['mine_cpu']:.3f} "
                     f"| {1 / r['mine_cpu']:.1f} | {r['ref_s']:.2f} | {r['ref_cpu']:.2f} "
                     f"| {r['speedup']:.1f}x | {r['ref_cpu'] / r['mine_cpu']:.1f}x "
                     f"| {r['read_s']:.3f} | {r['cc']:.4f} | {r['cc_binned']:.4f} | {flux} |")
    return "\n".join(lines)


def main(argv=None):
    """Command line: measure, print the markdown table (and write it with ``--markdown``)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--files", nargs="*", help="4096 level-1 AIA / HMI files")
    parser.add_argument("--source", choices=["synthetic", "real"], default="synthetic",
                        help="without --files: synthetic-Sun files, or files built from the "
                             "real synoptic images")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--markdown", help="also write the table to this file")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        if args.files:
            paths, source = args.files, "given files"
        elif args.source == "synthetic":
            paths = synthetic_files(tmp)
            source = "synthetic-Sun level-1 files, 4096 px (solar_euv.synthetic, seed 0)"
        else:
            if not REAL.is_dir():
                sys.exit(f"no input: give --files, or provide {REAL}")
            paths = build_files_from_real(tmp)
            source = "4096 files built from the real AIA synoptic images (see docstring)"
        rows = run(paths, repeat=args.repeat)
    table = markdown(rows)
    text = f"Input: {source}; one process (per core), best of {args.repeat}.\n\n{table}\n"
    print(text)
    if args.markdown:
        pathlib.Path(args.markdown).write_text(text)


if __name__ == "__main__":
    main()
