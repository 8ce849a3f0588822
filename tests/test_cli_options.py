"""The shared command-line vocabulary: --passbands, --image-size, -v/-q, old spellings."""
import dataclasses
import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from solar_euv.cli.main import COMMANDS, cli
from solar_euv.training import TrainConfig

# Commands and the shared options each takes.
VOCABULARY = {
    "networks": ("--image-size",),
    "sample": ("--image-size", "--passbands"),
    "prepare": ("--image-size", "--passbands"),
    "train": ("--image-size", "--passbands"),
    "fetch": ("--passbands",),
    "predict": ("--passbands",),
    "evaluate": ("--passbands",),
    "export": ("--passbands",),
}
DEPRECATED = ("--size ", "--passband ")


def _invoke(args):
    return CliRunner().invoke(cli, args)


@pytest.fixture
def captured(monkeypatch):
    """Replace solar_euv.training.train: record the config and verbosity it gets."""
    import solar_euv.training

    calls = []
    monkeypatch.setattr(solar_euv.training, "train",
                        lambda config, echo, verbose: calls.append((config, verbose)))
    return calls


def test_every_command_speaks_the_vocabulary():
    assert set(VOCABULARY) == set(COMMANDS)
    for name, options in VOCABULARY.items():
        result = _invoke([name, "--help"])
        assert result.exit_code == 0, result.output
        for option in options + ("-v, --verbose", "-q, --quiet"):
            assert option in result.output, (name, option)
        for old in DEPRECATED:
            assert old not in result.output, (name, old)


def test_help_imports_no_tensorflow():
    code = ("import sys\n"
            "from click.testing import CliRunner\n"
            "from solar_euv.cli.main import COMMANDS, cli\n"
            "for name in [[]] + [[c] for c in COMMANDS]:\n"
            "    assert CliRunner().invoke(cli, name + ['--help']).exit_code == 0, name\n"
            "print(sorted(m for m in ('tensorflow', 'keras') if m in sys.modules))\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_train_options_are_the_config_fields(captured):
    help_text = _invoke(["train", "--help"]).output
    for field in dataclasses.fields(TrainConfig):
        assert field.metadata["help"], field.name
        assert "--" + field.name.replace("_", "-") in help_text, field.name
    assert _invoke(["train"]).exit_code == 0
    (config, verbose), = captured
    # The command line's defaults: the dataclass's, except the precision.
    assert config == TrainConfig(precision="auto") and verbose == "auto"


def test_train_options_reach_the_config(captured, tmp_path):
    result = _invoke(["train", "--data", str(tmp_path), "--passbands", "94,171",
                      "--passbands", "304", "--model", "b", "--preset", "paper",
                      "--image-size", "256", "--lr", "1e-4", "--lr-decay", "linear",
                      "--precision", "float32", "--resume", "--seed", "7",
                      "--hmi-off-disk", "-1", "-q"])
    assert result.exit_code == 0, result.output
    (config, verbose), = captured
    assert config == TrainConfig(data=str(tmp_path), passbands=("304", "171", "94"),
                                 model="B", preset="paper", image_size=256, lr=1e-4,
                                 lr_decay="linear", precision="float32", resume=True, seed=7,
                                 hmi_off_disk=-1.0)
    assert verbose == 0
    assert json.dumps(config.identity())            # still a plain record


@pytest.mark.parametrize("flags, verbose", [([], "auto"), (["-q"], 0), (["-qq"], 0),
                                            (["-v"], 1), (["-v", "-q"], "auto")])
def test_train_counts_verbosity(captured, flags, verbose):
    assert _invoke(["train", *flags]).exit_code == 0
    assert captured[0][1] == verbose


@pytest.mark.parametrize("args, message", [
    (["--lr", "0"], "not in the range x>0"),
    (["--disc-layers", "6"], "not in the range 0<=x<=5"),
    (["--lr-decay", "cosine"], "'cosine' is not one of"),
    (["--image-size", "100"], "power of two from 64 to 2048"),
])
def test_train_usage_errors(captured, args, message):
    result = _invoke(["train", *args])
    assert result.exit_code == 2 and message in result.output and not captured


def test_deprecated_passband_still_works_and_says_so(captured):
    result = _invoke(["train", "--passband", "94", "--passband", "171"])
    assert result.exit_code == 0, result.output
    assert captured[0][0].passbands == ("171", "94")
    lines = [line for line in result.output.splitlines() if "deprecated" in line]
    assert lines == ["Warning: --passband is deprecated and will be removed in the next "
                     "release; use --passbands"]
    # The new spelling wins over the old one.
    assert _invoke(["train", "--passband", "94", "--passbands", "304"]).exit_code == 0
    assert captured[1][0].passbands == ("304",)


def test_unknown_passband_is_one_error_line(captured):
    for option in ("--passbands", "--passband"):
        result = _invoke(["train", option, "172"])
        assert result.exit_code == 1 and not captured
        errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
        assert errors == [line for line in result.output.splitlines()
                          if "deprecated" not in line]
        assert len(errors) == 1 and "unknown AIA passband '172'" in errors[0]


def test_deprecated_size_of_sample_and_prepare(tmp_path):
    result = _invoke(["sample", "--out", str(tmp_path / "s"), "--count", "1", "--size", "64",
                      "--passbands", "171"])
    assert result.exit_code == 0, result.output
    assert "Warning: --size is deprecated" in result.output and "use --image-size" in result.output
    assert "64 px" in result.output and len(list((tmp_path / "s").iterdir())) == 2

    for option in ("--size", "--image-size"):
        result = _invoke(["prepare", str(tmp_path / "s"), str(tmp_path / "d"), option, "100"])
        assert result.exit_code == 2 and "power of two from 64 to 4096" in result.output
        assert ("deprecated" in result.output) == (option == "--size")
    assert not (tmp_path / "d").exists()


def test_fetch_passbands_none_and_lists(monkeypatch, tmp_path):
    import solar_euv.sdo.fetch as fetch_module
    from solar_euv.exceptions import SolarEUVError

    calls = []

    def fake_fetch(start, end, out_dir, **options):
        calls.append(options["passbands"])
        raise SolarEUVError("stop here")

    monkeypatch.setattr(fetch_module, "fetch", fake_fetch)
    common = ["fetch", "--start", "2017-01-01", "--end", "2017-01-02", str(tmp_path)]
    for args, expected in [(["--passbands", "none"], ()), ([], tuple(
            "1700 1600 304 171 193 211 335 94 131".split())),
            (["--passbands", "193", "--passbands", "171"], ("171", "193"))]:
        assert _invoke(common + args).exit_code == 1
        assert calls.pop() == expected
