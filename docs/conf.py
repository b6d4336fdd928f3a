"""Sphinx configuration of the xaitk-wcam documentation (``python3 tasks.py docs`` builds it).

Offline by design: no intersphinx (nothing is downloaded at build time), the notebooks render with what is stored
in them and are never executed (``nb_execution_mode = "off"``), and the API pages import the package from
``src/``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(DOCS / "_ext"))
# Importing the package's plugins for autodoc must not reach the Hub or draw progress bars.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("MPLBACKEND", "Agg")

import xaitk_wcam  # noqa: E402

project = "xaitk-wcam"
author = "the xaitk-wcam authors"
copyright = "the xaitk-wcam authors"
release = xaitk_wcam.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "myst_nb",  # Markdown pages (myst-parser) and the notebooks
    "sphinx_click",
    "wcam_docs",  # docs/_ext/wcam_docs.py: config keys of every plugin; every public name documented
]

exclude_patterns = ["_build", "scripts", "Thumbs.db", ".DS_Store", "**.ipynb_checkpoints"]
templates_path = ["_templates"]
source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}

# -- Markdown and notebooks ------------------------------------------------------------------------------------------
myst_enable_extensions = ["colon_fence", "deflist", "dollarmath"]
myst_heading_anchors = 3
highlight_language = "text"  # untagged blocks are command output and tables, not Python
nb_execution_mode = "off"  # render the stored outputs; never run a notebook while building
nb_merge_streams = True

# -- API reference ---------------------------------------------------------------------------------------------------
autosummary_generate = True
autosummary_imported_members = False
# Inherited methods (explain, generate, compute, ...) are documented on each class, except smqtk's plumbing.
autodoc_default_options = {
    "members": True,
    "show-inheritance": True,
    "inherited-members": "Configurable,Pluggable,Plugfigurable,object",
    # get_config and friends: each plugin page lists its config keys instead (docs/_ext/wcam_docs.py).
    "exclude-members": "get_config,from_config,get_default_config,is_usable,get_impls",
}
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_typehints_description_target = "documented_params"
autoclass_content = "class"
add_module_names = False
python_display_short_literal_types = True

# -- HTML ------------------------------------------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"xaitk-wcam {release}"
html_static_path = ["_static"]
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "header_links_before_dropdown": 8,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
html_sidebars = {"index": [], "release_notes": []}
html_show_sourcelink = False
html_css_files = ["css/custom.css"]
