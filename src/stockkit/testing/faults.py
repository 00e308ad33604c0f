"""Fault injection for testing atomicity: a store wrapper that fails on cue.

:class:`FaultInjectingStore` wraps any :class:`~stockkit.store.Store`. Inside its
transactions, the ``fail_at``-th call of a transaction method (counted over the store's
life) raises :class:`InjectedFault` right after the real call has run, which is what a
crash or a bug between two statements of an operation looks like to the store. With
``fail_at=None`` it only counts the calls.

>>> from stockkit.backends.memory import MemoryStore
>>> store = FaultInjectingStore(MemoryStore(), fail_at=None)
>>> with store.transaction() as tx:
...     tx.list_warehouses()
[]
>>> store.calls
1
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from stockkit.store import Store, Transaction

__all__ = ["InjectedFault", "FaultInjectingStore", "inject"]


class InjectedFault(Exception):
    """The failure :class:`FaultInjectingStore` raises (deliberately not a
    :class:`~stockkit.errors.StockkitError`, so that nothing handles it as an expected
    refusal)."""


class FaultInjectingStore:
    """A store that raises :class:`InjectedFault` after its ``fail_at``-th transaction
    method call (see the module docstring)."""

    def __init__(self, store: Store, fail_at: int | None) -> None:
        self.store = store
        self.fail_at = fail_at
        #: Transaction method calls made so far.
        self.calls = 0
        #: Whether the fault has been raised.
        self.fired = False

    @contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[Transaction]:
        """A transaction of the wrapped store whose method calls count towards the fault."""
        with self.store.transaction(write=write) as tx:
            yield _CountingTransaction(tx, self)  # type: ignore[misc]

    def close(self) -> None:
        """Close the wrapped store."""
        self.store.close()


class _CountingTransaction:
    def __init__(self, tx: Transaction, owner: FaultInjectingStore) -> None:
        self._tx = tx
        self._owner = owner

    def __getattr__(self, name: str) -> Any:
        real = getattr(self._tx, name)
        if not callable(real):
            return real
        owner = self._owner

        def counted(*args: Any, **kwargs: Any) -> Any:
            result = real(*args, **kwargs)
            owner.calls += 1
            if owner.fail_at is not None and owner.calls == owner.fail_at:
                owner.fired = True
                raise InjectedFault(f"injected after call {owner.calls} ({name})")
            return result

        return counted


def inject(inventory: Any, fail_at: int | None) -> Callable[[], FaultInjectingStore]:
    """Wrap an inventory's store in a :class:`FaultInjectingStore`; return a function that
    puts the original store back and returns the wrapper (for its counts)."""
    # a test tool may reach into the inventory: shop code never swaps stores
    original = inventory._store
    wrapper = FaultInjectingStore(original, fail_at)
    inventory._store = wrapper

    def restore() -> FaultInjectingStore:
        inventory._store = original
        return wrapper

    return restore
