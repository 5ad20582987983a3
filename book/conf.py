"""Sphinx configuration of the course's website (`make book`; see book/build.py).

Sphinx reads the sources that book/pages.py stages into _build/src: the executed lectures and
the learners' releases of the exercises, never re-executed (nb_execution_mode = "off"), with their
widgets already replaced by their static state, so that no page loads widget JavaScript.
"""

import os

project = "Distributed systems, hands on"
author = "the course's authors"
copyright = "the course's authors (MIT licence)"

# sphinx-mathjax-offline ships MathJax 3 and points Sphinx at it: formulas render offline, and the
# site loads nothing from another host.
extensions = ["myst_nb", "sphinx.ext.githubpages", "sphinx-mathjax-offline"]
root_doc = "index"
exclude_patterns = ["**/.ipynb_checkpoints"]

# The lectures are committed executed and checked by nbval: the site shows those outputs as
# they are, and building it runs no kernel.
nb_execution_mode = "off"
nb_merge_streams = True
nb_ipywidgets_js = {}  # widgets are drawn from their saved state by book/pages.py
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_heading_anchors = 3

html_theme = "sphinx_book_theme"
html_title = project
html_static_path = ["_static"]
html_css_files = ["course.css"]
html_last_updated_fmt = None  # the same sources build the same pages
html_theme_options = {
    "home_page_in_toc": True,
    "show_toc_level": 2,
    "use_download_button": True,
    "use_fullscreen_button": False,
}
# On GitHub Actions (.github/workflows/pages.yml) the pages link back to the repository.
if os.environ.get("GITHUB_REPOSITORY"):
    html_theme_options.update({
        "repository_url": f"https://github.com/{os.environ['GITHUB_REPOSITORY']}",
        "repository_branch": os.environ.get("GITHUB_REF_NAME", "main"),
        "use_repository_button": True,
    })
