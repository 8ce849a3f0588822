"""Preparation as Dask tasks (``prepare --scheduler``): same results, lost workers re-run."""
import os
import pathlib

import numpy as np
import pytest

from solar_euv.exceptions import InputError, SolarEUVError
from solar_euv.sdo.cluster import parse_scheduler

distributed = pytest.importorskip("distributed", reason="dask.distributed is the [dask] extra")


@pytest.mark.parametrize("spec,expected", [
    ("local:2", ("local", 2)),
    (" local:16 ", ("local", 16)),
    ("tcp://10.0.0.1:8786", ("address", "tcp://10.0.0.1:8786")),
    ("node07:8786", ("address", "node07:8786")),
])
def test_scheduler_values(spec, expected):
    assert parse_scheduler(spec) == expected


@pytest.mark.parametrize("spec,message", [
    ("local:0", "between 1 and 1024"),
    ("local", "write local:N"),
    ("local:two", "write local:N"),
    ("", "give local:N or the address"),
])
def test_bad_scheduler_values_are_one_sentence(spec, message):
    with pytest.raises(SolarEUVError, match=message) as info:
        parse_scheduler(spec)
    assert "\n" not in str(info.value)


def test_unreachable_scheduler_is_one_sentence():
    from solar_euv.sdo.cluster import dask_client

    with pytest.raises(SolarEUVError, match="cannot reach the Dask scheduler at "
                                            "tcp://127.0.0.1:9") as info:
        with dask_client("tcp://127.0.0.1:9", timeout=2):
            pass
    assert "\n" not in str(info.value)


@pytest.fixture(scope="module")
def client():
    from solar_euv.sdo.cluster import dask_client

    with dask_client("local:2") as c:
        yield c


@pytest.fixture(scope="module")
def raw(tmp_path_factory):
    from solar_euv.synthetic.sample import write_sample

    out = tmp_path_factory.mktemp("raw")
    write_sample(out, ["2012-01-01T00:00:00", "2012-01-01T06:00:00"], size=64,
                 passbands=["171", "1600"], seed=3)
    (out / "not_fits.fits").write_text("this is not a FITS file\n")
    return out


def test_two_dask_workers_give_the_results_of_one_process(client, raw):
    from solar_euv.sdo.batch import prepare_files

    paths = sorted(raw.glob("*.fits"))
    assert len(paths) == 7
    plain = list(prepare_files(paths, 64, workers=1, progress=False, on_error="return"))
    assert len(client.scheduler_info()["workers"]) == 2
    dask = list(prepare_files(paths, 64, progress=False, on_error="return", client=client))
    assert len(dask) == len(plain) == len(paths)
    for a, b in zip(plain, dask):
        assert type(a) is type(b)
        if isinstance(a, InputError):
            assert a.path == b.path and a.problem == b.problem
            continue
        assert (a.kind, a.time, a.path) == (b.kind, b.time, b.path)
        assert a.data.dtype == b.data.dtype and np.array_equal(a.data, b.data)
        assert a.meta == b.meta


def _die_once(job):
    """Kill this worker process the first time any job runs, then succeed."""
    marker, value = job
    try:
        fd = os.open(marker, os.O_CREAT | os.O_EXCL)
    except FileExistsError:
        return value * 2, os.getpid()
    os.close(fd)
    os._exit(1)


def test_a_lost_workers_file_is_run_again_elsewhere(client, tmp_path):
    import cloudpickle

    from solar_euv.sdo.cluster import map_in_order

    cloudpickle.register_pickle_by_value(__import__(__name__))
    marker = str(tmp_path / "died")
    results = list(map_in_order(client, _die_once, [(marker, v) for v in range(6)]))
    assert [r[0] for r in results] == [0, 2, 4, 6, 8, 10]
    assert pathlib.Path(marker).exists()          # one worker did die
    assert os.getpid() not in {r[1] for r in results}


def test_prepare_on_a_local_dask_cluster_writes_the_same_shards(raw, tmp_path):
    """``solar-euv prepare --scheduler local:2`` against a plain run: same shard SHA-256s,
    and the same manifest but for its ``created`` time."""
    import json

    from click.testing import CliRunner

    from solar_euv.cli.main import cli

    shards, skipped, manifests = {}, {}, {}
    for name, extra in (("plain", ["--workers", "1"]), ("dask", ["--scheduler", "local:2"])):
        out = tmp_path / name
        result = CliRunner().invoke(cli, ["prepare", str(raw), str(out), "--image-size", "64",
                                          "--passbands", "171,1600", "-q"] + extra)
        assert result.exit_code == 0, result.output
        manifest = json.loads((out / "manifest.json").read_text())
        shards[name] = {split: [s["sha256"] for s in info.get("shards", [])]
                        for split, info in manifest["splits"].items()}
        skipped[name] = [entry["file"] if isinstance(entry, dict) else entry
                         for entry in manifest["skipped"]]
        manifest.pop("created")
        manifests[name] = manifest
    assert shards["plain"] == shards["dask"]
    assert manifests["plain"] == manifests["dask"]        # all but its creation time
    assert sum(len(v) for v in shards["plain"].values()) >= 1
    assert skipped["plain"] == skipped["dask"] and len(skipped["plain"]) == 1   # not_fits.fits


def test_prepare_names_a_bad_scheduler_in_one_line(raw, tmp_path):
    from click.testing import CliRunner

    from solar_euv.cli.main import cli

    result = CliRunner().invoke(cli, ["prepare", str(raw), str(tmp_path / "out"),
                                      "--image-size", "64", "--scheduler", "local:zero"])
    assert result.exit_code == 1
    assert "write local:N" in result.output and "Traceback" not in result.output


@pytest.fixture(scope="module")
def raw4(tmp_path_factory):
    """Four observations (HMI + 171, 64 px): four shards of one split."""
    from solar_euv.synthetic.sample import write_sample

    out = tmp_path_factory.mktemp("raw4")
    write_sample(out, ["2012-01-01T00:00:00", "2012-02-01T00:00:00", "2012-03-01T00:00:00",
                       "2012-04-01T00:00:00"], size=64, passbands=["171"], seed=4)
    return out


def test_an_interrupted_dask_prepare_resumes_to_the_shards_of_a_plain_run(raw4, tmp_path,
                                                                          monkeypatch):
    """``prepare --scheduler local:2`` stopped after its third shard, run again: the
    shards recorded are kept, the rest prepared on the cluster, and the shard SHA-256s
    are those of an uninterrupted ``--workers 1`` run."""
    import json

    from click.testing import CliRunner

    from solar_euv.cli.main import cli
    from solar_euv.dataset import build
    from solar_euv.dataset.manifest import file_sha256
    from solar_euv.sdo import batch

    def prepare(out, *extra):
        return CliRunner().invoke(cli, ["prepare", str(raw4), str(out), "--image-size", "64",
                                        "--passbands", "171", "-q", *extra])

    def shards(out):
        manifest = json.loads((out / "manifest.json").read_text())
        listed = {s["file"]: s["sha256"] for s in manifest["splits"]["train"]["shards"]}
        assert listed == {p.name: file_sha256(p) for p in out.glob("*.tfrecord")}
        return listed

    plain = tmp_path / "plain"
    assert prepare(plain, "--workers", "1").exit_code == 0
    assert len(shards(plain)) == 4

    # The interruption: the third shard is written (renamed) but never recorded,
    # as when the process dies between the two; the fourth is never started.
    append, recorded = build._append_state, []

    def dies_at_the_third(out_dir, record):
        if len(recorded) == 2:
            raise RuntimeError("interrupted")
        recorded.append(record["file"])
        append(out_dir, record)

    out = tmp_path / "dask"
    monkeypatch.setattr(build, "_append_state", dies_at_the_third)
    first = prepare(out, "--scheduler", "local:2")
    assert first.exit_code != 0 and isinstance(first.exception, RuntimeError)
    assert not (out / "manifest.json").exists() and len(list(out.glob("*.tfrecord"))) == 3
    kept = {name: (out / name).stat().st_mtime_ns for name in recorded}

    monkeypatch.setattr(build, "_append_state", append)
    prepared, prepare_files = [], batch.prepare_files

    def counting(paths, *args, **kwargs):
        paths = list(paths)
        prepared.extend(paths)
        return prepare_files(paths, *args, **kwargs)

    monkeypatch.setattr(batch, "prepare_files", counting)
    second = prepare(out, "--scheduler", "local:2")
    assert second.exit_code == 0, second.output
    assert shards(out) == shards(plain)
    assert {name: (out / name).stat().st_mtime_ns for name in recorded} == kept
    assert len(prepared) == 4             # HMI + 171 of the two shards not recorded
    assert not list(out.glob("*.partial"))
