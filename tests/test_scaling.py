"""Network-unit scaling and the common grid (DESIGN.md conventions)."""
import numpy as np
import pytest

from solar_euv.passbands import PASSBAND_NAMES, get_passband, parse_passbands
from solar_euv.exceptions import SolarEUVError
from solar_euv.scaling import Scaling, disk_center_px, disk_mask, solar_radius_px


def test_grid_radius_and_centre():
    assert solar_radius_px(1024) == 392.0
    assert solar_radius_px(256) == 98.0
    assert disk_center_px(1024) == 511.5
    mask = disk_mask(64)
    # Symmetric about the array centre, area close to pi R^2.
    assert np.array_equal(mask, mask[::-1, ::-1]) and np.array_equal(mask, mask.T)
    assert abs(mask.sum() - np.pi * solar_radius_px(64) ** 2) < 0.02 * mask.sum()


def test_aia_scaling_matches_the_authors_constants():
    s = Scaling()
    x = np.array([0.0, 1.0, 3.0, 2.0**14 - 1, 1e6, -5.0, np.nan])
    y = s.aia_to_network(x)
    np.testing.assert_allclose(y, [-1, -1 + 2 / 14, -1 + 4 / 14, 1, 1, -1, -1], atol=1e-6)
    back = s.aia_from_network(s.aia_to_network([0.0, 10.0, 1000.0, 16383.0]))
    np.testing.assert_allclose(back, [0.0, 10.0, 1000.0, 16383.0], rtol=1e-5, atol=1e-4)


def test_hmi_scaling_clips_at_the_limit():
    s = Scaling(hmi_limit=1000.0)
    np.testing.assert_allclose(s.hmi_to_network([-5000, -500, 0, 250, 3000, np.nan]),
                               [-1, -0.5, 0, 0.25, 1, 0])
    assert s.hmi_from_network(0.5) == pytest.approx(500.0)


def test_off_disk_mask_channels_last_and_round_trip_of_config():
    s = Scaling()
    y = np.zeros((2, 64, 64, 3), np.float32)
    masked = s.apply_mask(y)
    assert masked[0, 0, 0, 0] == -1 and masked[1, 32, 32, 2] == 0
    assert (masked[..., 0] == -1).sum() == 2 * (~disk_mask(64, 0.99)).sum()
    assert Scaling.from_dict(Scaling(hmi_limit=1500, mask_off_disk=False).to_dict()) == \
        Scaling(hmi_limit=1500, mask_off_disk=False)
    np.testing.assert_array_equal(Scaling(mask_off_disk=False).apply_mask(y), y)


def test_passband_lookup_and_parsing():
    assert PASSBAND_NAMES == ("1700", "1600", "304", "171", "193", "211", "335", "94", "131")
    assert get_passband(171).name == "171" and get_passband("94A").name == "94"
    assert get_passband("171").cmap == "sdoaia171"
    assert parse_passbands(["171", "94,1700", "171"]) == ("1700", "171", "94")
    assert parse_passbands(["all"]) == PASSBAND_NAMES
    with pytest.raises(SolarEUVError, match="unknown AIA passband '172'"):
        parse_passbands(["172"])
    with pytest.raises(SolarEUVError, match="no passband given"):
        parse_passbands([" "])


def test_input_error_survives_pickling_between_processes():
    import pickle

    from solar_euv.exceptions import InputError

    err = pickle.loads(pickle.dumps(InputError("/data/x.fits", "is not a FITS file")))
    assert isinstance(err, InputError)
    assert (err.path, err.problem) == ("/data/x.fits", "is not a FITS file")
    assert str(err) == "/data/x.fits: is not a FITS file"


def test_magnetogram_off_disk_value_and_legacy_dicts():
    s = Scaling(hmi_limit=1000.0)
    gauss = np.full((64, 64), 400.0)
    x = s.hmi_network_input(gauss)
    outside = ~disk_mask(64, s.mask_radius)
    assert s.hmi_off_disk == 0.0
    assert (x[outside] == 0.0).all() and np.allclose(x[~outside], 0.4)
    assert (Scaling(hmi_off_disk=-1.0).hmi_network_input(gauss)[outside] == -1.0).all()
    # A dictionary written before the field existed describes a -1 model.
    old = {k: v for k, v in s.to_dict().items() if k != "hmi_off_disk"}
    assert Scaling.from_dict(old).hmi_off_disk == -1.0
    assert Scaling.from_dict(s.to_dict()) == s


def test_asinh_magnetogram_scaling_compresses_strong_fields_and_inverts():
    s = Scaling(hmi_limit=1000.0, hmi_asinh=30.0)
    g = np.array([-5000.0, -1000.0, -30.0, 0.0, 30.0, 300.0, 1000.0, np.nan])
    x = s.hmi_to_network(g)
    norm = np.arcsinh(1000.0 / 30.0)
    np.testing.assert_allclose(x, [-1, -1, -np.arcsinh(1) / norm, 0, np.arcsinh(1) / norm,
                                   np.arcsinh(10) / norm, 1, 0], rtol=1e-6)
    # Linear below the softening field, logarithmic above: 1 kG is 1.4x 300 G, not 3.3x.
    assert 1.3 < x[6] / x[5] < 1.5
    np.testing.assert_allclose(s.hmi_from_network(x[1:7]), g[1:7], rtol=1e-4)
    # The default (and every dictionary written before the field) is the paper's linear map.
    assert Scaling().hmi_asinh == 0.0
    old = {k: v for k, v in s.to_dict().items() if k != "hmi_asinh"}
    assert Scaling.from_dict(old).hmi_asinh == 0.0
    assert Scaling.from_dict(s.to_dict()) == s
