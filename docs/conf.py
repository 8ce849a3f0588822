"""Sphinx configuration of the solar_euv documentation.

Build it with ``python -m sphinx -W --keep-going -b html docs docs/_build/html``
(the ``docs`` extra installs what it needs).  The gallery in ``docs/examples``
is run at build time on the synthetic Sun at 64 px; ``SOLAR_EUV_GALLERY=0``
builds without running it.
"""
import os
import pathlib
import sys
import tempfile

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))
sys.path.insert(0, str(HERE.parent))

import solar_euv  # noqa: E402

# The gallery examples share one working directory (data, run, exports) per build.
os.environ.setdefault("SOLAR_EUV_GALLERY_DIR", tempfile.mkdtemp(prefix="solar-euv-gallery-"))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "agg")

project = "solar_euv"
author = "solar_euv contributors"
copyright = "solar_euv contributors, MIT licence"
release = solar_euv.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_click",
    "sphinx_gallery.gen_gallery",
    "myst_parser",
    "benchmark_tables",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "generated/gallery/*.ipynb", "**.ipynb_checkpoints", "examples/*"]
templates_path = ["_templates"]

# API reference: autosummary walks the package, so moved modules need no edit here.
autosummary_generate = True
autosummary_imported_members = False
# Packages list their modules; each module documents its own members (a package's
# re-exports are documented once, where they are defined).
autodoc_default_options = {}
# Keras's inherited docstrings (from_config, on_epoch_end, ...) are not ours.
autodoc_inherit_docstrings = False
autodoc_typehints = "none"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

myst_enable_extensions = ["colon_fence"]
myst_heading_anchors = 3

intersphinx_mapping = {
    "python": ("https://docs.python.org/3", None),
}
# No network during the build (CI may be offline): intersphinx inventories are optional.
if os.environ.get("SOLAR_EUV_DOCS_INTERSPHINX", "0") != "1":
    intersphinx_mapping = {}

benchmark_results_dir = "../benchmarks/results"

_run_gallery = os.environ.get("SOLAR_EUV_GALLERY", "1") != "0"
# The examples share one small dataset and one tiny trained run
# (docs/examples/gallery_data.py, imported by them; not an example itself).
sys.path.insert(0, str(HERE / "examples"))
if "SOLAR_EUV_GALLERY_DIR" not in os.environ:
    os.environ["SOLAR_EUV_GALLERY_DIR"] = tempfile.mkdtemp(prefix="solar-euv-gallery-")
sphinx_gallery_conf = {
    "examples_dirs": "examples",
    "gallery_dirs": "generated/gallery",
    "filename_pattern": r"/plot_" if _run_gallery else r"^$",
    "ignore_pattern": r"(__init__|gallery_data)\.py",
    "plot_gallery": "True" if _run_gallery else "False",
    "within_subsection_order": "FileNameSortKey",
    "download_all_examples": False,
    "remove_config_comments": True,
    "abort_on_example_error": True,
    "only_warn_on_example_error": False,
    "matplotlib_animations": False,
    "image_scrapers": ("matplotlib",),
}

html_theme = "pydata_sphinx_theme"
html_title = f"solar_euv {release}"
html_static_path = []
html_theme_options = {"navigation_with_keys": False}
