"""What every part of the conformance suite relies on: how to get a fresh store."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar

import pytest

import stockkit
from stockkit.inventory import Inventory

__all__ = ["ConformanceBase"]


class ConformanceBase:
    """The contract between the conformance suite and a backend under test.

    A backend's test class sets the two class attributes and overrides the fixture
    :meth:`new_store_url`.
    """

    #: Whether separate processes can open the same store URL and see each other's
    #: changes (False for ``memory://``: its concurrency tests use threads on one
    #: inventory instead of processes).
    shared_between_processes: ClassVar[bool] = True
    #: Whether committed changes survive the process that made them (crash tests run
    #: only for durable backends).
    durable: ClassVar[bool] = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Give every test a class defines its class's name as a pytest keyword (an
        attribute of the test function, which ``-k`` matches), so that ``pytest -k
        ConcurrencyPromises`` selects one part of the suite in any test class made of it."""
        super().__init_subclass__(**kwargs)
        for name, member in vars(cls).items():
            if name.startswith("test") and callable(member):
                setattr(member, cls.__name__, True)

    @pytest.fixture
    def new_store_url(self, tmp_path: Path) -> Iterator[Callable[[], str]]:
        """Yield a function that returns the URL of a new, empty store each time it is
        called; clean the stores up after the ``yield``. Override it."""
        raise NotImplementedError("a conformance test class must override the new_store_url fixture")
        yield  # pragma: no cover

    @staticmethod
    @contextmanager
    def opened(url: str, **options: Any) -> Iterator[Inventory]:
        """Open an inventory on ``url`` without entry-point plugins, and close it after."""
        inventory = stockkit.open(url, autoload_plugins=False, **options)
        try:
            yield inventory
        finally:
            inventory.close()
