"""The conformance suite: the promises every stockkit storage backend must keep.

A backend author runs it against their backend by subclassing :class:`BackendConformance`
in a test module and overriding the ``new_store_url`` fixture::

    import pytest
    from stockkit.testing.conformance import BackendConformance

    class TestMyBackend(BackendConformance):
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

stockkit runs the same suite against its memory, SQLite and PostgreSQL backends.
"""

from __future__ import annotations

from stockkit.testing.conformance.base import ConformanceBase
from stockkit.testing.conformance.concurrency import ConcurrencyPromises
from stockkit.testing.conformance.crash import CrashPromises
from stockkit.testing.conformance.rollback import RollbackPromises

__all__ = ["BackendConformance", "ConformanceBase"]


class BackendConformance(ConcurrencyPromises, CrashPromises, RollbackPromises):
    """Every promise of the suite; subclass it as the module docstring shows."""
