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
