"""A training run from start to end: :func:`train`, a short sequence of named steps.

:func:`train` is what ``solar-euv-train`` calls: it checks the options and
chooses the strategy, resolves and checks the data, opens the run directory,
builds the model or resumes it from the backup, makes the datasets and the
callbacks, trains (:mod:`solar_euv.training.loop`), saves the final model and
prints a closing line with the reference scores.
"""
import dataclasses
import pathlib

from solar_euv.atomic import write_json_atomic
from solar_euv.exceptions import SolarEUVError
from solar_euv.training.data import resolve_data, training_dataset, validation_dataset
from solar_euv.training.failures import NO_SPACE, no_space_message, peer_lost_message
from solar_euv.training.loop import make_callbacks, run_steps
from solar_euv.training.model import open_model
from solar_euv.training.references import reference_scores, scores_text
from solar_euv.training.run_directory import open_run_directory, run_record
from solar_euv.training.strategy import check_precision, make_strategy

__all__ = ["TrainResult", "train"]


@dataclasses.dataclass
class TrainResult:
    """What :func:`train` did.

    Attributes
    ----------
    steps : int
        The optimizer steps the model has taken in all.
    seconds : float
        Time spent training in this call.
    validation : dict
        The last validation's metrics (``val_l1``, ``<passband>_CC``, ...).
    model_path : pathlib.Path
        The final ``model.keras``.
    resumed_from : int
        The step this call started at (0 for a new run).
    references : dict, optional
        The reference scores (``references.json``), when computed.
    """

    steps: int
    seconds: float
    validation: dict
    model_path: pathlib.Path
    resumed_from: int
    references: dict = None


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

    from solar_euv.callbacks import current_step

    config, precision_record = _resolve_precision(config)
    strategy, strategy_text, chief = _choose_strategy(config, strategy)
    data = resolve_data(config, echo)
    val_ds = validation_dataset(data, config, strategy.num_replicas_in_sync)
    run, resume = open_run_directory(config, run_record(config, data, precision_record), chief)

    keras.utils.set_random_seed(config.seed)
    keras.config.set_dtype_policy(config.precision)
    model = None
    try:
        model = open_model(config, run, resume, strategy)
        start_step = current_step(model)
        train_ds = training_dataset(data, config, start_step)
        callbacks, validation_cb, verbose = make_callbacks(config, run, data, val_ds, chief,
                                                           echo, verbose)
        echo(_opening_line(config, data, strategy_text, precision_record, run,
                           start_step if resume else None))
        seconds = run_steps(model, strategy, config, train_ds, callbacks, start_step,
                            verbose, data.path, echo=echo)
        steps = current_step(model)
        validation = validation_cb.last or {}
        if chief:
            _save_final_model(model, run, config, data.scaling)
        scores = _closing_scores(config, data, run) if chief and references else None
        echo(_closing_line(config, run, chief, steps, start_step, seconds, validation, scores))
        return TrainResult(steps, seconds, validation, run.model, start_step, scores)
    except OSError as err:
        if err.errno not in NO_SPACE or not err.filename:
            raise
        raise SolarEUVError(no_space_message(err, run.backup_model)) from None
    except (tf.errors.UnavailableError, tf.errors.DeadlineExceededError,
            tf.errors.AbortedError, tf.errors.CancelledError) as err:
        # Under MultiWorkerMirroredStrategy these mean a peer is gone: TF's
        # coordination service aborts the collectives of the survivors once a
        # worker stops sending heartbeats (10 s in TF 2.21), or at once when
        # its connection closes.  Elsewhere they are not ours to explain.
        if config.strategy != "multiworker":
            raise
        raise SolarEUVError(peer_lost_message(err, model, run.backup_model)) from None
    finally:
        keras.config.set_dtype_policy("float32")


def _resolve_precision(config):
    """Check the model; ``--precision auto`` becomes the device's policy or the recorded one.

    Returns
    -------
    tuple of (TrainConfig, dict)
        The config with its concrete policy, and the policy's record.
    """
    from solar_euv.device import run_precision

    if config.model not in ("A", "B"):
        raise SolarEUVError(f"--model must be A (L1) or B (L1 + cGAN); received {config.model}")
    precision_record = run_precision(config.precision, config.run_dir, config.force)
    config = dataclasses.replace(config, precision=precision_record["policy"])
    check_precision(config.precision)
    return config, precision_record


def _choose_strategy(config, strategy):
    """The strategy to train under, its description, and whether this worker is the chief."""
    if strategy is None:
        strategy, strategy_text, chief = make_strategy(config.strategy)
    else:
        strategy_text = f"{type(strategy).__name__} ({strategy.num_replicas_in_sync} replicas)"
        chief = True
    replicas = strategy.num_replicas_in_sync
    if config.batch_size % replicas:
        raise SolarEUVError(f"--batch-size {config.batch_size} is not divisible by the "
                            f"{replicas} replicas")
    return strategy, strategy_text, chief


def _opening_line(config, data, strategy_text, precision_record, run, resumed_from):
    """What the run trains, on what, where (``resumed_from``: None for a new run)."""
    return (f"solar-euv-train: model {config.model}, passbands {','.join(config.passbands)}, "
            f"{config.image_size} px, global batch {config.batch_size}; data {data.path} "
            f"(train {data.n_train}, {data.val_split} {data.n_val}); {strategy_text}; "
            f"precision {config.precision}"
            + (" (auto)" if precision_record["requested"] == "auto" else "")
            + f"; run directory {run.path}"
            + (f"; resuming from step {resumed_from}" if resumed_from is not None else ""))


def _save_final_model(model, run, config, scaling):
    """``model.keras`` and ``model.keras.json`` (passbands, scaling and grid: works alone)."""
    from solar_euv.callbacks import save_model_atomic
    from solar_euv.inference import write_model_metadata

    save_model_atomic(model, run.model)
    write_model_metadata(run.model, config.passbands, scaling, config.image_size,
                         kind=config.model)


def _closing_scores(config, data, run):
    """The reference scores on the validation examples, written to ``references.json``."""
    scores = reference_scores(config, data.path, data.val_split, data.scaling)
    write_json_atomic(run.path / "references.json", scores)
    return scores


def _closing_line(config, run, chief, steps, start_step, seconds, validation, scores):
    """Steps, speed, validation L1 and CC beside the references, and the model file."""
    rate = (steps - start_step) / seconds if seconds > 0 else float("nan")
    where = run.model if chief else f"{run.model} (written by the chief)"
    return (f"done: {steps} steps in {seconds:.0f} s ({rate:.2f} steps/s); validation "
            f"L1 {validation.get('val_l1', float('nan')):.4f}, "
            f"{scores_text(validation, scores, config)}; model: {where}")
