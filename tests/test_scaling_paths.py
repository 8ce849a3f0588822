"""One scaling, three paths: numpy, the tf.data pipeline and the exported SavedModel agree."""
import types

import numpy as np
import pytest
import tensorflow as tf

from solar_euv.dataset import make_dataset
from solar_euv.dataset.records import to_float16
from solar_euv.scaling import Scaling, disk_mask
from test_records import SIZE, write_dataset, write_raw

BANDS = ("171", "193")
SCALINGS = [Scaling(),
            Scaling(hmi_limit=1000.0, aia_log_max=12.0, mask_radius=0.9, hmi_off_disk=-1.0),
            Scaling(mask_off_disk=False),
            Scaling(hmi_limit=1000.0, hmi_asinh=30.0, mask_radius=1.0)]
IDS = ["default", "other-limits-legacy-off-disk", "unmasked", "asinh-whole-disk"]


@pytest.fixture(scope="module")
def observation(tmp_path_factory):
    """A one-example dataset and the float16 values it stores (NaN and 65504 included)."""
    tmp = tmp_path_factory.mktemp("paths")
    obs = write_raw(tmp / "raw", n=1, seed=5)
    out, _ = write_dataset(tmp, {"train": obs})

    def stored(channel):
        return to_float16(np.load(obs[0].sources[channel])).astype(np.float32)[None]

    return out, stored("hmi"), np.stack([stored(b) for b in BANDS], axis=-1)


@pytest.mark.parametrize("scaling", SCALINGS, ids=IDS)
def test_numpy_and_tf_data_give_the_same_network_units(observation, scaling):
    out, gauss, dn = observation
    assert np.isnan(gauss).any() and (np.abs(gauss) > scaling.hmi_limit).any()
    ds = make_dataset(out, "train", BANDS, batch_size=1, training=False, scaling=scaling)
    [(mag, target)] = [(x.numpy(), y.numpy()) for x, y in ds]
    np.testing.assert_allclose(mag[..., 0], scaling.hmi_network_input(gauss), atol=1e-6)
    np.testing.assert_allclose(target, scaling.apply_mask(scaling.aia_to_network(dn)),
                               atol=2e-6)
    outside = ~disk_mask(SIZE, scaling.mask_radius)
    if scaling.mask_off_disk:
        assert (mag[:, outside, 0] == scaling.hmi_off_disk).all()
        assert (target[:, outside, :] == -1.0).all()
    else:
        assert (mag[:, outside, 0] != scaling.hmi_off_disk).any()


@pytest.mark.parametrize("scaling", SCALINGS, ids=IDS)
def test_numpy_and_saved_model_give_the_same_physical_units(observation, scaling, tmp_path):
    import keras

    from solar_euv.export import export_saved_model

    # A "generator" that moves the left and right borders (off the disk) to the
    # middle, so the magnetogram's off-disk value shows in the output.
    half = SIZE // 2
    inputs = keras.Input((SIZE, SIZE, 1), name="magnetogram")
    rolled = keras.layers.Lambda(lambda x: tf.roll(x, half, axis=2))(inputs)
    trained = types.SimpleNamespace(
        generator=keras.Model(inputs, rolled), scaling=scaling, image_size=SIZE,
        passbands=("171",), run_dir=None, path=None, sha256="0" * 64,
        metadata=lambda: {"scaling": scaling.to_dict()})
    path = export_saved_model(trained, tmp_path, name="rolled", verify=False)
    serve = tf.saved_model.load(str(path)).signatures["serving_default"]
    _, gauss, _ = observation
    gauss = np.concatenate([gauss, -gauss, np.zeros_like(gauss)])
    got = serve(magnetogram=tf.constant(gauss[..., None]))["aia_171"].numpy()

    y = np.roll(scaling.hmi_network_input(gauss), half, axis=2)[..., None]
    expected = scaling.apply_mask(scaling.aia_from_network(y), value=0.0)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-3)
    outside = ~disk_mask(SIZE, scaling.mask_radius)
    if scaling.mask_off_disk:
        assert (got[:, outside] == 0.0).all()
        # The zero field's off-disk border, rolled onto the disk, reads hmi_off_disk.
        off_disk = np.roll(outside, half, axis=1) & ~outside
        np.testing.assert_allclose(got[2][off_disk],
                                   scaling.aia_from_network(scaling.hmi_off_disk),
                                   rtol=1e-5)
