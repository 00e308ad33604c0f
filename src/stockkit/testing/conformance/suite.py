"""The whole conformance suite as one class, :class:`BackendConformance` (see
:mod:`stockkit.testing.conformance`)."""

from __future__ import annotations

from stockkit.testing.conformance.concurrency import ConcurrencyPromises
from stockkit.testing.conformance.crash import CrashPromises
from stockkit.testing.conformance.rollback import RollbackPromises
from stockkit.testing.conformance.statemachine import StateMachinePromises

__all__ = ["BackendConformance"]


class BackendConformance(ConcurrencyPromises, CrashPromises, RollbackPromises, StateMachinePromises):
    """Every promise of the suite; subclass it as the module docstring of
    :mod:`stockkit.testing.conformance` shows."""
