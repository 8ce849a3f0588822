"""The paper's metrics against hand-computed values and the published formulas."""
import numpy as np
import pytest

from solar_euv.metrics import (MetricAccumulator, PAPER_TABLE, image_metrics,
                               prepare_for_metrics)
from solar_euv.scaling import disk_mask


def test_hand_computed_values_on_a_small_image():
    # 64 px: no binning; radius 24.5 px.  Observed 9 DN/s everywhere (value 10),
    # generated 10.9 on the left half of the disk (value 11.9: +19 %) and 9.5
    # (value 10.5: +5 %) on the right half.
    obs = np.full((64, 64), 9.0)
    gen = np.full((64, 64), 9.5)
    gen[:, :32] = 10.9
    mask = disk_mask(64)
    n_left, n_right = mask[:, :32].sum(), mask[:, 32:].sum()
    assert n_left == n_right
    m = image_metrics(gen, obs)
    assert m["RE"] == pytest.approx((11.9 + 10.5) / 2 / 10 - 1)
    assert m["PPE10"] == pytest.approx(0.5)
    assert m["PPE50"] == pytest.approx(1.0)
    assert np.isnan(m["CC"])  # the observed image is constant on the disk


def test_cc_of_an_affine_copy_is_one_and_of_its_negative_minus_one():
    rng = np.random.default_rng(0)
    obs = rng.uniform(10, 1000, (128, 128))
    assert image_metrics(2 * obs + 5, obs)["CC"] == pytest.approx(1.0)
    assert image_metrics(2000 - obs, obs)["CC"] == pytest.approx(-1.0)


def test_binning_clipping_and_disk_selection():
    img = np.zeros((1024, 1024))
    img[:4, :4] = 1e9          # off disk: ignored
    img[508:512, 508:512] = 8  # one 4x4 block at the centre, mean 8 -> value 9
    values = prepare_for_metrics(img)
    assert values.size == disk_mask(256).sum()
    assert values.max() == 9.0 and values.min() == 1.0
    big = np.full((256, 256), 1e7)
    assert prepare_for_metrics(big).max() == 2.0**14
    assert prepare_for_metrics(np.full((256, 256), -5.0)).min() == 1.0


def _published(gen, obs):
    """A direct transcription of the published definitions, pixel loops and all."""
    size = gen.shape[0]
    f = max(1, size // 256)
    n = size // f
    gb = gen.reshape(n, f, n, f).mean(axis=(1, 3))
    ob = obs.reshape(n, f, n, f).mean(axis=(1, 3))
    radius = 392 * n / 1024
    c = (n - 1) / 2
    g, o = [], []
    for i in range(n):
        for j in range(n):
            if (i - c) ** 2 + (j - c) ** 2 <= radius ** 2:
                g.append(min(max(gb[i, j] + 1, 1), 2**14))
                o.append(min(max(ob[i, j] + 1, 1), 2**14))
    g, o = np.array(g), np.array(o)
    cc = np.corrcoef(g, o)[0, 1]
    re = (g.sum() - o.sum()) / o.sum()
    err = np.abs(g - o) / o
    return cc, re, (err <= 0.1).mean(), (err <= 0.5).mean()


@pytest.mark.parametrize("size", [128, 512])
def test_agrees_with_a_direct_implementation(size):
    rng = np.random.default_rng(size)
    obs = rng.lognormal(4, 1.5, (size, size))
    gen = obs * rng.lognormal(0, 0.4, (size, size)) + rng.normal(0, 5, (size, size))
    m = image_metrics(gen, obs)
    expected = _published(gen, obs)
    np.testing.assert_allclose([m["CC"], m["RE"], m["PPE10"], m["PPE50"]], expected,
                               rtol=1e-10, atol=1e-12)


def test_accumulator_means_per_passband():
    rng = np.random.default_rng(3)
    acc = MetricAccumulator()
    results = []
    for _ in range(3):
        obs = rng.uniform(1, 100, (64, 64))
        results.append(acc.add("171", obs * 1.1, obs))
    acc.add("94", obs, obs)
    summary = acc.summary()
    assert summary["171"]["n"] == 3
    assert summary["171"]["RE"] == pytest.approx(np.mean([r["RE"] for r in results]))
    assert summary["94"]["CC"] == pytest.approx(1.0) and summary["94"]["PPE10"] == 1.0
    assert set(PAPER_TABLE) == {"1700", "1600", "304", "171", "193", "211", "335", "94",
                                "131"}


def test_sharpness_flux_ratio_and_high_frequency_power():
    from scipy import ndimage

    from solar_euv.metrics import image_sharpness, radial_power_spectrum

    rng = np.random.default_rng(3)
    observed = rng.lognormal(5, 1, (128, 128)).astype(np.float32)
    same = image_sharpness(observed, observed)
    assert same["FLUX"] == pytest.approx(1.0) and same["HFP"] == pytest.approx(1.0)
    # values x + 1 as the paper's metrics (a few are clipped at 2**14)
    assert image_sharpness(2 * observed + 1, observed)["FLUX"] == pytest.approx(2.0, rel=1e-3)
    blurred = ndimage.gaussian_filter(observed, 1.5)
    sharp = image_sharpness(blurred, observed)
    assert sharp["HFP"] < 0.2                     # smoothing removes the small scales
    assert sharp["FLUX"] == pytest.approx(1.0, abs=0.05)
    freq, power = radial_power_spectrum(observed)
    assert freq[0] == 0 and freq[-1] == pytest.approx(0.5) and len(power) == 65
    # White noise has a flat spectrum: high and low halves carry similar power.
    assert 0.5 < power[40:].mean() / power[5:25].mean() < 2.0
    # The accumulator carries both beside the paper's four.
    acc = MetricAccumulator()
    acc.add("171", blurred, observed)
    row = acc.summary()["171"]
    assert row["HFP"] == pytest.approx(sharp["HFP"]) and "FLUX_std" in row
