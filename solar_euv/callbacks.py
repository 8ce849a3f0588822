"""Training callbacks shared by the ``fit`` path and the multi-worker loop.

Both training paths drive the same callbacks (the multi-worker loop through
``keras.callbacks.CallbackList``), so backup, checkpoints, validation and
logging have exactly one implementation each.  Steps are counted by the
generator optimizer's ``iterations``.  Every file is written to a temporary
name and renamed, so a run killed at any moment never leaves a partial file
under a final name.  Only the chief writes (``writer=False`` elsewhere).
"""
import csv
import json
import math
import pathlib
import time

import keras
import numpy as np
import tensorflow as tf

from solar_euv.atomic import atomic_path, write_json_atomic
from solar_euv.exceptions import InputError, SolarEUVError
from solar_euv.metrics import METRIC_NAMES, MetricAccumulator

__all__ = [
    "current_step",
    "save_model_atomic",
    "Backup",
    "Checkpoints",
    "Validation",
    "ScalarLog",
    "StopAt",
    "NonFiniteGuard",
    "ProgressLog",
]


def current_step(model):
    """Optimizer steps taken so far (the generator optimizer's iterations)."""
    return int(model.optimizer.iterations.numpy())


def save_model_atomic(model, path):
    """``model.save(path)`` through a temporary file in the same directory."""
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        model.save(tmp)


class Backup(keras.callbacks.Callback):
    """Save model, both optimizers and the step to ``backup/`` every epoch.

    An epoch is ``save_every`` steps, so a killed run loses at most that many.
    ``backup/model.keras`` holds everything needed to continue (the step is
    the optimizer's iteration count inside it).
    """

    def __init__(self, backup_dir, writer=True):
        super().__init__()
        self.backup_dir = pathlib.Path(backup_dir)
        self.writer = writer

    @property
    def path(self):
        return self.backup_dir / "model.keras"

    def _save(self):
        if self.writer:
            save_model_atomic(self.model, self.path)
            write_json_atomic(self.backup_dir / "state.json",
                              {"step": current_step(self.model)})

    def on_epoch_end(self, epoch, logs=None):
        self._save()

    def on_train_end(self, logs=None):
        self._save()


class Checkpoints(keras.callbacks.Callback):
    """``checkpoints/step_NNNNNNN.keras`` every ``every`` steps and at the end.

    Keeps the newest ``keep`` of them; ``checkpoints/best.keras`` is written by
    :class:`Validation` when validation L1 improves and is never deleted.
    """

    def __init__(self, directory, every, keep=3, writer=True):
        super().__init__()
        self.directory = pathlib.Path(directory)
        self.every = every
        self.keep = keep
        self.writer = writer

    def _save(self, step):
        if not self.writer:
            return
        save_model_atomic(self.model, self.directory / f"step_{step:07d}.keras")
        saved = sorted(self.directory.glob("step_*.keras"))
        for old in saved[:-self.keep]:
            old.unlink()

    def on_train_batch_end(self, batch, logs=None):
        step = current_step(self.model)
        if step % self.every == 0:
            self._save(step)

    def on_train_end(self, logs=None):
        step = current_step(self.model)
        if not (self.directory / f"step_{step:07d}.keras").exists():
            self._save(step)


class StopAt(keras.callbacks.Callback):
    """Stop training once the optimizer has taken ``iterations`` steps."""

    def __init__(self, iterations):
        super().__init__()
        self.iterations = iterations

    def on_train_batch_end(self, batch, logs=None):
        if current_step(self.model) >= self.iterations:
            self.model.stop_training = True


class NonFiniteGuard(keras.callbacks.Callback):
    """Stop with a clear error when a loss becomes NaN or infinite.

    Raised before any later checkpoint is written, so the last good backup
    and checkpoints stay as they were and the bad weights are never saved as
    the best model.
    """

    def on_train_batch_end(self, batch, logs=None):
        for name, value in (logs or {}).items():
            value = float(value)
            if not math.isfinite(value):
                step = current_step(self.model)
                raise SolarEUVError(
                    f"training stopped at step {step}: the loss {name!r} became {value}; "
                    "the last backup and checkpoints are kept (try a lower --lr or "
                    "--precision float32)")


class ProgressLog(keras.callbacks.Callback):
    """One line per epoch: step, losses, rate, time left (for logs a batch system keeps).

    Used instead of Keras's per-step progress bar when standard output is
    not a terminal: a progress bar rewrites its line at every step (about
    300 bytes a step), one line per epoch stays readable in a log file.

    Parameters
    ----------
    total_steps : int
        Steps of the whole run (``--iterations``).
    echo : callable
        Prints one line.
    """

    def __init__(self, total_steps, echo=print):
        super().__init__()
        self.total_steps = int(total_steps)
        self.echo = echo
        self._start = None

    def on_epoch_begin(self, epoch, logs=None):
        if self._start is None:
            self._start = (current_step(self.model), time.perf_counter())

    def on_epoch_end(self, epoch, logs=None):
        step = current_step(self.model)
        first, t0 = self._start
        elapsed = time.perf_counter() - t0
        rate = (step - first) / elapsed if elapsed > 0 else float("nan")
        losses = ", ".join(f"{k} {float(v):.4g}" for k, v in (logs or {}).items()
                           if not k.startswith("val_"))
        left = max(0, self.total_steps - step)
        eta = f", about {_duration(left / rate)} left" if left and rate > 0 else ""
        self.echo(f"step {step}/{self.total_steps}: {losses}; {rate:.2f} steps/s{eta}")


def _duration(seconds):
    """``"42 s"``, ``"7 min"`` or ``"3.5 h"``."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


class ScalarLog(keras.callbacks.Callback):
    """Losses and the learning rate to TensorBoard every ``every`` steps."""

    def __init__(self, writer, every=50):
        super().__init__()
        self.writer = writer
        self.every = every

    def on_train_batch_end(self, batch, logs=None):
        step = current_step(self.model)
        if self.writer is None or step % self.every:
            return
        with self.writer.as_default(step=step):
            for name, value in (logs or {}).items():
                tf.summary.scalar(f"train/{name}", float(value))
            learning_rate = keras.ops.convert_to_numpy(self.model.optimizer.learning_rate)
            tf.summary.scalar("train/learning_rate", float(learning_rate))


class Validation(keras.callbacks.Callback):
    """The paper's metrics on validation samples every ``every`` steps.

    Writes a row to ``metrics.csv``, scalars and image panels to TensorBoard,
    ``snapshots/step_NNNNNNN/`` (FITS in DN/s and PNG of the first
    ``snapshot_count`` samples), prints a summary line, and saves
    ``checkpoints/best.keras`` when the validation L1 improves.

    Parameters
    ----------
    dataset : tf.data.Dataset
        Finite batches of ``(magnetogram, target)`` in network units.
    passbands : sequence of str
        Names of the target channels.
    scaling : solar_euv.scaling.Scaling
    run_dir : pathlib.Path
    every : int
    writer : bool
        Whether this process writes files (the chief).
    summary_writer : tf.summary.SummaryWriter or None
    echo : callable
        Prints one line.
    """

    def __init__(self, dataset, passbands, scaling, run_dir, every, writer=True,
                 summary_writer=None, echo=print, snapshot_count=2, model_name=""):
        super().__init__()
        self.dataset = dataset
        self.passbands = tuple(passbands)
        self.scaling = scaling
        self.run_dir = pathlib.Path(run_dir)
        self.every = every
        self.writer = writer
        self.summary_writer = summary_writer
        self.echo = echo
        self.snapshot_count = snapshot_count
        self.model_name = model_name
        self.best_l1 = math.inf
        self.last = None
        self._last_step = None
        self._generate = None

    def on_train_begin(self, logs=None):
        generator = self.model.generator
        self._generate = tf.function(lambda x: generator(x, training=False))
        best = self.run_dir / "checkpoints" / "best.json"
        if best.is_file():
            try:
                self.best_l1 = float(json.loads(best.read_text())["val_l1"])
            except (ValueError, KeyError, TypeError):
                raise InputError(best, "is not a valid best.json (no number val_l1); delete "
                                       "it and checkpoints/best.keras, or pass --force") from None

    def on_train_batch_end(self, batch, logs=None):
        step = current_step(self.model)
        if step % self.every == 0:
            self.validate(step, logs)

    def on_train_end(self, logs=None):
        step = current_step(self.model)
        if self._last_step != step:
            self.validate(step, logs)

    def validate(self, step, logs=None):
        """Run validation now; returns ``{"val_l1": ..., "<band>_CC": ...}``."""
        self._last_step = step
        acc = MetricAccumulator()
        l1_sum, l1_count = 0.0, 0
        samples = []
        for x, y in self.dataset:
            # Off the disk the output is masked as generation masks it (a
            # run trained on the disk alone leaves it undetermined there).
            fake = self.scaling.apply_mask(self._generate(x).numpy())
            x, y = x.numpy(), y.numpy()
            l1_sum += float(np.abs(fake - y).sum())
            l1_count += fake.size
            for i in range(fake.shape[0]):
                if len(samples) < self.snapshot_count:
                    samples.append((x[i], y[i], fake[i]))
                for c, band in enumerate(self.passbands):
                    acc.add(band, self.scaling.aia_from_network(fake[i, ..., c]),
                            self.scaling.aia_from_network(y[i, ..., c]))
        if l1_count == 0:
            raise SolarEUVError("the validation split yielded no example")
        summary = acc.summary()
        result = {"step": step, "val_l1": l1_sum / l1_count}
        for band in self.passbands:
            for key in METRIC_NAMES:
                result[f"{band}_{key}"] = summary[band][key]
        for name, value in (logs or {}).items():
            result[name] = float(value)
        self.last = result
        self._report(step, result, samples)
        if self.writer and result["val_l1"] < self.best_l1:
            self.best_l1 = result["val_l1"]
            save_model_atomic(self.model, self.run_dir / "checkpoints" / "best.keras")
            write_json_atomic(self.run_dir / "checkpoints" / "best.json",
                              {"step": step, "val_l1": result["val_l1"]})
        return result

    # -- output ---------------------------------------------------------------
    def _report(self, step, result, samples):
        cc = ", ".join(f"{b} CC {result[f'{b}_CC']:.3f}" for b in self.passbands[:9])
        self.echo(f"step {step}: validation L1 {result['val_l1']:.4f}; {cc}")
        if self.summary_writer is not None:
            with self.summary_writer.as_default(step=step):
                for key, value in result.items():
                    if key != "step" and math.isfinite(value):
                        prefix = "val" if not key.startswith(("g_", "d_", "l1")) else "train"
                        tf.summary.scalar(f"{prefix}/{key}", value)
                for i, (x, y, fake) in enumerate(samples):
                    tf.summary.image(f"panels/sample{i}", _panel(x, y, fake)[None])
        if not self.writer:
            return
        self._append_csv(result)
        from solar_euv.snapshots import write_snapshot

        for i, (x, y, fake) in enumerate(samples):
            write_snapshot(self.run_dir / "snapshots" / f"step_{step:07d}", i, x, y, fake,
                           self.passbands, self.scaling, step, self.model_name)

    def _append_csv(self, result):
        path = self.run_dir / "metrics.csv"
        fields = list(result)
        new = not path.exists()
        with path.open("a", newline="") as f:
            w = csv.DictWriter(f, fieldnames=fields)
            if new:
                w.writeheader()
            w.writerow(result)


def _panel(x, y, fake):
    """magnetogram | observed | generated (first channel) as a [0, 1] RGB image."""
    tiles = [np.clip((img[..., 0] + 1) / 2, 0, 1) for img in (x, y, fake)]
    row = np.concatenate(tiles, axis=1)
    return np.repeat(row[..., None], 3, axis=-1).astype(np.float32)
