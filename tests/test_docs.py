"""The documentation: the Sphinx site builds without a warning (gallery run), and
the README stays a short front page that keeps CI's install and test commands."""
import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
README = ROOT / "README.md"

#: What .ci/run executes: the README must keep saying it.
INSTALL = 'python -m pip install -e ".[test]"'
TEST = "python -m pytest"


def test_readme_is_short_and_keeps_the_install_and_test_commands():
    text = README.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 200
    for command in (INSTALL, TEST, "solar-euv-train"):
        assert command in text, command
    ci = ROOT / ".ci" / "run"
    if ci.exists():
        script = ci.read_text()
        assert 'pip install -e ".[test]"' in script and "pytest" in script


def test_readme_links_point_at_files_in_the_repository():
    import re

    text = README.read_text(encoding="utf-8")
    for target in re.findall(r"\]\(([^)#]+)\)", text):
        if "://" not in target:
            assert (ROOT / target).exists(), target


def test_docs_build_without_warnings(tmp_path):
    pytest.importorskip("sphinx", reason="Sphinx is not installed (pip install -e '.[docs]')")
    for module in ("numpydoc", "sphinx_click", "sphinx_gallery", "myst_parser",
                   "pydata_sphinx_theme"):
        pytest.importorskip(module, reason=f"{module} is not installed (pip install -e '.[docs]')")
    env = dict(os.environ, SOLAR_EUV_GALLERY_DIR=str(tmp_path / "gallery-work"),
               PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    (tmp_path / "gallery-work").mkdir()
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-b", "html",
         "-d", str(tmp_path / "doctrees"), str(ROOT / "docs"), str(tmp_path / "html")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-8000:]
    html = tmp_path / "html"
    assert (html / "index.html").exists()
    assert (html / "cli.html").exists() and "solar-euv-train" in (html / "cli.html").read_text()
    gallery = sorted((html / "generated" / "gallery").glob("plot_*.html"))
    assert len(gallery) >= 5
    assert "train_speed_quick.json" in (html / "benchmarks.html").read_text()


def test_the_presets_are_what_the_readme_and_training_page_say():
    """The values README.md and docs/training.md give for the two presets are PRESETS'."""
    from solar_euv.training.config import PRESETS

    def squash(text):
        return " ".join(text.split())

    quick = {"model": "A", "image_size": 128, "iterations": 600, "batch_size": 4,
             "base_filters": 32, "hmi_limit": 1000.0, "lr": 1e-3, "lr_decay": "linear",
             "hmi_asinh": 30.0, "mask_radius": 1.0, "disk_loss": True}
    paper = {"model": "B", "image_size": 1024, "iterations": 500_000, "batch_size": 1,
             "base_filters": 64, "hmi_limit": 3000.0, "lr": 2e-4, "lr_decay": "none",
             "hmi_asinh": 0.0, "mask_radius": 0.99, "disk_loss": False}
    assert {k: PRESETS["quick"][k] for k in quick} == quick
    assert {k: PRESETS["paper"][k] for k in paper} == paper
    readme = squash(README.read_text(encoding="utf-8"))
    for phrase in ("trains Model A (L1)", "128 px, 600 steps, global batch 4",
                   "32 base filters", "clipped at ±1000 G", "asinh(B / 30 G)",
                   "Adam rate 1e-3 decaying linearly to 0 over the second half"):
        assert phrase in readme, phrase
    training = squash((ROOT / "docs" / "training.md").read_text(encoding="utf-8"))
    assert ("paper: Model B, 1024 px, 500,000 steps, batch 1, 64 filters, ±3000 G, "
            "constant rate 2e-4") in training
    assert "quick: 1.0, the disk the paper's metrics score; paper: 0.99" in training
