"""What the input allows: reference scores a trained network is judged against.

A validation CC means little alone.  Two references put it in context:

per-pixel fit (:class:`PixelFit`)
    A least-squares regression of ``log(I + 1)`` on a few functions of the
    magnetogram at each pixel: ``log(1 + S_s / 10 G)`` of ``|B_LOS|``
    Gaussian-smoothed over ``s`` = 0, 1, 2, 4 and 8 px, and ``mu``,
    ``mu**2`` and a constant (8 weights per passband).  It is fitted on
    the training split and needs no GPU: a network that does not beat it
    has not learnt anything a line fit could not.
oracle (synthetic data only)
    The synthetic Sun's noise-free truth (:meth:`SyntheticSun.truth`) at
    the stored size, averaged to the training size: the best any model can
    do from the magnetogram.  The part it misses is unpredictable by
    construction (:mod:`solar_euv.synthetic.corona`).  The *oracle at
    the training size* runs the same forward model on the training grid:
    what the magnetogram, as the network sees it, allows.

Both are scored with the paper's CC (:func:`solar_euv.metrics.image_metrics`)
on the same examples as the validation of ``solar-euv-train``.
"""
import numpy as np
from scipy import ndimage

from solar_euv.metrics import image_metrics
from solar_euv.scaling import disk_center_px, disk_mask, solar_radius_px

__all__ = ["PixelFit", "mu_map", "synthetic_oracle", "reference_scores", "SMOOTHING_PX"]

#: Gaussian smoothing widths (pixels of the training grid) of the fit's ``|B|`` features.
SMOOTHING_PX = (0.0, 1.0, 2.0, 4.0, 8.0)

#: Field strength (G) below which ``log(1 + |B| / B0)`` is close to linear.
FEATURE_FIELD_G = 10.0


def mu_map(size):
    """``mu = cos(theta)`` on the common ``size x size`` grid (0 off the disk)."""
    c = disk_center_px(size)
    yy, xx = np.mgrid[0:size, 0:size]
    rho2 = ((xx - c) ** 2 + (yy - c) ** 2) / solar_radius_px(size) ** 2
    return np.sqrt(np.clip(1.0 - rho2, 0.0, None))


class PixelFit:
    """Per-pixel least-squares fit of ``log(I + 1)`` on magnetogram features.

    Parameters
    ----------
    hmi_limit : float, optional
        Clip the magnetogram at ``+-hmi_limit`` G first (what a network with
        that :class:`~solar_euv.scaling.Scaling` sees); None: no clip.

    Examples
    --------
    >>> fit = PixelFit(hmi_limit=1000).fit(gauss_train, aia_train)   # doctest: +SKIP
    >>> fit.predict(gauss_val)        # (n, N, N, C) DN/s             # doctest: +SKIP
    """

    def __init__(self, hmi_limit=None):
        self.hmi_limit = hmi_limit
        self.weights = None

    def features(self, gauss):
        """``(N, N, 8)`` features of one ``(N, N)`` magnetogram in Gauss."""
        g = np.nan_to_num(np.asarray(gauss, dtype=np.float64), nan=0.0)
        if self.hmi_limit is not None:
            g = np.clip(g, -self.hmi_limit, self.hmi_limit)
        a = np.abs(g)
        mu = mu_map(a.shape[-1])
        cols = [np.ones_like(a), mu, mu * mu]
        for s in SMOOTHING_PX:
            smooth = ndimage.gaussian_filter(a, s, mode="constant") if s else a
            cols.append(np.log1p(smooth / FEATURE_FIELD_G))
        return np.stack(cols, axis=-1)

    def fit(self, gauss, observed, pixels_per_image=20_000, seed=0):
        """Fit on ``gauss (n, N, N)`` G and ``observed (n, N, N, C)`` DN/s (disk pixels).

        Parameters
        ----------
        gauss, observed : array_like
        pixels_per_image : int
            At most this many disk pixels of each image (a seeded random
            choice) enter the fit, so that large images need little memory.
        seed : int

        Returns
        -------
        PixelFit
            ``self``, with ``weights`` of shape ``(8, C)``.
        """
        observed = np.asarray(observed, dtype=np.float64)
        if len(gauss) == 0:
            raise ValueError("PixelFit.fit needs at least one image")
        disk = np.flatnonzero(disk_mask(np.shape(gauss)[-1]))
        rng = np.random.default_rng(seed)
        xs, ys = [], []
        for g, o in zip(gauss, observed):
            pick = disk if len(disk) <= pixels_per_image else \
                np.sort(rng.choice(disk, pixels_per_image, replace=False))
            xs.append(self.features(g).reshape(-1, len(SMOOTHING_PX) + 3)[pick])
            ys.append(np.log1p(np.clip(o.reshape(-1, o.shape[-1])[pick], 0.0, None)))
        x, y = np.concatenate(xs), np.concatenate(ys)
        self.weights, *_ = np.linalg.lstsq(x, y, rcond=None)
        return self

    def predict(self, gauss):
        """DN/s images ``(n, N, N, C)`` from magnetograms ``(n, N, N)`` in G."""
        if self.weights is None:
            raise ValueError("PixelFit.predict before fit")
        return np.stack([np.expm1(self.features(g) @ self.weights)
                         for g in np.asarray(gauss)]).astype(np.float32)


def synthetic_oracle(times, size, passbands, seed=0, stored_size=None):
    """The synthetic Sun's noise-free truth, ``(n, size, size, C)`` DN/s.

    Parameters
    ----------
    times : sequence of str or astropy.time.Time
        Observation times (the records' times).
    size : int
        Output grid size.
    passbands : sequence of str
    seed : int
        Seed of the :class:`~solar_euv.synthetic.sun.SyntheticSun` that made
        the data.
    stored_size : int, optional
        Size at which the truth is computed and area-averaged to ``size``
        (the dataset's grid, as the pipeline averages the observed images);
        default ``size``.
    """
    from astropy.time import Time

    from solar_euv.synthetic.sun import SyntheticSun

    sun = SyntheticSun(seed)
    stored = int(stored_size or size)
    factor = stored // size
    out = []
    for t in times:
        truth = sun.truth(Time(t), stored, list(passbands))
        images = [truth[b] for b in passbands]
        if factor > 1:
            images = [v.reshape(size, factor, size, factor).mean(axis=(1, 3)) for v in images]
        out.append(np.stack(images, axis=-1))
    return np.stack(out).astype(np.float32)


def _mean_cc(generated, observed):
    """Mean per-image CC per channel of ``(n, N, N, C)`` arrays."""
    return [float(np.nanmean([image_metrics(g[..., c], o[..., c])["CC"]
                              for g, o in zip(generated, observed)]))
            for c in range(observed.shape[-1])]


def _read(data, split, passbands, image_size, limit=None):
    from solar_euv.dataset.reading import read_split

    ds, _ = read_split(data, split, passbands, image_size, batch_size=16)
    times, gauss, aia = [], [], []
    for t, g, a in ds:
        times.extend(x.decode() for x in t.numpy())
        gauss.append(g.numpy())
        aia.append(a.numpy())
        if limit is not None and len(times) >= limit:
            break
    n = len(times) if limit is None else min(limit, len(times))
    return times[:n], np.concatenate(gauss)[:n], np.concatenate(aia)[:n]


def reference_scores(data, split, passbands, image_size, *, examples=None, hmi_limit=None,
                     synthetic_seed=None, train_split="train", train_examples=256):
    """Mean CC of the per-pixel fit (and the oracle) on a validation split.

    Parameters
    ----------
    data : str or os.PathLike
        Prepared dataset directory.
    split : str
        The split scored (``"validation"``).
    passbands : sequence of str
    image_size : int
        The training size (the grid is area-averaged to it).
    examples : int, optional
        Score the first ``examples`` of the split in stored order (None: all).
    hmi_limit : float, optional
        Magnetogram clip of the fit's input (the network's).
    synthetic_seed : int, optional
        The seed of the synthetic Sun that made the data; adds ``"oracle"``.
    train_split : str
        Where the fit is fitted.
    train_examples : int
        The fit uses the first this many examples of ``train_split``.

    Returns
    -------
    dict
        ``{"examples": n, "pixel_fit": {band: CC}}``; with ``synthetic_seed``
        also ``"oracle"`` (truth at the stored size, averaged) and
        ``"oracle_at_size"`` (the forward model run on the training grid
        itself: what the magnetogram as the network sees it allows).
    """
    from solar_euv.dataset import dataset_info

    passbands = list(passbands)
    _, g_train, a_train = _read(data, train_split, passbands, image_size, train_examples)
    times, g_val, a_val = _read(data, split, passbands, image_size, examples)
    fit = PixelFit(hmi_limit=hmi_limit).fit(g_train, a_train)
    out = {"examples": len(times),
           "pixel_fit": dict(zip(passbands, _mean_cc(fit.predict(g_val), a_val)))}
    if synthetic_seed is not None:
        stored = int(dataset_info(data)["grid"]["size"])
        truth = synthetic_oracle(times, image_size, passbands, synthetic_seed, stored)
        out["oracle"] = dict(zip(passbands, _mean_cc(truth, a_val)))
        if stored != image_size:
            truth = synthetic_oracle(times, image_size, passbands, synthetic_seed)
        out["oracle_at_size"] = dict(zip(passbands, _mean_cc(truth, a_val)))
    return out
