"""Training callbacks: non-finite losses, checkpoint rotation, atomic saves."""
import numpy as np
import pytest

from solar_euv.callbacks import Checkpoints, NonFiniteGuard, save_model_atomic
from solar_euv.exceptions import SolarEUVError
from solar_euv.models import build_pix2pix, load_model


def _model():
    model = build_pix2pix(64, model="A", base_filters=4, max_filters=8)
    model.compile(gan_weight=0)
    return model


def test_nan_loss_stops_with_the_step_and_writes_no_checkpoint(tmp_path):
    model = _model()
    x = np.zeros((2, 64, 64, 1), "float32")
    y = np.zeros((2, 64, 64, 1), "float32")
    model.fit(x, y, batch_size=1, epochs=1, verbose=0)          # two good steps
    y_bad = y.copy()
    y_bad[0, 0, 0, 0] = np.nan
    with pytest.raises(SolarEUVError, match=r"at step 3: the loss '.*' became nan"):
        model.fit(x, y_bad, batch_size=2, epochs=1, verbose=0,
                  callbacks=[NonFiniteGuard(), Checkpoints(tmp_path, every=1)])
    assert list(tmp_path.iterdir()) == []


def test_checkpoints_keep_the_newest_and_save_atomically(tmp_path):
    model = _model()
    x = np.zeros((4, 64, 64, 1), "float32")
    model.fit(x, x, batch_size=1, epochs=1, verbose=0,
              callbacks=[Checkpoints(tmp_path, every=1, keep=2)])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["step_0000003.keras",
                                                          "step_0000004.keras"]
    assert int(load_model(tmp_path / "step_0000004.keras").optimizer.iterations) == 4


def test_failed_save_leaves_the_previous_file_intact(tmp_path, monkeypatch):
    model = _model()
    target = tmp_path / "model.keras"
    save_model_atomic(model, target)
    before = target.read_bytes()

    def broken_save(path, *args, **kwargs):
        with open(path, "wb") as f:
            f.write(b"partial")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(model, "save", broken_save)
    with pytest.raises(OSError, match="No space"):
        save_model_atomic(model, target)
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["model.keras"]
