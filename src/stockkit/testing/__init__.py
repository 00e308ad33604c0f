"""Test helpers for code that uses stockkit, and for stockkit's own storage backends.

- :mod:`stockkit.testing.strategies`: hypothesis strategies for valid and invalid
  quantities and codes;
- :mod:`stockkit.testing.statemachine`: :func:`inventory_state_machine`, a hypothesis
  stateful test that drives random sequences of every stock operation against an
  inventory and a plain-Python model of it, for any storage backend;
- :class:`FakeClock`: a clock for ``stockkit.open(clock=...)`` that moves only when told.

This package is only for tests. It needs `hypothesis <https://hypothesis.works>`_, which
is an optional dependency of stockkit: install the ``test`` extra
(``pip install "stockkit[test]"``). Importing ``stockkit.testing`` without hypothesis
raises :class:`ImportError`; the rest of stockkit never imports this package.

>>> import datetime as dt
>>> from stockkit.testing import START, FakeClock
>>> clock = FakeClock()
>>> clock.advance(dt.timedelta(hours=1)) - START
datetime.timedelta(seconds=3600)
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import TYPE_CHECKING, Any

if importlib.util.find_spec("hypothesis") is None:
    raise ImportError("stockkit.testing needs hypothesis, an optional dependency of stockkit: "
                      "pip install 'stockkit[test]'")

if TYPE_CHECKING:
    from stockkit.testing import strategies
    from stockkit.testing.clock import START, FakeClock
    from stockkit.testing.statemachine import InventoryModel, inventory_state_machine

__all__ = ["START", "FakeClock", "InventoryModel", "inventory_state_machine", "strategies"]

#: where each public name lives; imported on first use, so that a process that needs one
#: part (a conformance worker process needs none) does not import hypothesis for the rest
_HOMES = {
    "START": "clock",
    "FakeClock": "clock",
    "InventoryModel": "statemachine",
    "inventory_state_machine": "statemachine",
}


def __getattr__(name: str) -> Any:
    if name == "strategies":
        value = importlib.import_module(f"{__name__}.strategies")
    elif name in _HOMES:
        value = getattr(importlib.import_module(f"{__name__}.{_HOMES[name]}"), name)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
