"""The conformance suite: the promises every stockkit storage backend must keep.

A backend author runs it against their backend by subclassing :class:`BackendConformance`
in a test module and overriding the ``new_store_url`` fixture::

    import pytest
    from stockkit.testing.conformance import BackendConformance

    class TestMyBackend(BackendConformance):
        plugins = ("mybackend.plugin",)   # importable modules serving your URL scheme
        shared_between_processes = True   # processes opening one URL share its state
        durable = True                    # committed changes survive a crash

        @pytest.fixture
        def new_store_url(self, tmp_path):
            urls = []
            def make():
                urls.append(f"mybackend://{tmp_path}/{len(urls)}")
                return urls[-1]
            yield make
            # drop the stores in ``urls`` here

A backend that keeps nothing once its process ends (like ``memory://``) has no crash to
survive: its test class combines the other parts instead,
``class TestMine(ConcurrencyPromises, RollbackPromises, StateMachinePromises)``, with
``shared_between_processes = False`` and ``durable = False``.

The parts: :class:`~stockkit.testing.conformance.concurrency.ConcurrencyPromises` (hot
SKU, variable quantities, deadlock freedom, no lost update, idempotency),
:class:`~stockkit.testing.conformance.rollback.RollbackPromises` (an operation
interrupted after any statement leaves no trace),
:class:`~stockkit.testing.conformance.crash.CrashPromises` (a killed writer loses nothing
acknowledged) and
:class:`~stockkit.testing.conformance.statemachine.StateMachinePromises` (random sequences
of every operation agree with a plain-Python model). Each part's tests carry its class name
as a keyword, so ``pytest -k StateMachinePromises`` runs one part and
``pytest -k "not CrashPromises"`` leaves one out. stockkit runs the suite against its memory, SQLite and PostgreSQL
backends, the last at READ COMMITTED and at SERIALIZABLE isolation.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from stockkit._lazy import lazy_exports

if TYPE_CHECKING:
    from stockkit.testing.conformance.base import ConformanceBase
    from stockkit.testing.conformance.concurrency import ConcurrencyPromises
    from stockkit.testing.conformance.crash import CrashPromises
    from stockkit.testing.conformance.rollback import RollbackPromises
    from stockkit.testing.conformance.statemachine import StateMachinePromises
    from stockkit.testing.conformance.suite import BackendConformance

__all__ = [
    "BackendConformance",
    "ConcurrencyPromises",
    "ConformanceBase",
    "CrashPromises",
    "RollbackPromises",
    "StateMachinePromises",
]

# each name is imported on first use, so that the worker processes the suite starts
# (which import only stockkit.testing.conformance.opening) do not import pytest and
# hypothesis each time
__getattr__, __dir__ = lazy_exports(globals(), {
    "BackendConformance": "suite",
    "ConcurrencyPromises": "concurrency",
    "ConformanceBase": "base",
    "CrashPromises": "crash",
    "RollbackPromises": "rollback",
    "StateMachinePromises": "statemachine",
})
