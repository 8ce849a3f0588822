"""The run directory: its files, its ``config.json`` record, and resuming from its backup."""
import dataclasses
import datetime
import json
import pathlib
import platform
import shutil

from solar_euv._version import __version__
from solar_euv.atomic import TMP_PREFIX, write_json_atomic
from solar_euv.exceptions import InputError
from solar_euv.training.config import LEGACY_IDENTITY
from solar_euv.training.data import manifest_hash

__all__ = ["RunDirectory", "run_record", "open_run_directory"]


class RunDirectory:
    """The files of one run: config, checkpoints, backup, logs, metrics, snapshots."""

    def __init__(self, path):
        self.path = pathlib.Path(path)
        self.config = self.path / "config.json"
        self.checkpoints = self.path / "checkpoints"
        self.backup = self.path / "backup"
        self.logs = self.path / "logs"
        self.model = self.path / "model.keras"

    @property
    def backup_model(self):
        """``backup/model.keras``: the model and both optimizers a rerun resumes from."""
        return self.backup / "model.keras"

    def prepare(self, config, record, writer):
        """Check the directory against ``config``; returns True when a backup is resumed."""
        existing = None
        if self.config.is_file():
            try:
                existing = json.loads(self.config.read_text())
            except ValueError:
                raise InputError(self.config, "is not valid JSON; remove the run directory "
                                              "or use --force") from None
            if not isinstance(existing, dict):
                raise InputError(self.config, "is not the config.json of a solar-euv-train "
                                              "run; remove the run directory or use --force")
        has_backup = self.backup_model.is_file()
        if config.force and writer:
            for sub in (self.backup, self.checkpoints):
                shutil.rmtree(sub, ignore_errors=True)
            for f in (self.path / "metrics.csv", self.model):
                if f.exists():
                    f.unlink()
            existing, has_backup = None, False
        now = config.identity()
        before = None if existing is None else {**LEGACY_IDENTITY,
                                                 **(existing.get("identity") or {})}
        if before is not None and before != now:
            changed = sorted(k for k in now if before.get(k) != now[k])
            raise InputError(self.path, "holds a run with a different configuration ("
                             + ", ".join(changed) + " differ); choose another --run-dir "
                             "or pass --force to start over")
        if config.resume and not has_backup:
            raise InputError(self.path, "has no backup to resume from (backup/model.keras)")
        resume = has_backup
        if existing is not None and not resume and not config.force:
            if (self.path / "metrics.csv").exists() or self.checkpoints.exists():
                raise InputError(self.path, "holds an earlier run without a backup; choose "
                                            "another --run-dir or pass --force")
        if writer:
            # Temporary files of a run killed while saving are never final
            # names; remove them wherever the run writes (checkpoints,
            # backup, snapshots/step_*, the run directory itself).
            if self.path.is_dir():
                for leftover in sorted(self.path.rglob(TMP_PREFIX + "*")):
                    if leftover.is_file() or leftover.is_symlink():
                        leftover.unlink()
            self.path.mkdir(parents=True, exist_ok=True)
            for sub in (self.checkpoints, self.backup, self.logs):
                sub.mkdir(exist_ok=True)
            write_json_atomic(self.config, record)
        return resume


def run_record(config, data, precision_record):
    """The content of ``config.json``: options, data, scaling, precision and versions.

    Parameters
    ----------
    config : solar_euv.training.TrainConfig
    data : solar_euv.training.data.TrainingData
    precision_record : dict
        :func:`solar_euv.device.run_precision`'s record of the dtype policy.

    Returns
    -------
    dict
    """
    import keras
    import tensorflow as tf

    return {"identity": config.identity(), "options": dataclasses.asdict(config),
            "data_dir": str(data.path.resolve()), "manifest_sha256": manifest_hash(data.path),
            "scaling": data.scaling.to_dict(), "validation_split": data.val_split,
            "precision": precision_record,
            "versions": {"solar_euv": __version__, "tensorflow": tf.__version__,
                         "keras": keras.__version__, "python": platform.python_version()},
            "written": datetime.datetime.now(datetime.timezone.utc).isoformat()}


def open_run_directory(config, record, chief):
    """The run directory of ``config``, checked (and written) by the chief.

    Returns
    -------
    tuple of (RunDirectory, bool)
        The directory, and whether the run resumes from its backup.
    """
    run = RunDirectory(config.run_dir)
    if chief:
        resume = run.prepare(config, record, writer=True)
    else:
        # Other workers only read: the chief checks and writes the directory.
        resume = run.backup_model.is_file()
    return run, resume
