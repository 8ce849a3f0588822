"""The model of a run: built and compiled new, or loaded from the run's backup."""
from solar_euv.exceptions import InputError

__all__ = ["learning_rate", "build_model", "load_backup", "extend_schedule", "open_model"]


def learning_rate(config, rate=None):
    """The rate or schedule of an optimizer: ``rate`` (default ``config.lr``) on the run's schedule."""
    from solar_euv.models import LinearDecay

    rate = config.lr if rate is None else rate
    if config.lr_decay == "linear":
        return LinearDecay(rate, config.iterations, decay_start=0.5)
    return rate


def extend_schedule(model, config):
    """A resumed run with another ``--iterations`` decays to its new last step."""
    from solar_euv.models import LinearDecay

    for optimizer in (model.optimizer, model.d_optimizer):
        inner = getattr(optimizer, "inner_optimizer", optimizer)
        schedule = getattr(inner, "_learning_rate", None)
        if isinstance(schedule, LinearDecay) and schedule.total_steps != config.iterations:
            inner.learning_rate = LinearDecay(schedule.learning_rate, config.iterations,
                                              schedule.decay_start)


def build_model(config, channels, strategy):
    """A new Pix2Pix of ``config`` with ``channels`` outputs, compiled under ``strategy``."""
    from solar_euv.models import build_pix2pix, paper_optimizers

    with strategy.scope():
        model = build_pix2pix(config.image_size, model=config.model, out_channels=channels,
                              disc_layers=config.disc_layers,
                              base_filters=config.base_filters)
        # FusedAdam "g_adam" and "d_adam": Keras's Adam with a fused TF update.
        g_opt, d_opt = paper_optimizers(
            learning_rate(config), beta_1=config.beta1, beta_2=0.999,
            d_learning_rate=None if config.d_lr is None else learning_rate(config, config.d_lr))
        model.compile(g_opt, d_opt, l1_weight=config.l1_weight,
                      gan_weight=1.0 if config.model == "B" else 0.0,
                      disk_radius=config.mask_radius if config.disk_loss else None)
    return model


def load_backup(path, strategy):
    """The Pix2Pix (with both optimizers) saved at ``path``, loaded under ``strategy``."""
    from solar_euv.models import Pix2Pix, load_model

    with strategy.scope():
        model = load_model(path)
    if not isinstance(model, Pix2Pix):
        raise InputError(path, "is not a solar_euv Pix2Pix model")
    return model


def open_model(config, run, resume, strategy):
    """The backup of ``run`` when resuming (its schedule extended), else a new model."""
    if resume:
        model = load_backup(run.backup_model, strategy)
        extend_schedule(model, config)
        return model
    return build_model(config, len(config.passbands), strategy)
