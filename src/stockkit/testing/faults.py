"""Fault injection: a store wrapper that fails on cue, to test that operations are atomic.

Every operation of :class:`~stockkit.Inventory` runs in one store transaction, so an
exception raised between two of its statements must leave no trace: the transaction
rolls back. :class:`FaultInjectingStore` lets a test prove it. It wraps any
:class:`~stockkit.store.Store`; the transactions it hands out are proxies of the wrapped
store's transactions that count every call of a :class:`~stockkit.store.Transaction`
method (all methods together, over every transaction of the wrapper) and, at the
``fail_at``-th call, raise :class:`InjectedFault` *after* the real call has run, which
is what a crash, a lost connection or a bug between two statements looks like to the
store. With ``fail_at=None`` it only counts, so that a test can first learn how many
calls an operation makes, then fail it after each one in turn and check that nothing
changed (the conformance suite's
:class:`~stockkit.testing.conformance.rollback.RollbackPromises` does this for every
operation on every backend):

>>> import stockkit
>>> inv = stockkit.open("memory://", autoload_plugins=False)
>>> with injected(inv) as counter:                      # fail_at=None: only count
...     _ = inv.create_channel("web", "Web shop", idempotency_key="k1")
>>> counter.log
['get_idempotency', 'insert_channel', 'put_idempotency']
>>> for k in range(1, counter.calls + 1):               # fail after call 1, 2, 3
...     with injected(inv, k) as faulty:
...         try:
...             inv.create_channel("b2b", "B2B portal", idempotency_key="k2")
...         except InjectedFault as fault:
...             print(fault)
injected after store call 1 (get_idempotency)
injected after store call 2 (insert_channel)
injected after store call 3 (put_idempotency)
>>> [c.code for c in inv.channels()]                    # no trace of the failed calls
['web']
>>> inv.create_channel("b2b", "B2B portal", idempotency_key="k2").code   # key not used up
'b2b'

:func:`injected` swaps the store an inventory uses and puts the original back when its
block ends; or wrap a store yourself and use it directly:

>>> from stockkit.backends.memory import MemoryStore
>>> store = FaultInjectingStore(MemoryStore())
>>> with store.transaction() as tx:
...     tx.list_warehouses()
[]
>>> store.calls, store.log
(1, ['list_warehouses'])
>>> store = FaultInjectingStore(MemoryStore(), fail_at=2)
>>> with store.transaction() as tx:
...     first = tx.next_id("x")
...     second = tx.next_id("x")
Traceback (most recent call last):
  ...
stockkit.testing.faults.InjectedFault: injected after store call 2 (next_id)
>>> with store.store.transaction() as tx:   # the faulted transaction was rolled back
...     tx.next_id("x")
1
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from stockkit.store import Store, Transaction

__all__ = ["FaultInjectingStore", "InjectedFault", "injected"]


class InjectedFault(Exception):
    """The failure :class:`FaultInjectingStore` raises.

    Deliberately not a :class:`~stockkit.errors.StockkitError` (nor a
    :class:`~stockkit.errors.TransactionConflict`): nothing in stockkit may catch it as
    an expected refusal or retry it; it must travel up through the transaction, which
    rolls back, to the caller."""


class FaultInjectingStore:
    """A store that raises :class:`InjectedFault` right after the ``fail_at``-th call of a
    transaction method, counted over all its transactions (see the module docstring).

    ``fail_at=None`` only counts. The attributes :attr:`calls`, :attr:`log` and
    :attr:`fired` say what happened. To do something else than raise at that moment,
    subclass it and override :meth:`fault` (the crash suite's writer stalls there so
    that it can be killed in the middle of a transaction). Any other attribute is the
    wrapped store's.
    """

    def __init__(self, store: Store, fail_at: int | None = None) -> None:
        if fail_at is not None and (isinstance(fail_at, bool) or not isinstance(fail_at, int) or fail_at < 1):
            raise ValueError(f"fail_at must be a call number (1, 2, ...) or None to only count, got {fail_at!r}")
        #: The wrapped store.
        self.store = store
        #: The number of the call after which the fault happens (``None``: never).
        self.fail_at = fail_at
        #: Transaction method calls made so far (those that returned).
        self.calls = 0
        #: The names of the methods called, in order.
        self.log: list[str] = []
        #: Whether :meth:`fault` has run.
        self.fired = False

    @contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[Transaction]:
        """A transaction of the wrapped store whose method calls count towards the fault;
        the fault leaves the ``with`` block of the wrapped transaction, which rolls back."""
        with self.store.transaction(write=write) as tx:
            yield _CountingTransaction(tx, self)  # type: ignore[misc]

    def close(self) -> None:
        """Close the wrapped store."""
        self.store.close()

    def fault(self, call: int, method: str) -> None:
        """What happens right after call number ``call`` (of ``method``) when it is the
        ``fail_at``-th: raise :class:`InjectedFault`. Override to do something else."""
        raise InjectedFault(f"injected after store call {call} ({method})")

    def _called(self, method: str) -> None:
        self.calls += 1
        self.log.append(method)
        if self.calls == self.fail_at:
            self.fired = True
            self.fault(self.calls, method)

    def __getattr__(self, name: str) -> Any:
        if name == "store":  # not set yet: no recursion
            raise AttributeError(name)
        return getattr(self.store, name)


class _CountingTransaction:
    """A proxy of a real transaction: each method call runs, then counts."""

    def __init__(self, tx: Transaction, owner: FaultInjectingStore) -> None:
        self._tx = tx
        self._owner = owner

    def __getattr__(self, name: str) -> Any:
        real = getattr(self._tx, name)
        if name.startswith("_") or not callable(real):
            return real
        owner = self._owner

        def counted(*args: Any, **kwargs: Any) -> Any:
            result = real(*args, **kwargs)
            owner._called(name)
            return result

        return counted


@contextmanager
def injected(inventory: Any, fail_at: int | None = None,
             factory: Callable[[Store, int | None], FaultInjectingStore] = FaultInjectingStore,
             ) -> Iterator[FaultInjectingStore]:
    """Run the block with ``inventory``'s store wrapped in a :class:`FaultInjectingStore`
    (made by ``factory``); yield the wrapper, and put the original store back at the end,
    whatever happens."""
    # A test tool may reach into the inventory: Inventory keeps its store in the private
    # attribute ``_store`` and offers no way to swap it, which shop code never needs.
    original = inventory._store
    wrapper = factory(original, fail_at)
    inventory._store = wrapper
    try:
        yield wrapper
    finally:
        inventory._store = original
