"""Training runs: options, strategy, data, run directory, resume, and the training loops.

:func:`train` is what ``solar-euv-train`` calls.  The package has one module
per job: :mod:`~solar_euv.training.config` (:class:`TrainConfig`, presets,
the identity a resumed run must share), :mod:`~solar_euv.training.strategy`
(TF_CONFIG, distribution strategies, precision),
:mod:`~solar_euv.training.data` (the prepared dataset and its pipelines),
:mod:`~solar_euv.training.run_directory` (:class:`RunDirectory`,
``config.json``), :mod:`~solar_euv.training.model` (new model or backup),
:mod:`~solar_euv.training.loop` (callbacks, ``Model.fit`` and the
multi-worker loop), :mod:`~solar_euv.training.failures` (full disk, lost
peer), :mod:`~solar_euv.training.references` (the closing line's
references) and :mod:`~solar_euv.training.runner` (:func:`train`).
Importing the package does not import TensorFlow.
"""
from solar_euv.training.config import LR_DECAYS, PRESETS, TrainConfig
from solar_euv.training.data import FULL_VERIFY_BYTES, default_data_dir
from solar_euv.training.run_directory import RunDirectory
from solar_euv.training.runner import TrainResult, train
from solar_euv.training.strategy import make_strategy

__all__ = ["PRESETS", "LR_DECAYS", "FULL_VERIFY_BYTES", "TrainConfig", "TrainResult", "train",
           "make_strategy", "default_data_dir", "RunDirectory"]
