"""solar-euv-train end to end: run directory, Models A and B, resume, refusals."""
import json
import os
import signal
import subprocess
import time

import keras
import numpy as np
import pytest
from astropy.io import fits
from click.testing import CliRunner

from solar_euv.cli.train import command as train_command
from solar_euv.models import load_model
from solar_euv.scaling import disk_mask
from solar_euv.training import TrainConfig, train

SMALL = ["--image-size", "64", "--base-filters", "8", "--batch-size", "2",
         "--val-examples", "2"]


def _run(args):
    return CliRunner().invoke(train_command, args)


def test_model_a_end_to_end_writes_the_run_directory(prepared_sample, tmp_path):
    run = tmp_path / "run"
    result = _run(["--data", str(prepared_sample), "--model", "A", "--iterations", "6",
                   "--save-every", "3", "--validate-every", "3", "--run-dir", str(run)]
                  + SMALL)
    assert result.exit_code == 0, result.output
    assert "model A, passbands 171, 64 px" in result.output
    assert "done: 6 steps" in result.output
    # Not a terminal: one line per epoch (3 steps), no per-step progress bar.
    lines = result.output.splitlines()
    assert [line.split(":")[0] for line in lines if line.startswith("step ") and "/6" in
            line.split(":")[0]] == ["step 3/6", "step 6/6"]
    assert "\r" not in result.output and "\b" not in result.output
    # The closing line puts the score beside the per-pixel fit of the same examples.
    refs = json.loads((run / "references.json").read_text())
    assert refs["examples"] == 2 and -1 <= refs["pixel_fit"]["171"] <= 1
    assert f"(per-pixel fit {refs['pixel_fit']['171']:.3f}) on 2 validation examples" \
        in result.output
    config = json.loads((run / "config.json").read_text())
    assert config["identity"]["model"] == "A" and config["options"]["iterations"] == 6
    assert config["manifest_sha256"] and config["versions"]["keras"] == keras.__version__
    assert config["scaling"]["hmi_limit"] == 1000.0  # the quick preset
    assert config["scaling"]["hmi_off_disk"] == 0.0
    assert config["options"]["lr"] == 1e-3 and config["options"]["lr_decay"] == "linear"
    assert TrainConfig().model == "A" and TrainConfig(preset="paper").model == "B"
    names = sorted(p.name for p in (run / "checkpoints").iterdir())
    assert names == ["best.json", "best.keras", "step_0000003.keras", "step_0000006.keras"]
    assert json.loads((run / "backup" / "state.json").read_text())["step"] == 6
    assert list((run / "logs").glob("events.out.tfevents.*"))
    rows = (run / "metrics.csv").read_text().splitlines()
    assert rows[0].startswith("step,val_l1,171_CC,171_RE,171_PPE10,171_PPE50")
    assert [r.split(",")[0] for r in rows[1:]] == ["3", "6"]
    snap = run / "snapshots" / "step_0000006"
    with fits.open(snap / "sample0_171_generated.fits") as hdul:
        assert hdul[0].header["BUNIT"] == "DN/s" and hdul[0].header["TRAINSTP"] == 6
        assert hdul[0].data.shape == (64, 64) and np.all(hdul[0].data >= 0)
        # The quick preset trains on the disk alone; off it, the snapshot (and
        # the validation L1) see the output masked as generation masks it.
        assert config["identity"]["disk_loss"] and config["scaling"]["mask_radius"] == 1.0
        assert np.all(hdul[0].data[~disk_mask(64, 1.0)] == 0)
    assert (snap / "sample0_171.png").stat().st_size > 1000
    sidecar = json.loads((run / "model.keras.json").read_text())
    assert sidecar["passbands"] == ["171"] and sidecar["image_size"] == 64
    model = load_model(run / "model.keras")
    assert model.discriminator is None
    assert int(model.optimizer.iterations) == 6
    assert model.predict(np.zeros((1, 64, 64, 1), "float32"), verbose=0).shape == (1, 64, 64, 1)


def test_model_b_all_passbands(prepared_sample, tmp_path):
    run = tmp_path / "run"
    result = _run(["--data", str(prepared_sample), "--passbands", "all", "--model", "B",
                   "--iterations", "2", "--d-lr", "2e-4",
                   "--save-every", "2", "--validate-every", "2", "--run-dir", str(run),
                   "-q"] + SMALL)
    assert result.exit_code == 0, result.output
    header = (run / "metrics.csv").read_text().splitlines()[0].split(",")
    for band in ("1700", "1600", "304", "171", "193", "211", "335", "94", "131"):
        assert f"{band}_CC" in header
    assert {"d_loss", "g_gan"} <= set(header)
    model = load_model(run / "model.keras")
    assert model.generator.output_shape == (None, 64, 64, 9)
    assert int(model.d_optimizer.iterations) == 2
    # --d-lr: the discriminator on its own rate, same (linear) schedule; recorded.
    d_rate, g_rate = model.d_optimizer._learning_rate, model.optimizer._learning_rate
    assert float(d_rate(0)) == pytest.approx(2e-4) and float(g_rate(0)) == pytest.approx(1e-3)
    assert d_rate.total_steps == g_rate.total_steps == 2
    assert json.loads((run / "config.json").read_text())["identity"]["d_lr"] == 2e-4


def test_mixed_bfloat16_run(prepared_sample, tmp_path):
    run = tmp_path / "run"
    result = _run(["--data", str(prepared_sample), "--precision", "mixed_bfloat16",
                   "--model", "B",
                   "--iterations", "2", "--save-every", "2", "--validate-every", "2",
                   "--run-dir", str(run), "-q"] + SMALL)
    assert result.exit_code == 0, result.output
    assert "precision mixed_bfloat16" in result.output
    model = load_model(run / "model.keras")
    assert model.generator.get_layer("enc2_conv").compute_dtype == "bfloat16"
    assert np.isfinite(float((run / "metrics.csv").read_text().splitlines()[1].split(",")[1]))
    assert keras.config.dtype_policy().name == "float32"  # restored after the run


def test_backup_holds_weights_and_both_optimizers_exactly(prepared_sample, tmp_path):
    from solar_euv.training.model import load_backup
    import tensorflow as tf

    config = TrainConfig(data=str(prepared_sample), model="B", image_size=64, base_filters=8,
                         batch_size=2, iterations=4, save_every=2, validate_every=4,
                         val_examples=2, run_dir=str(tmp_path / "run"))
    result = train(config, echo=lambda *a: None, verbose=0)
    backup = load_backup(tmp_path / "run" / "backup" / "model.keras",
                          tf.distribute.get_strategy())
    final = load_model(result.model_path)
    for a, b in zip(final.weights, backup.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    for opt in ("optimizer", "d_optimizer"):
        va, vb = getattr(final, opt).variables, getattr(backup, opt).variables
        assert len(va) == len(vb) > 2
        for a, b in zip(va, vb):
            np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert int(backup.d_optimizer.iterations) == 4


def test_rerun_same_command_resumes_and_other_config_is_refused(prepared_sample, tmp_path):
    run = tmp_path / "run"
    args = ["--data", str(prepared_sample), "--model", "A", "--save-every", "2",
            "--validate-every", "2", "--run-dir", str(run), "-q"] + SMALL
    assert _run(args + ["--iterations", "2"]).exit_code == 0
    # A run killed mid-save leaves hidden temporary files, also in a
    # snapshot folder; the rerun removes every one of them.
    stale = [run / ".tmp-1-config.json", run / "backup" / ".tmp-1-model.keras",
             run / "snapshots" / "step_0000002" / ".tmp-1-sample0_171_generated.fits"]
    for path in stale:
        path.write_bytes(b"partial")
    # Same identity: nothing left to do, says so.
    again = _run(args + ["--iterations", "2"])
    assert again.exit_code == 0 and "resuming from step 2" in again.output
    assert not list(run.rglob(".tmp-*"))
    assert (run / "snapshots" / "step_0000002").is_dir()
    # More steps: the run continues from its backup.
    longer = _run(args + ["--iterations", "4"])
    assert longer.exit_code == 0 and "done: 4 steps" in longer.output
    # The quick preset's linear decay now ends at the new last step.
    schedule = load_model(run / "backup" / "model.keras").optimizer._learning_rate
    assert schedule.total_steps == 4 and float(schedule(4)) == 0.0
    other = _run(args + ["--iterations", "4", "--lr", "5e-4"])
    assert other.exit_code == 1
    assert "different configuration (lr differ)" in other.output
    assert "Traceback" not in other.output
    forced = _run(args + ["--iterations", "2", "--lr", "5e-4", "--force"])
    assert forced.exit_code == 0 and "done: 2 steps" in forced.output
    # A run directory written before --hmi-asinh, --mask-radius, --disk-loss
    # and --d-lr existed computed the linear input, the 0.99 R mask and the
    # loss on every pixel: resumed with those values, refused (naming them)
    # with the quick preset's new ones.
    config = json.loads((run / "config.json").read_text())
    assert config["identity"]["disk_loss"] is True   # the quick preset's
    for key in ("hmi_asinh", "mask_radius", "disk_loss", "d_lr"):
        del config["identity"][key]
    (run / "config.json").write_text(json.dumps(config))
    new = _run(args + ["--iterations", "2", "--lr", "5e-4"])
    assert new.exit_code == 1
    assert "different configuration (disk_loss, hmi_asinh, mask_radius differ)" in new.output
    old = _run(args + ["--iterations", "2", "--lr", "5e-4", "--hmi-asinh", "0",
                       "--mask-radius", "0.99", "--no-disk-loss"])
    assert old.exit_code == 0 and "resuming from step 2" in old.output


@pytest.mark.parametrize("args,message", [
    (["--data", "{missing}"], "is not a prepared dataset"),
    (["--image-size", "100"], "power of two"),
    (["--precision", "mixed_float16"], "needs a GPU"),
    (["--passbands", "172"], "unknown AIA passband '172'"),
    (["--resume", "--run-dir", "{tmp}/fresh"], "has no backup to resume from"),
    (["--strategy", "multiworker"], "TF_CONFIG"),
])
def test_refusals_are_one_sentence_without_traceback(prepared_sample, tmp_path, monkeypatch,
                                                     args, message):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    args = [a.format(missing=tmp_path / "nothing", tmp=tmp_path) for a in args]
    if "--data" not in args:
        args = ["--data", str(prepared_sample)] + args
    result = _run(args + ["--iterations", "1", "--run-dir", str(tmp_path / "r")]
                  if "--run-dir" not in args else args + ["--iterations", "1"])
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output


@pytest.fixture(scope="module")
def only_171(prepared_sample, tmp_path_factory):
    """The same raw files prepared with AIA 171 alone."""
    from solar_euv.cli.main import cli

    out = tmp_path_factory.mktemp("only171") / "data"
    result = CliRunner().invoke(cli, ["prepare", str(prepared_sample.parent / "raw"), str(out),
                                      "--image-size", "256", "--passbands", "171", "--workers", "1",
                                      "-q"])
    assert result.exit_code == 0, result.output
    return out


@pytest.mark.parametrize("args,message", [
    (["--passbands", "94"], "was prepared without passband(s) 94"),
    (["--image-size", "512"], "image_size 512"),
])
def test_data_refusals_leave_no_run_directory(only_171, tmp_path, args, message):
    run = tmp_path / "r"
    result = _run(["--data", str(only_171), "--iterations", "1", "--run-dir", str(run)] + args)
    assert result.exit_code == 1, result.output
    assert message in result.output and "Traceback" not in result.output
    assert not run.exists()


def test_malformed_tf_config_is_refused(prepared_sample, tmp_path, monkeypatch):
    monkeypatch.setenv("TF_CONFIG", "{not json")
    result = _run(["--data", str(prepared_sample), "--strategy", "multiworker",
                   "--run-dir", str(tmp_path / "r")])
    assert result.exit_code == 1 and "TF_CONFIG is malformed" in result.output


def test_mirrored_strategy_on_two_logical_cpus(prepared_sample, tmp_path, mirrored_strategy):
    config = TrainConfig(data=str(prepared_sample), model="B", image_size=64, base_filters=8,
                         batch_size=2, iterations=2, save_every=2, validate_every=2,
                         val_examples=2, run_dir=str(tmp_path / "run"))
    lines = []
    result = train(config, echo=lines.append, verbose=0, strategy=mirrored_strategy)
    assert "MirroredStrategy (2 replicas)" in lines[0]
    assert result.steps == 2 and np.isfinite(result.validation["val_l1"])


def test_kill_9_then_rerun_continues_from_the_backup(prepared_sample, tmp_path):
    """The installed console script, killed with SIGKILL mid-run, then rerun."""
    run = tmp_path / "run"
    cmd = ["solar-euv-train", "--data", str(prepared_sample), "--model", "B",
           "--iterations", "400", "--save-every", "3", "--validate-every", "1000",
           "--run-dir", str(run), "-q"] + SMALL
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    state = run / "backup" / "state.json"
    deadline = time.time() + 240
    while time.time() < deadline and proc.poll() is None:
        if state.exists() and json.loads(state.read_text())["step"] >= 6:
            break
        time.sleep(0.2)
    assert proc.poll() is None, proc.stdout.read().decode()[-2000:]
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    backed_up = json.loads(state.read_text())["step"]
    assert backed_up >= 6 and backed_up % 3 == 0
    # The checkpoints on disk all load: nothing partial under a final name.
    # (A save cut short leaves only a hidden .tmp-* file, never a final name.)
    finals = [p for p in (run / "checkpoints").glob("*.keras") if not p.name.startswith(".")]
    assert finals
    for path in finals:
        load_model(path)
    # Rerun the same command (only the step budget lowered so the test ends soon).
    cmd[cmd.index("400")] = str(backed_up + 3)
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"resuming from step {backed_up}" in done.stdout
    assert f"done: {backed_up + 3} steps" in done.stdout
    final = load_model(run / "model.keras")
    assert int(final.optimizer.iterations) == backed_up + 3
    assert int(final.d_optimizer.iterations) == backed_up + 3
    assert not list(run.rglob(".tmp-*"))


def _free_port():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_workers_on_localhost_complete_and_agree(prepared_sample, tmp_path):
    """MultiWorkerMirroredStrategy: two processes, TF_CONFIG, the custom loop."""
    ports = [_free_port(), _free_port()]
    # Model B in float32, as the single-process run below (the quick preset is
    # Model A, and --precision auto may pick mixed_bfloat16).
    common = ["--data", str(prepared_sample), "--iterations", "4", "--save-every", "2",
              "--validate-every", "4", "--model", "B", "--precision", "float32", "-q"] + SMALL
    procs = []
    for index in range(2):
        tf_config = {"cluster": {"worker": [f"127.0.0.1:{p}" for p in ports]},
                     "task": {"type": "worker", "index": index}}
        env = dict(os.environ, TF_CONFIG=json.dumps(tf_config), TF_CPP_MIN_LOG_LEVEL="3")
        procs.append(subprocess.Popen(
            ["solar-euv-train", "--strategy", "multiworker", "--run-dir",
             str(tmp_path / "multi")] + common,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env))
    outputs = [p.communicate(timeout=400)[0] for p in procs]
    for p, out in zip(procs, outputs):
        assert p.returncode == 0, out[-3000:]
        assert "done: 4 steps" in out
    assert "this is worker 0" in outputs[0] and "written by the chief" in outputs[1]
    # Both workers hold the same (mirrored) model: identical validation lines.
    lines = [[ln for ln in out.splitlines() if ln.startswith("step 4: validation")]
             for out in outputs]
    assert lines[0] == lines[1] and lines[0]
    multi = load_model(tmp_path / "multi" / "model.keras")
    assert int(multi.optimizer.iterations) == 4 == int(multi.d_optimizer.iterations)
    # A single process with the same global batch reaches a comparable state
    # (the workers read different shards, so batches differ: close, not equal).
    single = train(TrainConfig(data=str(prepared_sample), model="B", image_size=64,
                               base_filters=8, batch_size=2, iterations=4, save_every=2,
                               validate_every=4, val_examples=2,
                               run_dir=str(tmp_path / "single")),
                   echo=lambda *a: None, verbose=0)
    multi_l1 = float(lines[0][0].split("validation L1 ")[1].split(";")[0])
    assert multi_l1 == pytest.approx(single.validation["val_l1"], rel=0.1)


def test_precision_auto_is_recorded_and_a_resumed_run_keeps_it(prepared_sample, tmp_path,
                                                               monkeypatch):
    run = tmp_path / "run"
    args = ["--data", str(prepared_sample), "--save-every", "2", "--validate-every", "2",
            "--run-dir", str(run), "-q"] + SMALL
    # Started on a CPU with native bfloat16: auto (the default) is mixed_bfloat16.
    monkeypatch.setenv("SOLAR_EUV_DEVICE_KIND", "cpu-avx512-bf16")
    first = _run(args + ["--iterations", "2"])
    assert first.exit_code == 0, first.output
    assert "precision mixed_bfloat16 (auto)" in first.output
    config = json.loads((run / "config.json").read_text())
    assert config["precision"] == {"requested": "auto", "policy": "mixed_bfloat16",
                                   "device_kind": "cpu-avx512-bf16"}
    assert config["identity"]["precision"] == "mixed_bfloat16"
    # Resumed where auto would pick float32: the run keeps its policy.
    monkeypatch.setenv("SOLAR_EUV_DEVICE_KIND", "cpu-avx2")
    resumed = _run(args + ["--iterations", "4"])
    assert resumed.exit_code == 0, resumed.output
    assert "precision mixed_bfloat16 (auto)" in resumed.output
    assert "resuming from step 2" in resumed.output
    assert json.loads((run / "config.json").read_text())["precision"]["policy"] \
        == "mixed_bfloat16"
    assert load_model(run / "model.keras").generator.get_layer(
        "enc2_conv").compute_dtype == "bfloat16"
    # Started over, on the CPU without native bfloat16: float32.
    forced = _run(args + ["--iterations", "2", "--force"])
    assert forced.exit_code == 0, forced.output
    assert "precision float32 (auto)" in forced.output
    config = json.loads((run / "config.json").read_text())
    assert config["precision"] == {"requested": "auto", "policy": "float32",
                                   "device_kind": "cpu-avx2"}
    assert config["identity"]["precision"] == "float32"


def test_precision_mixed_bfloat16_without_native_bfloat16_warns(prepared_sample, tmp_path,
                                                               monkeypatch):
    from solar_euv.device import precision
    from solar_euv.exceptions import SolarEUVWarning

    monkeypatch.setattr(precision, "_warned", set())
    monkeypatch.setenv("SOLAR_EUV_DEVICE_KIND", "cpu-avx2")
    with pytest.warns(SolarEUVWarning, match="emulated, about 10x slower than float32"):
        result = _run(["--data", str(prepared_sample), "--precision", "mixed_bfloat16",
                       "--iterations", "1", "--save-every", "1", "--validate-every", "1",
                       "--run-dir", str(tmp_path / "run"), "-q"] + SMALL)
    assert result.exit_code == 0, result.output
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["precision"] == {"requested": "mixed_bfloat16", "policy": "mixed_bfloat16",
                                   "device_kind": "cpu-avx2"}


def test_default_data_dir_prepares_the_sample_once_through_the_library(tmp_path, monkeypatch):
    """The embedded sample is prepared by solar_euv.dataset.preparing, not the CLI."""
    from solar_euv.synthetic import sample as synthetic
    from solar_euv.training import default_data_dir

    raw = tmp_path / "sample-v2"
    synthetic.write_sample(raw, ["2011-03-01T00:00:00", "2017-02-01T00:00:00"], size=256,
                           passbands=("171",), seed=0)
    monkeypatch.setattr(synthetic, "default_sample_dir", lambda: raw)
    lines = []
    prepared = default_data_dir(echo=lines.append)
    assert prepared == tmp_path / "sample-v2-prepared"
    assert (prepared / "manifest.json").is_file()
    assert lines[0] == (f"preparing the embedded synthetic sample {raw} -> {prepared} "
                        "(first use only)")
    assert lines[1].startswith(f"{prepared}: observations in shards: train 1 in ")
    lines.clear()
    assert default_data_dir(echo=lines.append) == prepared and lines == []


def test_the_library_never_imports_the_command_line():
    """Only solar_euv/cli/ imports solar_euv.cli (training prepares through the library)."""
    import pathlib

    import solar_euv

    root = pathlib.Path(solar_euv.__file__).parent
    offenders = [str(p.relative_to(root)) for p in sorted(root.rglob("*.py"))
                 if p.relative_to(root).parts[0] != "cli" and "solar_euv.cli" in p.read_text()]
    assert offenders == []


def test_strategy_auto_mirrors_over_every_gpu_and_stays_default_on_one(monkeypatch):
    """``--strategy auto``: MirroredStrategy over all GPUs when there are two or more,
    the default strategy on one GPU or a CPU (no GPU here: the device lists are faked)."""
    import tensorflow as tf

    from solar_euv.training.strategy import make_strategy

    made = []

    class FakeMirrored:
        def __init__(self, devices):
            made.append(list(devices))
            self.num_replicas_in_sync = len(devices)

    gpus = ["/device:GPU:0", "/device:GPU:1", "/device:GPU:2"]
    physical = {"GPU": [f"PhysicalDevice(GPU:{i})" for i in range(3)], "CPU": ["cpu"]}
    logical = {"GPU": [type("D", (), {"name": n})() for n in gpus]}
    monkeypatch.setattr(tf.config, "list_physical_devices",
                        lambda kind=None: physical.get(kind, []))
    monkeypatch.setattr(tf.config, "list_logical_devices",
                        lambda kind=None: logical.get(kind, []))
    monkeypatch.setattr(tf.distribute, "MirroredStrategy", FakeMirrored)
    strategy, description, chief = make_strategy("auto")
    assert made == [gpus] and description == "Mirrored (3 replicas)" and chief
    physical["GPU"] = physical["GPU"][:1]
    strategy, description, _ = make_strategy("auto")
    assert description == "default (one GPU)" and len(made) == 1
    physical["GPU"] = []
    assert make_strategy("default")[1] == "default (one CPU)"
