"""The documentation is tested like code.

Every ```python block of the README and of each page under docs/ runs, each file's blocks
in order in one fresh namespace; every doctest of the package passes; every public name
and every hook has a docstring, and every hook is on the plugins page.
"""

from __future__ import annotations

import doctest
import importlib
import inspect
import pkgutil
import re
from pathlib import Path

import pytest

import stockkit
from stockkit import hookspecs

ROOT = Path(__file__).resolve().parent.parent
DOC_FILES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
# A fence opens with ``` or more backticks and closes with the same run; MyST directives
# such as ```{eval-rst} are not examples.
FENCE = re.compile(r"^(?P<ticks>`{3,})(?P<info>[^`\n]*)\n(?P<body>.*?)^(?P=ticks)[ \t]*$", re.MULTILINE | re.DOTALL)


def python_blocks(path: Path) -> list[tuple[int, str]]:
    """``(line number, code)`` of each ```python block of a Markdown file."""
    text = path.read_text(encoding="utf-8")
    blocks = []
    for match in FENCE.finditer(text):
        if match.group("info").strip() == "python":
            first_line = text.count("\n", 0, match.start("body")) + 1
            blocks.append((first_line, match.group("body")))
    return blocks


@pytest.mark.parametrize("path", DOC_FILES, ids=lambda p: p.name)
def test_examples_run(path: Path) -> None:
    namespace: dict[str, object] = {"__name__": f"docs_{path.stem}"}
    for first_line, code in python_blocks(path):
        # Padding keeps the file's own line numbers in tracebacks.
        compiled = compile("\n" * (first_line - 1) + code, str(path), "exec")
        exec(compiled, namespace)  # noqa: S102 - running the documented examples is the point


@pytest.mark.parametrize("path", DOC_FILES, ids=lambda p: p.name)
def test_examples_are_marked_python(path: Path) -> None:
    """A block tagged ``py``, ``python3`` or ``pycon`` would escape the test above."""
    text = path.read_text(encoding="utf-8")
    loose = [m.group("info").strip() for m in FENCE.finditer(text)
             if m.group("info").strip() in {"py", "python3", "py3", "pycon", "ipython"}]
    assert not loose, f"{path.name}: tag these blocks ```python so they are tested: {loose}"


def test_readme_starts_with_the_two_commands() -> None:
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    fence = lines.index("```sh")
    assert lines[fence + 1].endswith(".venv/bin/python -m stockkit demo")
    assert lines[fence + 2].endswith(".venv/bin/python -m pytest")


MODULES = sorted(
    info.name for info in pkgutil.walk_packages(stockkit.__path__, prefix="stockkit.")
)


@pytest.mark.parametrize("name", ["stockkit", *MODULES])
def test_doctests(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
                             report=True, verbose=False)
    assert result.failed == 0, f"{result.failed} doctest(s) of {name} failed (see the output above)"


def _public_names() -> list[str]:
    return sorted(stockkit.__all__)


@pytest.mark.parametrize("name", _public_names())
def test_public_names_have_docstrings(name: str) -> None:
    assert inspect.getdoc(getattr(stockkit, name)), f"stockkit.{name} has no docstring"


def _inventory_methods() -> list[str]:
    return sorted(name for name in vars(stockkit.Inventory) if not name.startswith("_"))


@pytest.mark.parametrize("name", _inventory_methods())
def test_inventory_methods_have_docstrings(name: str) -> None:
    member = vars(stockkit.Inventory)[name]
    assert inspect.getdoc(member), f"Inventory.{name} has no docstring"


def _hooks() -> list[str]:
    return sorted(name for name in dir(hookspecs) if name.startswith("stockkit_"))


@pytest.mark.parametrize("name", _hooks())
def test_hooks_are_documented(name: str) -> None:
    hook = getattr(hookspecs, name)
    assert hasattr(hook, "stockkit_spec"), f"{name} is not marked @hookspec"
    assert inspect.getdoc(hook), f"the hook {name} has no docstring"
    plugins_page = (ROOT / "docs" / "plugins.md").read_text(encoding="utf-8")
    assert name in plugins_page, f"docs/plugins.md does not document the hook {name}"


def test_there_are_hooks_and_methods() -> None:
    # Guards the parametrized tests above against collecting nothing.
    assert _hooks() and len(_inventory_methods()) > 30 and MODULES
