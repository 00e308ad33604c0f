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

# No "members"/"undoc-members" keys here: with Sphinx 9, a False default silently empties
# every explicit ":members:" option. Pages ask for members where they want them.
autodoc_default_options: dict[str, str] = {}
autodoc_typehints = "description"

html_theme = "alabaster"
exclude_patterns = ["_build"]
nitpicky = False
