"""Sphinx configuration for the stockkit documentation."""

project = "stockkit"
author = "stockkit contributors"
copyright = "stockkit contributors"

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.viewcode",
]

source_suffix = {
    ".md": "markdown",
    ".rst": "restructuredtext",
}

myst_enable_extensions = ["colon_fence", "deflist"]

autodoc_default_options = {
    "members": False,
    "undoc-members": False,
}
autodoc_typehints = "description"

html_theme = "alabaster"
exclude_patterns = ["_build"]
nitpicky = False
