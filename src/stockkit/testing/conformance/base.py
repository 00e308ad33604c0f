"""What every part of the conformance suite relies on: how to get a fresh store, and how
to open it with the plugin that serves it (:func:`open_inventory`, from
:mod:`stockkit.testing.conformance.opening`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar

import pytest

from stockkit.inventory import Inventory
from stockkit.testing.conformance.opening import PLUGINS_ENV, open_inventory

__all__ = ["PLUGINS_ENV", "ConformanceBase", "open_inventory"]


class ConformanceBase:
    """The contract between the conformance suite and a backend under test.

    A backend's test class sets the class attributes below (``plugins`` when a plugin
    serves its URLs) and overrides the fixture :meth:`new_store_url`.
    """

    #: Whether separate processes can open the same store URL and see each other's
    #: changes (False for ``memory://``: its concurrency tests use threads on one
    #: inventory instead of processes).
    shared_between_processes: ClassVar[bool] = True
    #: Whether committed changes survive the process that made them (crash tests run
    #: only for durable backends).
    durable: ClassVar[bool] = True
    #: Importable module names of the plugins that serve the backend's URLs (a module
    #: with a ``stockkit_register_backends`` hook implementation). The suite opens every
    #: inventory without entry-point plugins, so a third-party backend names its plugin
    #: here; stockkit's own backends need none.
    plugins: ClassVar[tuple[str, ...]] = ()

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

    @pytest.fixture(autouse=True)
    def _plugins_in_the_environment(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Pass :attr:`plugins` to :func:`open_inventory`, here and in worker processes."""
        if self.plugins:
            monkeypatch.setenv(PLUGINS_ENV, ",".join(self.plugins))

    @staticmethod
    @contextmanager
    def opened(url: str, **options: Any) -> Iterator[Inventory]:
        """Open an inventory on ``url`` with :func:`open_inventory`, and close it after."""
        inventory = open_inventory(url, **options)
        try:
            yield inventory
        finally:
            inventory.close()
