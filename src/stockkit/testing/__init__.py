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

import importlib.util
from typing import TYPE_CHECKING

from stockkit._lazy import lazy_exports

if importlib.util.find_spec("hypothesis") is None:
    raise ImportError("stockkit.testing needs hypothesis, an optional dependency of stockkit: "
                      "pip install 'stockkit[test]'")

if TYPE_CHECKING:
    from stockkit.testing import strategies
    from stockkit.testing.clock import START, FakeClock
    from stockkit.testing.statemachine import InventoryModel, inventory_state_machine

__all__ = ["START", "FakeClock", "InventoryModel", "inventory_state_machine", "strategies"]

# each name is imported on first use, so that a process that needs one part (a
# conformance worker process needs none) does not import hypothesis for the rest
__getattr__, __dir__ = lazy_exports(globals(), {
    "START": "clock",
    "FakeClock": "clock",
    "InventoryModel": "statemachine",
    "inventory_state_machine": "statemachine",
    "strategies": "strategies",
})
