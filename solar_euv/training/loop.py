"""The training steps: the callbacks of a run, ``Model.fit``, and the multi-worker loop.

Under the default strategy and ``MirroredStrategy`` a run trains with
``Pix2Pix.fit``.  Under ``MultiWorkerMirroredStrategy``, where ``Model.fit``
fails in TF 2.21 / Keras 3.15 (keras-team/keras#20585), :func:`custom_loop`
runs ``strategy.run(model.train_step, ...)`` in a ``tf.function`` over the
distributed dataset and drives the *same* callbacks (backup, checkpoints,
validation, logging) through ``keras.callbacks.CallbackList``.
"""
import math
import sys
import time

from solar_euv.exceptions import InputError

__all__ = ["make_callbacks", "run_steps", "custom_loop", "is_terminal"]


def is_terminal():
    """Whether standard output is an interactive terminal."""
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):  # replaced or closed stream
        return False


def make_callbacks(config, run, data, val_ds, chief, echo, verbose):
    """The callbacks of a run, in the order both loops call them.

    Parameters
    ----------
    config : solar_euv.training.TrainConfig
    run : solar_euv.training.RunDirectory
    data : solar_euv.training.data.TrainingData
    val_ds : tf.data.Dataset
        The validation batches.
    chief : bool
        Whether this worker writes files.
    echo : callable
        Prints one line of progress.
    verbose : {"auto", 0, 1, 2}
        Keras progress output; ``"auto"`` without a terminal becomes 0 and
        adds :class:`~solar_euv.callbacks.ProgressLog` (one line per epoch).

    Returns
    -------
    tuple of (list, solar_euv.callbacks.Validation, verbose)
        The callbacks, the validation callback among them, and the Keras
        verbosity to train with.
    """
    import tensorflow as tf

    from solar_euv.callbacks import (Backup, Checkpoints, NonFiniteGuard, ProgressLog, ScalarLog,
                                     StopAt, Validation)

    summary_writer = tf.summary.create_file_writer(str(run.logs)) if chief else None
    validation_cb = Validation(
        val_ds, config.passbands, data.scaling, run.path, config.validate_every, writer=chief,
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
    if verbose == "auto" and not is_terminal():
        # A log file: one line per epoch, not a progress bar per step.
        verbose = 0
        callbacks.append(ProgressLog(config.iterations, echo=echo))
    return callbacks, validation_cb, verbose


def run_steps(model, strategy, config, train_ds, callbacks, start_step, verbose, data_dir,
              echo=print):
    """Train from ``start_step`` to ``config.iterations`` in epochs of ``save_every`` steps.

    Returns
    -------
    float
        Seconds spent training.

    Raises
    ------
    InputError
        A shard of ``data_dir`` turned out corrupt while training.
    """
    import tensorflow as tf

    if start_step >= config.iterations:
        echo(f"the run already took its {config.iterations} steps")
    per_epoch = config.save_every
    t0 = time.perf_counter()
    epochs = math.ceil(config.iterations / per_epoch)
    initial_epoch = start_step // per_epoch
    if start_step < config.iterations:
        try:
            if config.strategy == "multiworker":
                custom_loop(model, strategy, train_ds, callbacks, initial_epoch, epochs,
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
    return time.perf_counter() - t0


def custom_loop(model, strategy, dataset, callbacks, initial_epoch, epochs, per_epoch,
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
