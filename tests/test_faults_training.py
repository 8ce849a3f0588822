"""Faults during training: SIGKILL, a full disk, fp16 overflow, a lost worker, hostile backups.

* ``solar-euv-train`` killed with SIGKILL at seeded random moments of a run
  (several trials, each rerun resuming the previous one's backup and killed
  in turn): every ``.keras`` file under a final name loads with
  :func:`solar_euv.load_model`, and the rerun resumes from the backup's step.
* A checkpoint or model write that fails for lack of space (``RLIMIT_FSIZE``,
  so the write fails with ``EFBIG``) ends with one line
  ``Error: <file>: <problem>``, no traceback, nothing partial under a final
  name, and the previous backup intact.
* Under ``mixed_float16`` an overflowing step is skipped by loss scaling (the
  weights stay, the scale halves) and training goes on; a NaN loss still
  stops it, naming the step.
* Two localhost workers of ``MultiWorkerMirroredStrategy``, one killed
  mid-run: the survivor stops within a bound with one line saying the peer
  was lost, and restarting both resumes from the backup.
* A run directory whose ``backup/model.keras`` carries code (a ``Lambda``
  layer) or a model that is not a solar_euv Pix2Pix is refused on resume.

``SOLAR_EUV_FUZZ_N`` (default 4) scales the kill trials as in
``tests/test_faults.py``; ``SOLAR_EUV_FUZZ_SEED`` (default 0) seeds them.  The
figures (kills survived, seconds the surviving worker took to stop) are
printed when the module ends.
"""
import collections
import json
import os
import resource
import signal
import socket
import subprocess
import sys
import time

import numpy as np
import pytest
from click.testing import CliRunner

from solar_euv.models import load_model

N = int(os.environ.get("SOLAR_EUV_FUZZ_N", "4"))
SEED = int(os.environ.get("SOLAR_EUV_FUZZ_SEED", "0"))
HANG_GUARD_S = 300          # any single process: a hang guard, not a performance check
STOP_BOUND_S = 120          # the surviving worker must stop within this after the kill
SMALL = ["--image-size", "64", "--base-filters", "8", "--batch-size", "2",
         "--val-examples", "2"]
ENV = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")

FIGURES = collections.OrderedDict()


@pytest.fixture(scope="module", autouse=True)
def report_figures(module_report):
    """Print the measured figures when the module ends."""
    module_report(f"training faults (SOLAR_EUV_FUZZ_N={N}, seed {SEED}):",
                  lambda: [f"{what}: {value}" for what, value in FIGURES.items()])


def _figure(what, value):
    FIGURES[what] = value


def _train_cmd(data, run, iterations, *extra):
    """The ``solar-euv-train`` command line, run by this interpreter."""
    code = "from solar_euv.cli.train import main; main()"
    return [sys.executable, "-c", code, "--data", str(data), "--run-dir", str(run),
            "--iterations", str(iterations), "-q"] + SMALL + list(extra)


def _finals(run):
    """Every ``.keras`` file under a final (not hidden temporary) name."""
    return sorted(p for p in run.rglob("*.keras") if not p.name.startswith("."))


def _all_final_files_load(run):
    """Load every model file under a final name; return the backup's step."""
    from solar_euv.models import Pix2Pix

    finals = _finals(run)
    assert run / "backup" / "model.keras" in finals
    for path in finals:
        assert isinstance(load_model(path), Pix2Pix), path
    json.loads((run / "config.json").read_text())
    return int(load_model(run / "backup" / "model.keras").optimizer.iterations)


def _backup_step(run):
    """The step in ``backup/state.json`` (0 before the first backup)."""
    state = run / "backup" / "state.json"
    return json.loads(state.read_text())["step"] if state.exists() else 0


def _wait_until(predicate, proc, what, timeout=HANG_GUARD_S):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        if proc.poll() is not None:
            pytest.fail(f"the run exited ({proc.returncode}) before {what}")
        time.sleep(0.05)
    proc.kill()
    pytest.fail(f"no {what} within {timeout} s")


def _error_lines(text):
    return [line for line in text.splitlines() if line.startswith("Error:")]


# -- SIGKILL at random moments -------------------------------------------------------

def test_training_killed_at_random_moments_resumes_from_the_backup(prepared_sample, tmp_path):
    """Kill, check, rerun (which is killed in turn), ..., then a rerun that completes.

    Each rerun is both the check that the previous kill left a resumable run
    and the next trial; kills fall at a seeded random moment up to 1.5 s
    after the run has made a backup of its own, so they land anywhere in the
    cycle of steps, checkpoint and backup saves and validations.  Two trials
    by default, ``SOLAR_EUV_FUZZ_N`` in a long run.
    """
    rng = np.random.default_rng([SEED, 20])
    trials = 2 if N <= 4 else N
    run = tmp_path / "run"
    # A checkpoint and a backup after every step and a validation (best.keras,
    # snapshots, metrics.csv) every other: saves take much of the time.
    cmd = _train_cmd(prepared_sample, run, 100_000, "--model", "B", "--save-every", "1",
                     "--validate-every", "2")
    resume_from, mid_save, t0 = 0, 0, time.monotonic()
    for trial in range(trials):
        log = tmp_path / f"trial{trial}.log"
        with log.open("w") as out:
            proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=ENV)
        try:
            _wait_until(lambda: _backup_step(run) > resume_from, proc,
                        f"a backup past step {resume_from}")
            time.sleep(rng.uniform(0.0, 1.0))
            assert proc.poll() is None, log.read_text()[-2000:]
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=60)
        if trial:
            assert f"resuming from step {resume_from}" in log.read_text(), trial
        mid_save += bool(list(run.rglob(".tmp-*")))
        backed_up = _all_final_files_load(run)
        # state.json is written after the model: one save behind at most.
        assert backed_up - 1 <= _backup_step(run) <= backed_up
        assert backed_up > resume_from
        resume_from = backed_up
    # The same command, only the step budget lowered so that it ends soon.
    cmd[cmd.index("100000")] = str(resume_from + 2)
    done = subprocess.run(cmd, capture_output=True, text=True, env=ENV, timeout=HANG_GUARD_S)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"resuming from step {resume_from}" in done.stdout
    assert f"done: {resume_from + 2} steps" in done.stdout
    final = load_model(run / "model.keras")
    assert int(final.optimizer.iterations) == int(final.d_optimizer.iterations) \
        == resume_from + 2
    assert not list(run.rglob(".tmp-*"))
    _figure("solar-euv-train SIGKILL trials (all files loadable, rerun resumed)", trials)
    _figure("  of them killed while a save was in progress (.tmp-* left)", mid_save)
    _figure("  seconds for the kill trials and final rerun", round(time.monotonic() - t0))


# -- out of space ----------------------------------------------------------------------

@pytest.fixture()
def two_step_run(prepared_sample, tmp_path):
    """A finished two-step Model B run (backup, checkpoints, model) made in this process."""
    from solar_euv.training import TrainConfig, train

    run = tmp_path / "run"
    train(TrainConfig(data=str(prepared_sample), model="B", image_size=64, base_filters=8,
                      batch_size=2, iterations=2, save_every=1, validate_every=1000,
                      val_examples=2, run_dir=str(run)), echo=lambda *a: None, verbose=0)
    return run


def test_a_save_that_runs_out_of_space_fails_cleanly(prepared_sample, two_step_run):
    """RLIMIT_FSIZE below a model's size: a checkpoint write fails cleanly.

    CPython ignores SIGXFSZ, so a write past the limit fails with EFBIG (what
    a full disk gives as ENOSPC) instead of killing the process.  A long run
    (``SOLAR_EUV_FUZZ_N`` > 4) also starves the final model's write.
    """
    run = two_step_run
    backup = run / "backup" / "model.keras"
    before = {p: p.read_bytes() for p in _finals(run)}
    limit = backup.stat().st_size // 2

    def _limit():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    cases = [(4, run / "checkpoints" / "step_0000003.keras")]   # a checkpoint at step 3
    if N > 4:
        cases.append((2, run / "model.keras"))                   # done: the final model
    for iterations, failed in cases:
        proc = subprocess.run(_train_cmd(prepared_sample, run, iterations, "--model", "B",
                                         "--save-every", "1", "--validate-every", "1000"),
                              capture_output=True, text=True, env=ENV, preexec_fn=_limit,
                              timeout=HANG_GUARD_S)
        assert proc.returncode == 1, proc.stdout + proc.stderr
        assert "Traceback" not in proc.stdout + proc.stderr, proc.stderr
        errors = _error_lines(proc.stderr)
        assert len(errors) == 1, proc.stderr
        assert errors[0].startswith(f"Error: {failed}: could not be written (File too large)")
        assert f"the last backup {backup} is kept" in errors[0]
        # Nothing partial under a final name, no temporary file left behind,
        # and every earlier file exactly as it was.
        assert not list(run.rglob(".tmp-*"))
        assert {p: p.read_bytes() for p in _finals(run)} == before
    assert _all_final_files_load(run) == 2
    _figure("saves failed under RLIMIT_FSIZE (one-line error, backup intact)", len(cases))


# -- mixed_float16: overflow is skipped, NaN still stops -------------------------------

def _generator_weights(model):
    return np.concatenate([v.numpy().ravel() for v in model.generator.trainable_variables])


def test_mixed_float16_overflowing_steps_are_skipped_not_fatal(tmp_path):
    """A loss scale of 2**20 makes the first float16 gradients overflow.

    The LossScaleOptimizer skips those steps (weights and step count
    unchanged) and halves its scale until the gradients fit; the losses stay
    finite, so NonFiniteGuard lets training go on, and later steps update.
    """
    import keras

    from solar_euv.callbacks import NonFiniteGuard
    from solar_euv.exceptions import SolarEUVError
    from solar_euv.models import build_pix2pix, paper_optimizers

    keras.utils.set_random_seed(SEED)
    keras.config.set_dtype_policy("mixed_float16")
    try:
        model = build_pix2pix(64, model="A", base_filters=4, max_filters=8)
        g_opt = keras.optimizers.LossScaleOptimizer(paper_optimizers(1e-3)[0],
                                                    initial_scale=2.0 ** 20)
        model.compile(g_opt, gan_weight=0)
        assert model.generator.get_layer("enc2_conv").compute_dtype == "float16"
        rng = np.random.default_rng(SEED)
        x = rng.uniform(-1, 1, (2, 64, 64, 1)).astype("float32")
        y = rng.uniform(-1, 1, (2, 64, 64, 1)).astype("float32")
        steps = 12
        seen = []

        class Record(keras.callbacks.Callback):
            def on_train_batch_end(self, batch, logs=None):
                seen.append((float(g_opt.dynamic_scale.numpy()), int(g_opt.iterations.numpy()),
                             _generator_weights(self.model), dict(logs)))

        before = _generator_weights(model)
        model.fit(np.repeat(x, steps, 0), np.repeat(y, steps, 0), batch_size=2, epochs=1,
                  shuffle=False, verbose=0, callbacks=[NonFiniteGuard(), Record()])
        assert len(seen) == steps                          # training did not stop
        assert all(np.isfinite(float(v)) for *_, logs in seen for v in logs.values())
        skipped, updated = [], []
        scale, taken, weights = 2.0 ** 20, 0, before
        for i, (new_scale, new_taken, new_weights, _) in enumerate(seen):
            if new_taken == taken:                         # overflow: the step is skipped,
                skipped.append(i)
                assert new_scale == scale / 2              # the scale halves
                np.testing.assert_array_equal(new_weights, weights)   # weights untouched
            else:                                          # a step taken: weights move
                updated.append(i)
                assert new_taken == taken + 1 and new_scale == scale
                assert not np.array_equal(new_weights, weights)
                assert np.isfinite(new_weights).all()
            scale, taken, weights = new_scale, new_taken, new_weights
        assert skipped[0] == 0 and len(updated) >= 2       # overflow first, updates later
        assert updated[-1] == steps - 1
        # A NaN loss is not an overflow to skip: it still stops, naming the step.
        y_bad = y.copy()
        y_bad[0, 0, 0, 0] = np.nan
        with pytest.raises(SolarEUVError, match=rf"at step {taken}: the loss '.*' "
                                                r"became nan"):
            model.fit(x, y_bad, batch_size=2, epochs=1, verbose=0,
                      callbacks=[NonFiniteGuard()])
    finally:
        keras.config.set_dtype_policy("float32")
    _figure("mixed_float16 overflowing steps skipped before training went on", len(skipped))


# -- resume refuses a hostile or foreign backup ----------------------------------------

@pytest.mark.parametrize("kind,message", [
    ("lambda", "could not be loaded as a solar_euv model (ValueError: Requested the "
               "deserialization of a `Lambda` layer"),
    ("functional", "holds a Functional, not a solar_euv model"),
    ("generator", "is not a solar_euv Pix2Pix model"),
])
def test_resume_refuses_a_backup_with_code_or_a_foreign_model(prepared_sample, tmp_path,
                                                              kind, message):
    """The run directory matches the command, only its backup is not a Pix2Pix."""
    import keras

    from solar_euv.cli.train import command
    from solar_euv.models import build_generator
    from solar_euv.training import TrainConfig

    run = tmp_path / "run"
    (run / "backup").mkdir(parents=True)
    backup = run / "backup" / "model.keras"
    if kind == "generator":
        build_generator(64, base_filters=8).save(backup)
    else:
        inputs = keras.Input((64, 64, 1))
        layer = keras.layers.Lambda(lambda t: t * 2) if kind == "lambda" \
            else keras.layers.Conv2D(1, 1)
        keras.Model(inputs, layer(inputs)).save(backup)
    config = TrainConfig(data=str(prepared_sample), model="A", image_size=64, iterations=3,
                         batch_size=2, base_filters=8, val_examples=2, run_dir=str(run))
    (run / "config.json").write_text(json.dumps({"identity": config.identity()}))
    result = CliRunner().invoke(command, ["--data", str(prepared_sample), "--run-dir",
                                          str(run), "--model", "A", "--iterations", "3"]
                                + SMALL)
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    errors = _error_lines(result.output)
    assert len(errors) == 1 and errors[0].startswith(f"Error: {backup}: {message}"), \
        result.output
    assert not (run / "model.keras").exists() and not list((run / "checkpoints").iterdir())


# -- two workers, one killed -------------------------------------------------------------

def _free_ports(n):
    socks = [socket.socket() for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def _start_workers(data, run, iterations, logs):
    ports = _free_ports(2)
    procs = []
    for index in range(2):
        tf_config = {"cluster": {"worker": [f"127.0.0.1:{p}" for p in ports]},
                     "task": {"type": "worker", "index": index}}
        env = dict(ENV, TF_CONFIG=json.dumps(tf_config))
        with logs[index].open("w") as out:
            procs.append(subprocess.Popen(
                _train_cmd(data, run, iterations, "--strategy", "multiworker",
                           "--save-every", "2", "--validate-every", "1000"),
                stdout=out, stderr=subprocess.STDOUT, env=env))
    return procs


def test_a_lost_worker_stops_the_survivor_and_both_resume(prepared_sample, tmp_path):
    """SIGKILL one of two workers after the first backup; the other must not hang.

    TF's coordination service aborts the survivor's collectives when the
    peer stops sending heartbeats (or at once when its connection closes);
    solar-euv-train turns that into one line.  The default run kills the
    non-chief (the survivor is the chief, the heartbeat path); a long run
    (SOLAR_EUV_FUZZ_N > 4) then also kills the chief of the restarted pair.
    """
    run = tmp_path / "multi"
    victims = [1] if N <= 4 else [1, 0]
    resume_from, stops = 0, []
    procs = []
    try:
        for trial, victim in enumerate(victims):
            logs = [tmp_path / f"t{trial}w{i}.log" for i in range(2)]
            procs = _start_workers(prepared_sample, run, 100_000, logs)
            _wait_until(lambda: _backup_step(run) > resume_from, procs[0],
                        f"a backup past step {resume_from}")
            procs[victim].send_signal(signal.SIGKILL)
            killed = time.monotonic()
            procs[victim].wait(timeout=60)
            survivor = procs[1 - victim]
            try:
                survivor.wait(timeout=STOP_BOUND_S)
            except subprocess.TimeoutExpired:
                pytest.fail(f"worker {1 - victim} still ran {STOP_BOUND_S} s after worker "
                            f"{victim} was killed")
            stops.append(time.monotonic() - killed)
            text = logs[1 - victim].read_text()
            assert survivor.returncode == 1, text[-3000:]
            assert "Traceback" not in text, text[-3000:]
            errors = _error_lines(text)
            assert len(errors) == 1, text[-3000:]
            # The heartbeat error names the lost task; a closed socket may not.
            assert (f"because peer worker {victim} was lost" in errors[0]
                    or "because a peer worker was lost" in errors[0]), errors[0]
            assert f"the last backup {run / 'backup' / 'model.keras'} is kept: rerun the " \
                   "same command on every worker to resume from it" in errors[0]
            if trial:
                for log in logs:
                    assert f"resuming from step {resume_from}" in log.read_text()
            resume_from = _all_final_files_load(run)
        # Restart both: they resume from the backup and complete.
        logs = [tmp_path / f"done-w{i}.log" for i in range(2)]
        procs = _start_workers(prepared_sample, run, resume_from + 2, logs)
        for proc, log in zip(procs, logs):
            proc.wait(timeout=HANG_GUARD_S)
            text = log.read_text()
            assert proc.returncode == 0, text[-3000:]
            assert f"resuming from step {resume_from}" in text
            assert f"done: {resume_from + 2} steps" in text
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    final = load_model(run / "model.keras")
    assert int(final.optimizer.iterations) == resume_from + 2
    _figure("workers killed (survivor stopped with one line, both resumed)", len(victims))
    _figure("  seconds from the kill until the survivor exited",
            ", ".join(f"{s:.1f}" for s in stops))


def test_rerun_advice_without_a_backup_says_force(tmp_path):
    """Before the first backup there is nothing to resume: the advice is --force."""
    from solar_euv.training.failures import rerun_advice

    backup = tmp_path / "backup" / "model.keras"
    advice = rerun_advice(backup, "free some space and rerun")
    assert advice == (f"no backup was written yet ({backup}): free some space and rerun "
                      "the same command with --force to start again")
    backup.parent.mkdir()
    backup.write_bytes(b"x")
    assert rerun_advice(backup, "rerun", " on every worker") == (
        f"the last backup {backup} is kept: rerun the same command on every worker to "
        "resume from it")
