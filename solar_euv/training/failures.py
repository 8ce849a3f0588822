"""What a failed run tells its user: a full disk, a lost peer worker, and how to go on."""
import errno
import pathlib
import re

from solar_euv.exceptions import SolarEUVError
from solar_euv.training.strategy import parse_tf_config

__all__ = ["NO_SPACE", "no_space_message", "peer_lost_message", "rerun_advice"]

#: errno values of a write that failed for lack of space (disk full, quota, ulimit -f).
NO_SPACE = (errno.ENOSPC, errno.EFBIG, errno.EDQUOT)


def rerun_advice(backup, action, where=""):
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


def no_space_message(err, backup):
    """One sentence for a save that failed for lack of space.

    Such a save left nothing under its final name (:mod:`solar_euv.atomic`);
    the earlier backup is intact.

    Parameters
    ----------
    err : OSError
        The error of the write, with ``errno`` in :data:`NO_SPACE` and a file name.
    backup : pathlib.Path
        ``backup/model.keras`` of the run.

    Returns
    -------
    str
    """
    return (f"{err.filename}: could not be written ({err.strerror}); "
            f"{rerun_advice(backup, 'free some space and rerun')}")


def peer_lost_message(err, model, backup):
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
        kind, index, _ = parse_tf_config()
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
            f"{detail}); {rerun_advice(backup, 'rerun', ' on every worker')}")
