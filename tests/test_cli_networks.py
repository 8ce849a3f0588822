"""`solar-euv networks` and the command group."""
from click.testing import CliRunner

from solar_euv.cli.main import cli


def test_networks_prints_summaries_counts_and_receptive_field():
    result = CliRunner().invoke(cli, ["networks", "--image-size", "64", "--disc-layers", "2",
                                      "--base-filters", "8"])
    assert result.exit_code == 0, result.output
    assert "enc1_conv" in result.output and "logits_conv" in result.output
    assert "receptive field: 34 px" in result.output
    assert "(64x64x1 -> 64x64x1)" in result.output
    # 64 px, depth 2: 64 -> 32 -> 16 -> 15 -> 14 patch logits.
    assert "14x14 patch logits" in result.output


def test_networks_nine_passbands_and_deep_variant():
    result = CliRunner().invoke(cli, ["networks", "--image-size", "64", "--out-channels", "9",
                                      "--variant", "deep", "--base-filters", "4"])
    assert result.exit_code == 0, result.output
    assert "(64x64x1 -> 64x64x9)" in result.output
    assert "enc6_conv" in result.output  # 64 -> 1 takes six levels


def test_bad_image_size_is_a_usage_error_without_traceback():
    result = CliRunner().invoke(cli, ["networks", "--image-size", "100"])
    assert result.exit_code == 2
    assert "power of two from 64 to 2048" in result.output
    assert "Traceback" not in result.output


def test_group_help_and_version():
    runner = CliRunner()
    result = runner.invoke(cli, ["--help"])
    assert result.exit_code == 0 and "networks" in result.output
    result = runner.invoke(cli, ["--version"])
    assert result.exit_code == 0 and "solar-euv, version" in result.output
