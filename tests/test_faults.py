"""Corrupted datasets and run directories, killed and disk-starved ``solar-euv prepare``.

* TFRecord shards truncated at random offsets and bit-flipped (the CRC-32C of
  every record must catch it), ``manifest.json`` missing, malformed or of
  another schema: :class:`~solar_euv.exceptions.InputError` naming the file,
  and from ``solar-euv-train --data``: non-zero exit, one ``Error:`` line, no
  traceback.
* Run directories with a missing or corrupt ``config.json``,
  ``backup/model.keras`` or checkpoint: a clear refusal or a correct resume.
* ``solar-euv prepare`` killed with SIGKILL at seeded random moments and run
  again gives shards byte-identical to an uninterrupted run; a write that
  fails for lack of space (``RLIMIT_FSIZE``) fails cleanly and leaves no
  partial shard under its final name.

``SOLAR_EUV_FUZZ_N`` (default 4) scales the number of mutations and kill
trials (``SOLAR_EUV_FUZZ_N=20`` is a long run).
"""
import collections
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from click.testing import CliRunner

from solar_euv.exceptions import InputError

N = int(os.environ.get("SOLAR_EUV_FUZZ_N", "4"))
SEED = int(os.environ.get("SOLAR_EUV_FUZZ_SEED", "0"))
HANG_GUARD_S = 300
SMALL = ["--image-size", "64", "--base-filters", "8", "--batch-size", "2",
         "--val-examples", "2"]

COUNTS = collections.Counter()


@pytest.fixture(scope="module", autouse=True)
def report_counts(module_report):
    """Print the number of fault inputs tried when the module ends."""
    module_report(f"fault inputs tried (SOLAR_EUV_FUZZ_N={N}, seed {SEED}):",
                  lambda: [f"{what}: {n}" for what, n in sorted(COUNTS.items())])


def _train(args):
    from solar_euv.cli.train import command

    return CliRunner().invoke(command, args)


@pytest.fixture()
def dataset_copy(prepared_sample, tmp_path):
    dst = tmp_path / "data"
    shutil.copytree(prepared_sample, dst)
    return dst


def _shards(data, split=None):
    manifest = json.loads((data / "manifest.json").read_text())
    names = [split] if split else list(manifest["splits"])
    return [data / s["file"] for name in names for s in manifest["splits"][name]["shards"]
            if s.get("examples", 1) > 0]


# -- TFRecord shards ---------------------------------------------------------------

def test_truncated_and_bit_flipped_shards_are_named(prepared_sample, tmp_path):
    from solar_euv.dataset import verify_shards

    rng = np.random.default_rng([SEED, 10])
    shards = _shards(prepared_sample)
    for trial in range(4 * N):
        data = tmp_path / f"d{trial}"
        shutil.copytree(prepared_sample, data)
        shard = data / shards[rng.integers(len(shards))].name
        blob = bytearray(shard.read_bytes())
        if trial % 2:
            COUNTS["shard truncated (verify_shards)"] += 1
            shard.write_bytes(bytes(blob[:int(rng.integers(0, len(blob)))]))
        else:
            COUNTS["shard bit-flipped (verify_shards, CRC)"] += 1
            pos = int(rng.integers(len(blob)))
            blob[pos] ^= 1 << int(rng.integers(8))
            shard.write_bytes(bytes(blob))
        with pytest.raises(InputError) as info:
            verify_shards(data, full=True)
        assert info.value.path == str(shard)
        if trial % 2 == 0:
            assert "corrupt" in str(info.value)


@pytest.mark.parametrize("damage", ["truncate", "flip", "delete"])
def test_train_refuses_a_damaged_shard(dataset_copy, tmp_path, damage, assert_clean_failure):
    rng = np.random.default_rng([SEED, 11])
    shard = _shards(dataset_copy, "train")[0]
    blob = bytearray(shard.read_bytes())
    if damage == "truncate":
        shard.write_bytes(bytes(blob[:int(rng.integers(1, len(blob)))]))
    elif damage == "flip":
        pos = int(rng.integers(len(blob)))
        blob[pos] ^= 0x10
        shard.write_bytes(bytes(blob))
    else:
        shard.unlink()
    COUNTS["solar-euv-train --data (damaged shard)"] += 1
    run = tmp_path / "run"
    result = _train(["--data", str(dataset_copy), "--run-dir", str(run), "--iterations", "2"]
                    + SMALL)
    assert_clean_failure(result, shard)
    assert not (run / "backup" / "model.keras").exists()


def test_a_corrupt_record_met_during_training_keeps_the_backup(dataset_copy, tmp_path,
                                                               monkeypatch,
                                                               assert_clean_failure):
    """Splits over FULL_VERIFY_BYTES get only a presence and length check at start: a
    record corrupted in place is met by training itself, which stops in one line naming
    the dataset and leaves the last backup as it was."""
    run = tmp_path / "run"
    args = ["--data", str(dataset_copy), "--run-dir", str(run), "--save-every", "2"] + SMALL
    assert _train(args + ["--iterations", "2"]).exit_code == 0
    backup = (run / "backup" / "model.keras").read_bytes()
    for shard in _shards(dataset_copy, "train"):        # the same length, a bad CRC
        blob = bytearray(shard.read_bytes())
        blob[len(blob) // 2] ^= 0x10
        shard.write_bytes(bytes(blob))
    monkeypatch.setattr("solar_euv.training.data.FULL_VERIFY_BYTES", 0)
    COUNTS["solar-euv-train --data (record corrupted after the start check)"] += 1
    result = _train(args + ["--iterations", "40"])
    assert_clean_failure(result, dataset_copy)
    assert "holds a corrupt shard" in result.output and "the last backup is kept" \
        in result.output
    assert (run / "backup" / "model.keras").read_bytes() == backup


# -- manifest.json -------------------------------------------------------------------

def _manifest_mutations(text, rng):
    manifest = json.loads(text)
    other_schema = dict(manifest, schema_version=99)
    no_schema = {k: v for k, v in manifest.items() if k != "schema_version"}
    no_splits = {k: v for k, v in manifest.items() if k != "splits"}
    bad_grid = dict(manifest, grid="1024")
    cut = int(rng.integers(1, len(text) - 1))
    return {
        "missing": None,
        "empty": "",
        "truncated": text[:cut],
        "not-json": "<html>503 Service Unavailable</html>",
        "binary": rng.integers(0, 256, 300, dtype=np.uint8).tobytes(),
        "list": "[1, 2, 3]",
        "other-schema": json.dumps(other_schema),
        "no-schema": json.dumps(no_schema),
        "no-splits": json.dumps(no_splits),
        "bad-grid": json.dumps(bad_grid),
    }


def test_damaged_manifests_are_refused(prepared_sample, tmp_path):
    from solar_euv.dataset import dataset_info

    rng = np.random.default_rng([SEED, 12])
    text = (prepared_sample / "manifest.json").read_text()
    for name, content in _manifest_mutations(text, rng).items():
        data = tmp_path / name
        data.mkdir()
        manifest = data / "manifest.json"
        if content is not None:
            manifest.write_bytes(content if isinstance(content, bytes) else content.encode())
        COUNTS["manifest.json (dataset_info)"] += 1
        with pytest.raises(InputError) as info:
            dataset_info(data)
        assert info.value.path in (str(data), str(manifest)), name


@pytest.mark.parametrize("name", ["missing", "truncated", "binary", "other-schema", "list",
                                  "no-splits"])
def test_train_refuses_a_damaged_manifest(dataset_copy, tmp_path, name, assert_clean_failure):
    rng = np.random.default_rng([SEED, 13])
    manifest = dataset_copy / "manifest.json"
    content = _manifest_mutations(manifest.read_text(), rng)[name]
    if content is None:
        manifest.unlink()
    else:
        manifest.write_bytes(content if isinstance(content, bytes) else content.encode())
    COUNTS["solar-euv-train --data (damaged manifest)"] += 1
    run = tmp_path / "run"
    result = _train(["--data", str(dataset_copy), "--run-dir", str(run), "--iterations", "2"]
                    + SMALL)
    assert_clean_failure(result, dataset_copy if name == "missing" else manifest)
    assert not run.exists()


# -- run directories -------------------------------------------------------------------

@pytest.fixture(scope="module")
def finished_run(prepared_sample, tmp_path_factory):
    run = tmp_path_factory.mktemp("fault-run") / "run"
    result = _train(["--data", str(prepared_sample), "--run-dir", str(run), "--model", "A",
                     "--iterations", "2", "--save-every", "1"] + SMALL)
    assert result.exit_code == 0, result.output
    assert (run / "backup" / "model.keras").is_file()
    return run


def _damage(path, how, rng):
    if how == "delete":
        path.unlink()
    elif how == "empty":
        path.write_bytes(b"")
    elif how == "truncate":
        blob = path.read_bytes()
        path.write_bytes(blob[:int(rng.integers(1, len(blob)))])
    elif how == "garbage":
        path.write_bytes(rng.integers(0, 256, 4096, dtype=np.uint8).tobytes())
    elif how == "flip":
        blob = bytearray(path.read_bytes())
        for pos in rng.integers(0, len(blob), 16):
            blob[int(pos)] ^= 0xFF
        path.write_bytes(bytes(blob))
    elif how == "json-list":
        path.write_text("[]")


@pytest.mark.parametrize("target,how", [
    ("config.json", "truncate"), ("config.json", "garbage"), ("config.json", "json-list"),
    ("config.json", "delete"),
    ("backup/model.keras", "truncate"), ("backup/model.keras", "garbage"),
    ("backup/model.keras", "empty"), ("backup/model.keras", "flip"),
    ("checkpoints/best.keras", "garbage"), ("checkpoints/best.json", "truncate"),
])
def test_damaged_run_directory(prepared_sample, finished_run, tmp_path, target, how,
                               assert_clean_failure):
    """Rerunning the same command on a damaged run directory refuses it clearly or resumes."""
    rng = np.random.default_rng([SEED, 14, len(target), len(how)])
    run = tmp_path / "run"
    shutil.copytree(finished_run, run)
    damaged = run / target
    _damage(damaged, how, rng)
    COUNTS["solar-euv-train --run-dir (damaged run directory)"] += 1
    result = _train(["--data", str(prepared_sample), "--run-dir", str(run), "--model", "A",
                     "--iterations", "3", "--save-every", "1"] + SMALL)
    if result.exit_code == 0:
        # Accepted: it resumed or started over, and left loadable files under final names.
        from solar_euv.models import load_model

        load_model(run / "backup" / "model.keras")
        json.loads((run / "config.json").read_text())
        return
    assert_clean_failure(result, damaged)


# -- solar-euv predict: a model file carrying code ------------------------------------

def test_predict_refuses_a_model_with_a_lambda_layer(prepared_sample, tmp_path,
                                                     assert_clean_failure):
    """Safe mode: the Lambda layer's bytecode is never run; one line names the file."""
    import keras

    from solar_euv.cli.main import cli

    bad = tmp_path / "lambda.keras"
    ran = tmp_path / "the-lambda-ran"
    inputs = keras.Input((64, 64, 1))
    # The function leaves a mark whenever it runs (building the model runs it
    # once); the path is a constant of its bytecode.
    function = eval(f"lambda t: (__import__('pathlib').Path({str(ran)!r}).touch(), t)[1]")
    keras.Model(inputs, keras.layers.Lambda(function)(inputs)).save(bad)
    ran.unlink()
    magnetogram = sorted((prepared_sample.parent / "raw").glob("hmi*.fits"))[0]
    out = tmp_path / "gen"
    COUNTS["solar-euv predict (.keras with a Lambda layer)"] += 1
    result = CliRunner().invoke(cli, ["predict", str(bad), str(magnetogram), "--out", str(out),
                                      "--passbands", "171"])
    assert_clean_failure(result, bad)
    assert "could not be loaded as a solar_euv model" in result.output
    assert "Lambda" in result.output and not out.exists()
    assert not ran.exists()
    # The control: outside safe mode, loading the same file runs its code.
    keras.models.load_model(bad, safe_mode=False)
    assert ran.exists()


# -- solar-euv prepare: SIGKILL and a full disk -----------------------------------------

KILL_TIMES = ["2011-03-01T00:00:00", "2012-05-01T12:00:00", "2013-02-01T18:00:00",
              "2014-07-01T00:00:00", "2015-04-01T06:00:00", "2016-01-01T12:00:00",
              "2017-02-01T00:00:00", "2017-08-01T12:00:00"]


@pytest.fixture(scope="module")
def kill_raw(tmp_path_factory):
    from solar_euv.synthetic.sample import write_sample

    raw = tmp_path_factory.mktemp("kill") / "raw"
    write_sample(raw, KILL_TIMES, size=256, seed=0, passbands=("171", "193"))
    return raw


def _prepare_cmd(raw, out):
    code = "from solar_euv.cli.main import cli; cli()"
    return [sys.executable, "-c", code, "prepare", str(raw), str(out), "--image-size", "256",
            "--workers", "1", "-q", "--shard-size", "1"]


def _digest(out):
    from solar_euv.dataset.manifest import file_sha256

    manifest = json.loads((out / "manifest.json").read_text())
    shards = {p.name: file_sha256(p) for p in sorted(out.glob("*.tfrecord"))}
    counts = {name: (entry["examples"], [(s["file"], s["sha256"]) for s in entry["shards"]])
              for name, entry in manifest["splits"].items()}
    return shards, counts


@pytest.fixture(scope="module")
def reference_prepare(kill_raw):
    out = kill_raw.parent / "reference"
    t0 = time.monotonic()
    proc = subprocess.run(_prepare_cmd(kill_raw, out), capture_output=True, text=True,
                          timeout=HANG_GUARD_S)
    span = time.monotonic() - t0     # bounds the kill moments, not an assertion
    assert proc.returncode == 0, proc.stderr
    return out, _digest(out), span


def _final_names_whole(out):
    """No partial file under a final name: every shard present is a readable TFRecord."""
    import tensorflow as tf

    for shard in out.glob("*.tfrecord"):
        sum(1 for _ in tf.data.TFRecordDataset(str(shard)))
    if (out / "manifest.json").exists():
        json.loads((out / "manifest.json").read_text())


def test_prepare_killed_at_random_moments_then_rerun_is_identical(kill_raw, reference_prepare,
                                                                   tmp_path):
    _, expected, span = reference_prepare
    rng = np.random.default_rng([SEED, 15])
    survived = 0
    for trial in range(3 if N <= 4 else N):
        out = tmp_path / f"out{trial}"
        kills = 0
        # One kill per trial, two in every third: the second run is killed
        # while it resumes the first one's work.
        for delay in sorted(rng.uniform(0.3, 1.0, size=1 + (trial % 3 == 2)) * span):
            proc = subprocess.Popen(_prepare_cmd(kill_raw, out), stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
            try:
                proc.wait(timeout=delay)
            except subprocess.TimeoutExpired:
                proc.send_signal(signal.SIGKILL)
                proc.wait(timeout=60)
                kills += 1
            if out.exists():
                _final_names_whole(out)
        proc = subprocess.run(_prepare_cmd(kill_raw, out), capture_output=True, text=True,
                              timeout=HANG_GUARD_S)
        assert proc.returncode == 0, proc.stderr
        assert _digest(out) == expected, f"trial {trial} after {kills} kill(s)"
        assert not list(out.glob("*.partial")) and not list(out.glob(".tmp*"))
        COUNTS["solar-euv prepare SIGKILL trials (identical after rerun)"] += 1
        COUNTS["solar-euv prepare SIGKILLs delivered"] += kills
        survived += kills > 0
    assert survived > 0, "no trial was killed before it finished"


def test_prepare_out_of_space_fails_cleanly(kill_raw, reference_prepare, tmp_path):
    reference, _, _ = reference_prepare
    largest = max(p.stat().st_size for p in reference.glob("*.tfrecord"))
    out = tmp_path / "out"
    limit = largest // 2

    def _limit():
        # Python ignores SIGXFSZ, so an over-long write fails with EFBIG.
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    proc = subprocess.run(_prepare_cmd(kill_raw, out), capture_output=True, text=True,
                          timeout=HANG_GUARD_S, preexec_fn=_limit)
    COUNTS["solar-euv prepare under RLIMIT_FSIZE"] += 1
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    assert [line for line in proc.stderr.splitlines() if line.startswith("Error:")], proc.stderr
    for shard in out.glob("*.tfrecord"):
        assert shard.stat().st_size <= limit
    _final_names_whole(out)
    assert not (out / "manifest.json").exists()
    # With space again, the same command completes the dataset.
    proc = subprocess.run(_prepare_cmd(kill_raw, out), capture_output=True, text=True,
                          timeout=HANG_GUARD_S)
    assert proc.returncode == 0, proc.stderr
    assert _digest(out) == _digest(reference)
