"""The references a trained network is judged against: per-pixel fit and oracle."""
import numpy as np
import pytest

from solar_euv.metrics import image_metrics
from solar_euv.reference import PixelFit, mu_map, reference_scores, synthetic_oracle
from solar_euv.scaling import disk_mask
from solar_euv.synthetic.sun import SyntheticSun


def _field(rng, n=64, count=6):
    from scipy import ndimage

    return np.stack([ndimage.gaussian_filter(rng.normal(0, 300, (n, n)), 1.5)
                     for _ in range(count)])


def test_pixel_fit_recovers_a_law_it_can_express():
    rng = np.random.default_rng(0)
    gauss = _field(rng)
    fit = PixelFit()
    # log(I + 1) linear in the features: the fit's own family, two channels.
    true = np.array([[2.0, 1.0], [0.5, -0.2], [0.1, 0.0], [0.8, 0.3], [0.0, 0.2],
                     [0.0, 0.0], [0.3, 0.0], [0.0, 0.5]])
    observed = np.stack([np.expm1(fit.features(g) @ true) for g in gauss])
    fit.fit(gauss[:4], observed[:4])
    np.testing.assert_allclose(fit.weights, true, atol=1e-6)
    predicted = fit.predict(gauss[4:])
    assert predicted.shape == (2, 64, 64, 2)
    assert image_metrics(predicted[0, ..., 0], observed[4, ..., 0])["CC"] == pytest.approx(1.0)


def test_pixel_fit_clips_like_the_network_input_and_subsamples_big_images():
    gauss = np.full((1, 64, 64), 5000.0)
    assert PixelFit(hmi_limit=1000.0).features(gauss[0])[32, 32, 3] == \
        pytest.approx(np.log1p(1000.0 / 10.0))
    rng = np.random.default_rng(1)
    field = _field(rng, count=3)
    observed = np.abs(field)[..., None] + 5.0
    few = PixelFit().fit(field, observed, pixels_per_image=500).weights
    many = PixelFit().fit(field, observed).weights
    assert few.shape == many.shape == (8, 1) and np.allclose(few, many, atol=0.5)
    with pytest.raises(ValueError, match="before fit"):
        PixelFit().predict(field)


def test_mu_map_is_one_at_the_centre_and_zero_off_the_disk():
    mu = mu_map(128)
    assert mu.max() == pytest.approx(1.0, abs=1e-3)
    assert (mu[~disk_mask(128)] == 0).all()


def test_oracle_is_the_synthetic_truth_averaged_to_the_size():
    t = "2014-03-01T00:00:00"
    truth = SyntheticSun(0).truth(t, 128, ["171"])["171"]
    oracle = synthetic_oracle([t], 64, ["171"], seed=0, stored_size=128)
    assert oracle.shape == (1, 64, 64, 1)
    np.testing.assert_allclose(oracle[0, ..., 0],
                               truth.reshape(64, 2, 64, 2).mean(axis=(1, 3)), rtol=1e-5)


def test_reference_scores_on_a_prepared_synthetic_dataset(prepared_sample):
    scores = reference_scores(prepared_sample, "validation", ["1700", "171"], 128,
                              hmi_limit=1000.0, synthetic_seed=0)
    assert scores["examples"] == 2
    for key in ("pixel_fit", "oracle", "oracle_at_size"):
        assert set(scores[key]) == {"1700", "171"}
    # The noise-free truth beats a line fit; 1700 A is the predictable passband.
    assert scores["oracle"]["171"] > scores["pixel_fit"]["171"] > 0.3
    assert scores["oracle"]["1700"] > 0.9
    without = reference_scores(prepared_sample, "validation", ["171"], 64, examples=1)
    assert without["examples"] == 1 and "oracle" not in without
