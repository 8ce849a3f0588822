"""pix2pix's learning-rate schedule: constant, then linearly down to zero."""
import keras
from keras import ops

__all__ = ["LinearDecay"]


@keras.saving.register_keras_serializable(package="solar_euv")
class LinearDecay(keras.optimizers.schedules.LearningRateSchedule):
    """Constant learning rate, then a linear decay to 0 at ``total_steps``.

    pix2pix (Isola et al. 2017) keeps the rate for the first half of the
    epochs and decays it linearly to zero over the second half; with
    ``decay_start=0.5`` this is that schedule counted in steps.  Past
    ``total_steps`` the rate stays 0.

    Parameters
    ----------
    learning_rate : float
        The rate before the decay starts.
    total_steps : int
        The step at which the rate reaches 0.
    decay_start : float
        Fraction of ``total_steps`` after which the decay begins (0: decay
        from the first step).
    """

    def __init__(self, learning_rate, total_steps, decay_start=0.5):
        if total_steps < 1:
            raise ValueError(f"`total_steps` must be at least 1. Received: "
                             f"total_steps={total_steps!r}")
        if not 0.0 <= decay_start < 1.0:
            raise ValueError(f"`decay_start` must be in [0, 1). Received: "
                             f"decay_start={decay_start!r}")
        self.learning_rate = float(learning_rate)
        self.total_steps = int(total_steps)
        self.decay_start = float(decay_start)

    def __call__(self, step):
        step = ops.cast(step, "float32")
        start = self.decay_start * self.total_steps
        fraction = (step - start) / (self.total_steps - start)
        return self.learning_rate * (1.0 - ops.clip(fraction, 0.0, 1.0))

    def get_config(self):
        return {"learning_rate": self.learning_rate, "total_steps": self.total_steps,
                "decay_start": self.decay_start}
