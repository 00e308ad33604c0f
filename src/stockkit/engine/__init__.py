"""The allocation engine: which warehouse serves which order line, for a whole wave of
orders at once, in arrays, exactly as a first-come-first-served clerk would decide.

:func:`allocate_arrays` is the array-level entry point; see ``docs/engine.md``.
"""

from __future__ import annotations

from stockkit.engine.api import allocate_arrays
from stockkit.engine.explanation import CandidateStep, LineExplanation, explain
from stockkit.engine.index import StockIndex
from stockkit.engine.policy import (
    AllocationArrays,
    Fill,
    Policy,
    Reason,
    RouteOrder,
    ShipComplete,
)

__all__ = [
    "AllocationArrays",
    "CandidateStep",
    "Fill",
    "LineExplanation",
    "Policy",
    "Reason",
    "RouteOrder",
    "ShipComplete",
    "StockIndex",
    "allocate_arrays",
    "explain",
]
