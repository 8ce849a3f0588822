"""Training runs: strategy, data, run directory, resume, and the two training loops.

:func:`train` is what ``solar-euv-train`` calls.  Under the default strategy
and ``MirroredStrategy`` it trains with ``Pix2Pix.fit``.  Under
``MultiWorkerMirroredStrategy``, where ``Model.fit`` fails in TF 2.21 /
Keras 3.15 (keras-team/keras#20585), a small loop runs
``strategy.run(model.train_step, ...)`` in a ``tf.function`` over the
distributed dataset and drives the *same* callbacks (backup, checkpoints,
validation, logging) through ``keras.callbacks.CallbackList``.
"""
import dataclasses
import datetime
import errno
import hashlib
import json
import math
import os
import pathlib
import platform
import re
import shutil
import sys
import time

from solar_euv._version import __version__
from solar_euv.atomic import TMP_PREFIX, write_json_atomic
from solar_euv.exceptions import InputError, SolarEUVError
from solar_euv.scaling import Scaling

__all__ = ["PRESETS", "TrainConfig", "train", "make_strategy", "default_data_dir",
           "RunDirectory"]

#: Settings each preset gives to options left unset on the command line.
PRESETS = {
    # Sized for a 2-core CPU: the whole default run (sample generation,
    # preparation and training) finishes in under 10 minutes.
    # Magnetograms are clipped at +-1000 G here (the limit of the authors' later
    # TF2 notebook): at +-3000 G plage and network are a few hundredths of the
    # input range and 600 steps do not learn to use them (validation CC 0.05
    # against 0.47 at 1000 G on the synthetic sample, measured in the second
    # round with the earlier off-disk convention; not re-measured since).
    # The rate is 5x the paper's with pix2pix's linear decay over the second
    # half (docs: the learning benchmark).  val_examples covers the sample's
    # whole validation split, the examples the closing line's references use.
    # Model A: in 600 steps Model B reaches a lower CC (0.59 against 0.77 for
    # 171 A on the sample, docs/learning.md); its cGAN needs more steps.
    "quick": {"model": "A", "image_size": 128, "iterations": 600, "batch_size": 4,
              "base_filters": 32, "validate_every": 200, "save_every": 100,
              "val_examples": 64, "hmi_limit": 1000.0, "lr": 1e-3, "lr_decay": "linear"},
    # Park et al. 2019: 1024 px, batch 1, 500,000 iterations.
    "paper": {"model": "B", "image_size": 1024, "iterations": 500_000, "batch_size": 1,
              "base_filters": 64, "validate_every": 10_000, "save_every": 5_000,
              "val_examples": 64, "hmi_limit": 3000.0, "lr": 2e-4, "lr_decay": "none"},
}

#: Learning-rate schedules: constant (the paper), or pix2pix's linear decay
#: to zero over the second half of the steps (:class:`~solar_euv.models.LinearDecay`).
LR_DECAYS = ("none", "linear")

#: errno values of a write that failed for lack of space (disk full, quota, ulimit -f).
_NO_SPACE = (errno.ENOSPC, errno.EFBIG, errno.EDQUOT)

#: Splits up to this size are read in full (CRC and SHA-256) before training.
FULL_VERIFY_BYTES = 2 * 2**30

# Options that define what a run computes; a run directory is only resumed
# with the same values (--iterations may change: a run can be extended).
_IDENTITY = ("data", "passbands", "model", "image_size", "batch_size",
             "disc_layers", "l1_weight", "lr", "lr_decay", "beta1", "precision", "seed",
             "base_filters", "validate_every", "save_every", "val_examples", "hmi_limit",
             "hmi_off_disk")


@dataclasses.dataclass
class TrainConfig:
    """Every option of a training run (recorded in ``config.json``).

    Each field's metadata describes its command-line option (``help``, and
    ``choices``, ``min``/``max``/``min_open``, ``directory``,
    ``case_sensitive``, ``cli_default`` where they apply):
    ``solar-euv-train`` builds its options from them.
    """

    data: str = dataclasses.field(default=None, metadata={
        "directory": True,
        "help": "A prepared dataset directory (from `solar-euv prepare`).  Default: the "
                "embedded synthetic sample, generated and prepared on first use into "
                "~/.cache/solar_euv (or $SOLAR_EUV_CACHE); no network."})
    passbands: tuple = dataclasses.field(default=("171",), metadata={
        "help": "AIA passbands to generate, comma-separated (or repeat the option); 'all' "
                "for one model with nine outputs."})
    model: str = dataclasses.field(default=None, metadata={
        "choices": ("A", "B"), "case_sensitive": False,
        "help": "A: L1 loss only (no discriminator). B: L1 + cGAN (pix2pix), as Park et "
                "al. 2019.  [preset: quick A, paper B]"})
    image_size: int = dataclasses.field(default=None, metadata={
        "help": "Training image side in pixels, a power of two from 64 to 2048 that "
                "divides the dataset's grid (images are area-averaged down).  [preset]"})
    iterations: int = dataclasses.field(default=None, metadata={
        "min": 1,
        "help": "Optimizer steps in total (one G and one D update each).  [preset]"})
    batch_size: int = dataclasses.field(default=None, metadata={
        "min": 1, "help": "Global batch size, divided among the replicas.  [preset]"})
    disc_layers: int = dataclasses.field(default=3, metadata={
        "min": 0, "max": 5,
        "help": "PatchGAN depth: 0..5 give receptive fields 1, 16, 34, 70, 142, 286 px."})
    l1_weight: float = dataclasses.field(default=100.0, metadata={
        "help": "lambda: weight of the L1 loss against the cGAN loss."})
    lr: float = dataclasses.field(default=None, metadata={
        "min": 0, "min_open": True,
        "help": "Adam learning rate of both networks (quick: 1e-3; paper: 2e-4, Park et "
                "al. 2019).  [preset]"})
    lr_decay: str = dataclasses.field(default=None, metadata={
        "choices": LR_DECAYS,
        "help": "none: constant rate (the paper).  linear: constant for the first half of "
                "--iterations, then linearly to 0 (pix2pix).  [preset]"})
    beta1: float = dataclasses.field(default=0.5, metadata={
        "min": 0, "max": 1, "help": "Adam beta_1 of both networks (beta_2 is 0.999)."})
    precision: str = dataclasses.field(default="float32", metadata={
        "choices": ("auto", "float32", "mixed_bfloat16", "mixed_float16"),
        "cli_default": "auto",
        "help": "Keras dtype policy.  auto: mixed_float16 on GPUs with tensor cores "
                "(compute capability 7.0+), mixed_bfloat16 on CPUs with native bfloat16 "
                "(AVX512_BF16 or AMX), else float32; a resumed run keeps its policy.  "
                "mixed_float16 (GPU only) loss-scales both optimizers; mixed_bfloat16 on a "
                "CPU without native bfloat16 is emulated (about 10x slower; it warns)."})
    strategy: str = dataclasses.field(default="auto", metadata={
        "choices": ("auto", "default", "mirrored", "multiworker"),
        "help": "auto: MirroredStrategy when more than one GPU is visible, else one "
                "device.  multiworker: MultiWorkerMirroredStrategy configured by TF_CONFIG "
                "(run the same command on every worker)."})
    run_dir: str = dataclasses.field(default="runs/solar-euv", metadata={
        "directory": True,
        "help": "Where config.json, checkpoints/, backup/, logs/ (TensorBoard), "
                "metrics.csv, snapshots/ and the final model.keras go."})
    resume: bool = dataclasses.field(default=False, metadata={
        "help": "Continue from RUN_DIR/backup (rerunning the same command does this too); "
                "fails if there is no backup."})
    force: bool = dataclasses.field(default=False, metadata={
        "help": "Start over in a RUN_DIR that holds another run (removes its backup, "
                "checkpoints and metrics)."})
    seed: int = dataclasses.field(default=0, metadata={
        "help": "Random seed (weights, shuffling, augmentation)."})
    preset: str = dataclasses.field(default="quick", metadata={
        "choices": tuple(PRESETS),
        "help": "Defaults for model, size, steps, batch, filters, HMI clip and rate.  "
                "quick: Model A, 128 px, 600 steps, batch 4, 32 base filters, +-1000 G, "
                "rate 1e-3 decaying linearly (minutes on a laptop CPU).  paper: 1024 px, "
                "500,000 steps, Model B, batch 1, 64 filters, +-3000 G, constant rate "
                "2e-4.  Options given explicitly win."})
    base_filters: int = dataclasses.field(default=None, metadata={
        "min": 1, "max": 512,
        "help": "Filters of the first layer of both networks (64 in the paper).  [preset]"})
    validate_every: int = dataclasses.field(default=None, metadata={
        "min": 1,
        "help": "Steps between validations (the paper's CC, RE, PPE10, PPE50 on the "
                "validation split, plus snapshots).  [preset]"})
    save_every: int = dataclasses.field(default=None, metadata={
        "min": 1,
        "help": "Steps between backups and checkpoints; a killed run loses at most this "
                "many.  [preset]"})
    val_examples: int = dataclasses.field(default=None, metadata={
        "min": 1, "help": "Validation examples used at each validation.  [preset]"})
    hmi_limit: float = dataclasses.field(default=None, metadata={
        "min": 0, "min_open": True,
        "help": "Magnetogram clip level in Gauss, mapped to +-1 (quick: 1000, the authors' "
                "TF2 notebook; paper: 3000, Park et al. 2019).  [preset]"})
    hmi_off_disk: float = dataclasses.field(default=0.0, metadata={
        "min": -1, "max": 1,
        "help": "Network value of the magnetogram's pixels beyond 0.99 R (0: no field; "
                "-1: the authors' TF2 notebook, several times slower to learn)."})

    def __post_init__(self):
        if self.preset not in PRESETS:
            raise SolarEUVError(f"unknown preset {self.preset!r}; choose "
                                + " or ".join(PRESETS))
        for key, value in PRESETS[self.preset].items():
            if getattr(self, key) is None:
                setattr(self, key, value)
        self.passbands = tuple(self.passbands)
        self.model = str(self.model).upper()
        if self.lr_decay not in LR_DECAYS:
            raise SolarEUVError(f"unknown --lr-decay {self.lr_decay!r}; choose "
                                + " or ".join(LR_DECAYS))

    def identity(self):
        return {k: (list(v) if isinstance(v, tuple) else v)
                for k, v in dataclasses.asdict(self).items() if k in _IDENTITY}


# -- devices and strategies --------------------------------------------------
def _parse_tf_config():
    raw = os.environ.get("TF_CONFIG")
    if not raw:
        raise SolarEUVError("--strategy multiworker needs TF_CONFIG (a JSON object with "
                            "'cluster' and 'task'); it is not set")
    try:
        cfg = json.loads(raw)
        workers = cfg["cluster"]["worker"]
        task = cfg["task"]
        index = int(task["index"])
        kind = task["type"]
    except (ValueError, KeyError, TypeError) as err:
        raise SolarEUVError(f"TF_CONFIG is malformed ({err.__class__.__name__}: {err}); "
                            'expected {"cluster": {"worker": ["host:port", ...]}, '
                            '"task": {"type": "worker", "index": 0}}') from None
    if not isinstance(workers, list) or not workers or not 0 <= index < len(workers):
        raise SolarEUVError(f"TF_CONFIG is malformed: task index {index} is outside its "
                            f"{len(workers) if isinstance(workers, list) else 0} workers")
    return kind, index, len(workers)


def make_strategy(name):
    """Return ``(strategy, description, is_chief)`` for ``auto|default|mirrored|multiworker``."""
    import tensorflow as tf

    if name == "multiworker":
        kind, index, count = _parse_tf_config()
        strategy = tf.distribute.MultiWorkerMirroredStrategy()
        chief = kind == "chief" or (kind == "worker" and index == 0)
        return strategy, f"MultiWorkerMirrored ({count} workers, this is {kind} {index})", chief
    gpus = tf.config.list_physical_devices("GPU")
    if name == "mirrored" or (name == "auto" and len(gpus) > 1):
        # All GPUs; on a machine without GPUs, all logical CPUs (one unless
        # tf.config.set_logical_device_configuration split the CPU).
        devices = [d.name for d in tf.config.list_logical_devices("GPU")] or \
            [d.name for d in tf.config.list_logical_devices("CPU")]
        strategy = tf.distribute.MirroredStrategy(devices)
        return strategy, f"Mirrored ({strategy.num_replicas_in_sync} replicas)", True
    if name not in ("auto", "default"):
        raise SolarEUVError(f"unknown strategy {name!r}")
    device = "GPU" if gpus else "CPU"
    return tf.distribute.get_strategy(), f"default (one {device})", True


def _check_precision(precision):
    import tensorflow as tf

    if precision == "mixed_float16" and not tf.config.list_physical_devices("GPU"):
        raise SolarEUVError("--precision mixed_float16 needs a GPU: float16 arithmetic on a "
                            "CPU is emulated and slower than float32; use float32 or "
                            "mixed_bfloat16 on a CPU")


# -- data ----------------------------------------------------------------------
def default_data_dir(echo=print):
    """The embedded synthetic sample, generated and prepared on first use (no network)."""
    from solar_euv.sdo.synthetic import default_sample_dir

    raw = default_sample_dir()
    prepared = raw.parent / (raw.name + "-prepared")
    if not (prepared / "manifest.json").is_file():
        echo(f"preparing the embedded synthetic sample {raw} -> {prepared} (first use only)")
        from solar_euv.cli.prepare import command as prepare_command

        args = [str(raw), str(prepared), "--image-size", "256", "--workers",
                str(os.cpu_count() or 1), "-q"]
        prepare_command.main(args, standalone_mode=False)
    return prepared


def _manifest_hash(data_dir):
    path = pathlib.Path(data_dir) / "manifest.json"
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None


# -- run directory -----------------------------------------------------------
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
        if existing is not None and existing.get("identity") != config.identity():
            changed = sorted(k for k in config.identity()
                             if existing.get("identity", {}).get(k) != config.identity()[k])
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


# -- the run -------------------------------------------------------------------
@dataclasses.dataclass
class TrainResult:
    steps: int
    seconds: float
    validation: dict
    model_path: pathlib.Path
    resumed_from: int
    references: dict = None


def _learning_rate(config):
    """The rate or schedule both optimizers use."""
    from solar_euv.models import LinearDecay

    if config.lr_decay == "linear":
        return LinearDecay(config.lr, config.iterations, decay_start=0.5)
    return config.lr


def _extend_schedule(model, config):
    """A resumed run with another ``--iterations`` decays to its new last step."""
    from solar_euv.models import LinearDecay

    for optimizer in (model.optimizer, model.d_optimizer):
        inner = getattr(optimizer, "inner_optimizer", optimizer)
        schedule = getattr(inner, "_learning_rate", None)
        if isinstance(schedule, LinearDecay) and schedule.total_steps != config.iterations:
            inner.learning_rate = LinearDecay(schedule.learning_rate, config.iterations,
                                              schedule.decay_start)


def _build_model(config, channels, strategy):
    from solar_euv.models import build_pix2pix, paper_optimizers

    with strategy.scope():
        model = build_pix2pix(config.image_size, model=config.model, out_channels=channels,
                              disc_layers=config.disc_layers,
                              base_filters=config.base_filters)
        # FusedAdam "g_adam" and "d_adam": Keras's Adam with a fused TF update.
        g_opt, d_opt = paper_optimizers(_learning_rate(config), beta_1=config.beta1,
                                        beta_2=0.999)
        model.compile(g_opt, d_opt, l1_weight=config.l1_weight,
                      gan_weight=1.0 if config.model == "B" else 0.0)
    return model


def _load_backup(path, strategy):
    from solar_euv.models import Pix2Pix, load_model

    with strategy.scope():
        model = load_model(path)
    if not isinstance(model, Pix2Pix):
        raise InputError(path, "is not a solar_euv Pix2Pix model")
    return model


def train(config, echo=print, verbose="auto", strategy=None, references=True):
    """Run (or resume) the training described by ``config``.

    Parameters
    ----------
    config : TrainConfig
    echo : callable
        Prints one line of progress.
    verbose : {"auto", 0, 1, 2}
        Keras progress output.  ``"auto"``: Keras's per-step progress bar
        when standard output is a terminal, else one line per epoch
        (:class:`~solar_euv.callbacks.ProgressLog`) for log files.
    strategy : tf.distribute.Strategy, optional
        Use this strategy instead of creating the one ``config.strategy``
        names (one MirroredStrategy per process: in a notebook or a test,
        create it once and pass it to every run).
    references : bool
        Score the per-pixel fit (and, on the embedded sample, the oracle) on
        the validation examples at the end, print them beside the model's
        CC and write ``references.json`` (:mod:`solar_euv.reference`).

    Returns
    -------
    TrainResult
    """
    import keras
    import tensorflow as tf

    from solar_euv.callbacks import (Backup, Checkpoints, NonFiniteGuard, ProgressLog, ScalarLog,
                                     StopAt, Validation, current_step, save_model_atomic)
    from solar_euv.dataset import count_examples, dataset_info, make_dataset, verify_shards

    if config.model not in ("A", "B"):
        raise SolarEUVError(f"--model must be A (L1) or B (L1 + cGAN); received {config.model}")
    # --precision auto: the device's policy, or the one the run directory recorded.
    from solar_euv.device import run_precision

    precision_record = run_precision(config.precision, config.run_dir, config.force)
    config = dataclasses.replace(config, precision=precision_record["policy"])
    _check_precision(config.precision)
    if strategy is None:
        strategy, strategy_text, chief = make_strategy(config.strategy)
    else:
        strategy_text = f"{type(strategy).__name__} ({strategy.num_replicas_in_sync} replicas)"
        chief = True
    replicas = strategy.num_replicas_in_sync
    if config.batch_size % replicas:
        raise SolarEUVError(f"--batch-size {config.batch_size} is not divisible by the "
                            f"{replicas} replicas")

    data_dir = pathlib.Path(config.data) if config.data else default_data_dir(echo)
    if not (data_dir / "manifest.json").is_file():
        raise InputError(data_dir, "is not a prepared dataset (no manifest.json); make one "
                                   "with `solar-euv prepare RAW_DIR OUT_DIR`")
    scaling = Scaling(hmi_limit=config.hmi_limit, hmi_off_disk=config.hmi_off_disk)
    splits = dataset_info(data_dir)["splits"]
    val_split = "validation" if "validation" in splits else "test"
    n_train = count_examples(data_dir, "train", config.passbands)
    n_val = count_examples(data_dir, val_split, config.passbands)
    if n_train == 0 or n_val == 0:
        empty = "training" if n_train == 0 else val_split
        raise InputError(data_dir, f"has no {empty} example with passband(s) "
                                   + ", ".join(config.passbands)
                         + "; prepare it with --splits covering both train and validation")

    # Built before the run directory is touched: make_dataset refuses passbands
    # the data lack and image sizes that do not divide the data's grid.
    # Shards are checked before training: every record's CRC and every shard's
    # SHA-256 for splits up to FULL_VERIFY_BYTES (a bit-flipped shard is named
    # before the run starts), presence and length only for larger ones (a
    # full read of a paper-sized dataset would take longer than an epoch).
    for split in ("train", val_split):
        size = sum(s.get("bytes", 0) for s in splits[split].get("shards", []))
        verify_shards(data_dir, split, full=size <= FULL_VERIFY_BYTES)
    val_batch = max(replicas, min(config.batch_size, 8))
    val_ds = make_dataset(data_dir, val_split, config.passbands, val_batch, training=False,
                          image_size=config.image_size, scaling=scaling) \
        .unbatch().take(config.val_examples).batch(val_batch)

    run = RunDirectory(config.run_dir)
    record = {"identity": config.identity(), "options": dataclasses.asdict(config),
              "data_dir": str(data_dir.resolve()), "manifest_sha256": _manifest_hash(data_dir),
              "scaling": scaling.to_dict(), "validation_split": val_split,
              "precision": precision_record,
              "versions": {"solar_euv": __version__, "tensorflow": tf.__version__,
                           "keras": keras.__version__, "python": platform.python_version()},
              "written": datetime.datetime.now(datetime.timezone.utc).isoformat()}
    if chief:
        resume = run.prepare(config, record, writer=True)
    else:
        # Other workers only read: the chief checks and writes the directory.
        resume = run.backup_model.is_file()

    keras.utils.set_random_seed(config.seed)
    keras.config.set_dtype_policy(config.precision)
    model = None
    try:
        if resume:
            model = _load_backup(run.backup_model, strategy)
            _extend_schedule(model, config)
        else:
            model = _build_model(config, len(config.passbands), strategy)
        start_step = current_step(model)

        per_epoch = config.save_every
        train_ds = make_dataset(data_dir, "train", config.passbands, config.batch_size,
                                training=True, image_size=config.image_size, scaling=scaling,
                                shuffle_seed=config.seed + start_step, repeat=-1)

        summary_writer = tf.summary.create_file_writer(str(run.logs)) if chief else None
        validation_cb = Validation(
            val_ds, config.passbands, scaling, run.path, config.validate_every, writer=chief,
            summary_writer=summary_writer, echo=echo,
            model_name=f"{run.path.name} model {config.model}")
        callbacks = [
            StopAt(config.iterations),
            NonFiniteGuard(),
            ScalarLog(summary_writer, every=max(1, min(50, config.validate_every))),
            validation_cb,
            Checkpoints(run.checkpoints, config.save_every, writer=chief),
            Backup(run.backup, writer=chief),
        ]
        if verbose == "auto" and not _is_terminal():
            # A log file: one line per epoch, not a progress bar per step.
            verbose = 0
            callbacks.append(ProgressLog(config.iterations, echo=echo))
        echo(f"solar-euv-train: model {config.model}, passbands {','.join(config.passbands)}, "
             f"{config.image_size} px, global batch {config.batch_size}; data {data_dir} "
             f"(train {n_train}, {val_split} {n_val}); {strategy_text}; "
             f"precision {config.precision}"
             + (" (auto)" if precision_record["requested"] == "auto" else "")
             + f"; run directory {run.path}"
             + (f"; resuming from step {start_step}" if resume else ""))
        if start_step >= config.iterations:
            echo(f"the run already took its {config.iterations} steps")
        t0 = time.perf_counter()
        epochs = math.ceil(config.iterations / per_epoch)
        initial_epoch = start_step // per_epoch
        if start_step < config.iterations:
            try:
                if config.strategy == "multiworker":
                    _custom_loop(model, strategy, train_ds, callbacks, initial_epoch, epochs,
                                 per_epoch, verbose)
                else:
                    model.fit(train_ds, epochs=epochs, initial_epoch=initial_epoch,
                              steps_per_epoch=per_epoch, callbacks=callbacks,
                              verbose=verbose, shuffle=False)
            except tf.errors.DataLossError as err:
                detail = str(err.message).strip().splitlines()[0][:160]
                raise InputError(data_dir, f"holds a corrupt shard ({detail}); the last "
                                 "backup is kept; find the shard with python -c \"from "
                                 "solar_euv.dataset import verify_shards; verify_shards("
                                 f"'{data_dir}')\"") from None
        seconds = time.perf_counter() - t0
        steps = current_step(model)
        validation = validation_cb.last or {}
        if chief:
            from solar_euv.inference import write_model_metadata

            save_model_atomic(model, run.model)
            # model.keras.json: passbands, scaling and grid, so the file works alone.
            write_model_metadata(run.model, config.passbands, scaling, config.image_size,
                                 kind=config.model)
        rate = (steps - start_step) / seconds if seconds > 0 else float("nan")
        scores = None
        if chief and references:
            scores = _reference_scores(config, data_dir, val_split, scaling)
            write_json_atomic(run.path / "references.json", scores)
        where = run.model if chief else f"{run.model} (written by the chief)"
        echo(f"done: {steps} steps in {seconds:.0f} s ({rate:.2f} steps/s); validation "
             f"L1 {validation.get('val_l1', float('nan')):.4f}, "
             f"{_scores_text(validation, scores, config)}; model: {where}")
        return TrainResult(steps, seconds, validation, run.model, start_step, scores)
    except OSError as err:
        if err.errno not in _NO_SPACE or not err.filename:
            raise
        # A save that failed for lack of space left nothing under its final
        # name (solar_euv.atomic); the earlier backup is intact.
        raise SolarEUVError(f"{err.filename}: could not be written ({err.strerror}); "
                            f"{_rerun_advice(run.backup_model, 'free some space and rerun')}"
                            ) from None
    except (tf.errors.UnavailableError, tf.errors.DeadlineExceededError,
            tf.errors.AbortedError, tf.errors.CancelledError) as err:
        # Under MultiWorkerMirroredStrategy these mean a peer is gone: TF's
        # coordination service aborts the collectives of the survivors once a
        # worker stops sending heartbeats (10 s in TF 2.21), or at once when
        # its connection closes.  Elsewhere they are not ours to explain.
        if config.strategy != "multiworker":
            raise
        raise SolarEUVError(_peer_lost_message(err, model, run.backup_model)) from None
    finally:
        keras.config.set_dtype_policy("float32")


def _reference_scores(config, data_dir, val_split, scaling):
    """The per-pixel fit (and, on the embedded sample, the oracle) on the validation examples.

    The embedded sample is the synthetic Sun of seed 0, whose noise-free
    truth is known (:mod:`solar_euv.reference`).
    """
    from solar_euv.reference import reference_scores

    seed = 0 if config.data is None else None
    return reference_scores(data_dir, val_split, config.passbands, config.image_size,
                            examples=config.val_examples, hmi_limit=scaling.hmi_limit,
                            synthetic_seed=seed)


def _scores_text(validation, references, config):
    """``171 CC 0.760 (per-pixel fit 0.800, oracle 0.875, at 128 px 0.820)``, per passband."""
    parts = []
    for band in config.passbands:
        text = f"{band} CC {validation.get(f'{band}_CC', float('nan')):.3f}"
        if references:
            refs = [f"per-pixel fit {references['pixel_fit'][band]:.3f}"]
            if "oracle" in references:
                refs.append(f"oracle {references['oracle'][band]:.3f}, at "
                            f"{config.image_size} px {references['oracle_at_size'][band]:.3f}")
            text += f" ({', '.join(refs)})"
        parts.append(text)
    where = f" on {references['examples']} validation examples" if references else ""
    return ", ".join(parts) + where


def _is_terminal():
    """Whether standard output is an interactive terminal."""
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):  # replaced or closed stream
        return False


def _peer_lost_message(err, model, backup):
    """One sentence for a survivor whose collectives were aborted by a lost peer.

    Parameters
    ----------
    err : tf.errors.OpError
        The error the aborted collective raised.
    model : keras.Model or None
        The model being trained (None if the error came while building it).
    backup : pathlib.Path
        ``backup/model.keras`` of the run, which a rerun resumes from.

    Returns
    -------
    str
    """
    from solar_euv.callbacks import current_step

    text = str(getattr(err, "message", err))
    own = None
    try:
        kind, index, _ = _parse_tf_config()
        own = (kind, str(index))
    except SolarEUVError:
        pass
    # The heartbeat error lists the unhealthy tasks; other errors may name
    # only this task's own device, and then the peer stays unnamed.
    peers = sorted(set(re.findall(r"/job:(\w+)/replica:\d+/task:(\d+)", text)) - {own})
    who = ("peer " + " and ".join(f"{k} {i}" for k, i in peers) if peers
           else "a peer worker")
    cause = re.search(r"Collective ops is aborted by: ([^\n]*)", text)
    detail = (cause.group(1) if cause else text.strip().splitlines()[0] if text.strip()
              else "").strip().rstrip(":")
    detail = re.sub(r"\{\{[^}]*\}\}\s*", "", detail)[:160]
    step = ""
    if model is not None:
        try:
            step = f" at step {current_step(model)}"
        except Exception:  # the variables of an aborted run may be unreadable
            step = ""
    return (f"training stopped{step} because {who} was lost ({type(err).__name__}: "
            f"{detail}); {_rerun_advice(backup, 'rerun', ' on every worker')}")


def _rerun_advice(backup, action, where=""):
    """How to go on after a failed run: resume from ``backup``, or start again without one.

    The first backup is written at the end of the first epoch (``--save-every``
    steps); a run that fails before it has nothing to resume from, and the
    rerun must pass ``--force`` to start again in the same run directory.
    """
    if pathlib.Path(backup).is_file():
        return (f"the last backup {backup} is kept: {action} the same command{where} to "
                "resume from it")
    return (f"no backup was written yet ({backup}): {action} the same command{where} "
            "with --force to start again")


def _custom_loop(model, strategy, dataset, callbacks, initial_epoch, epochs, per_epoch,
                 verbose):
    """The multi-worker training loop around ``model.train_step`` (same callbacks)."""
    import keras
    import tensorflow as tf

    dist = strategy.experimental_distribute_dataset(dataset)
    iterator = iter(dist)

    @tf.function
    def step(it):
        strategy.run(model.train_step, args=(next(it),))

    cbs = keras.callbacks.CallbackList(callbacks, model=model, add_history=False,
                                       add_progbar=verbose not in (0, "0"),
                                       epochs=epochs, steps=per_epoch,
                                       verbose=1 if verbose == "auto" else verbose)
    model.stop_training = False
    logs = {}
    cbs.on_train_begin()
    for epoch in range(initial_epoch, epochs):
        for metric in model.metrics:
            metric.reset_state()
        cbs.on_epoch_begin(epoch)
        for batch in range(per_epoch):
            cbs.on_train_batch_begin(batch)
            step(iterator)
            logs = {m.name: float(m.result()) for m in model.metrics}
            cbs.on_train_batch_end(batch, logs)
            if model.stop_training:
                break
        cbs.on_epoch_end(epoch, logs)
        if model.stop_training:
            break
    cbs.on_train_end(logs)
