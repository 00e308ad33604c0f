"""Transient conflicts reported by a store are retried; the caller sees one clean result."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

import stockkit
from stockkit import inventory as inventory_module
from stockkit.backends.memory import MemoryStore, MemoryTransaction
from stockkit.errors import TransactionConflict


class ConflictingStore(MemoryStore):
    """A memory store whose first ``conflicts`` write transactions fail at commit, as a
    serialization failure would."""

    def __init__(self, conflicts: int) -> None:
        super().__init__()
        self.conflicts = conflicts
        self.attempts = 0

    @contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[MemoryTransaction]:
        with super().transaction(write=write) as tx:
            yield tx
            if write:
                self.attempts += 1
                if self.attempts <= self.conflicts:
                    raise TransactionConflict("could not serialize access (simulated)")


def open_on(store: MemoryStore) -> stockkit.Inventory:
    class Plugin:
        @stockkit.hookimpl
        def stockkit_register_backends(self, register):
            register("conflicting", lambda url: store)

    return stockkit.open("conflicting://", plugins=[Plugin()], autoload_plugins=False)


def test_a_transaction_that_meets_conflicts_is_run_again_until_it_commits():
    store = ConflictingStore(conflicts=3)
    inv = open_on(store)

    inv.create_warehouse("w", "W")
    inv.set_level("A", "w", on_hand=5)

    assert store.attempts == 5  # three conflicts, then two commits
    assert inv.level("A", "w").on_hand == 5
    assert len(inv.ledger()) == 1  # the rolled-back attempts left nothing
    assert inv.verify().ok


def test_a_conflict_that_never_ends_reaches_the_caller_and_changes_nothing(monkeypatch):
    monkeypatch.setattr(inventory_module, "_RETRY_FOR", 0.05)
    store = ConflictingStore(conflicts=10**9)
    inv = open_on(store)

    with pytest.raises(TransactionConflict):
        inv.create_warehouse("w", "W")

    assert store.attempts > 1
    assert inv.warehouses() == []
