"""Promises under concurrency: never oversell, never deadlock, never lose an update, and
one effect per idempotency key, however many writers race.

Each test runs eight writers at once: eight processes that each open the store URL, or,
for backends whose state processes do not share (``memory://``), eight threads on one
inventory.
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from stockkit.errors import IdempotencyConflict, UnknownOrder
from stockkit.inventory import Inventory
from stockkit.model import LedgerKind
from stockkit.testing.conformance.base import ConformanceBase
from stockkit.testing.conformance.workers import (
    adjust_repeatedly,
    book_one_unit_repeatedly,
    book_random_orders,
    close_worker_inventories,
    place_with_key,
    process_pool,
    run_concurrently,
)

__all__ = ["ConcurrencyPromises"]

WRITERS = 8


def _setup(inv: Inventory, skus: list[str], warehouses: int, units: int) -> None:
    """Active warehouses w0, w1, ... linked to channel "web", ``units`` of each SKU at each."""
    inv.create_channel("web", "Web")
    for n in range(warehouses):
        inv.create_warehouse(f"w{n}", f"Warehouse {n}", latitude=50.0 + n, longitude=5.0 + n, active=True)
        inv.link_warehouse("web", f"w{n}", priority=n)
        for sku in skus:
            inv.set_level(sku, f"w{n}", on_hand=units)


def _booked_in_ledger(inv: Inventory, sku: str | None = None) -> int:
    return sum(e.booked for e in inv.ledger(sku, kinds=[LedgerKind.BOOKED]))


class ConcurrencyPromises(ConformanceBase):
    """Eight concurrent writers never break the inventory's promises."""

    @pytest.fixture
    def writers(self) -> Iterator[concurrent.futures.ProcessPoolExecutor | None]:
        """A pool of eight worker processes, or ``None`` where threads stand in for them."""
        if not self.shared_between_processes:
            yield None
            return
        pool = process_pool(WRITERS)
        try:
            yield pool
        finally:
            close_worker_inventories(pool, WRITERS)
            pool.shutdown()

    @contextmanager
    def _race(
        self, new_store_url: Callable[[], str], pool: concurrent.futures.ProcessPoolExecutor | None
    ) -> Iterator[tuple[Inventory, Callable[..., list[Any]]]]:
        """Open a new store; yield it with a function that runs work on all writers."""
        url = new_store_url()
        with self.opened(url) as inv:
            def race(work: Callable[..., Any], arguments: list[tuple[Any, ...]]) -> list[Any]:
                if pool is None:
                    return run_concurrently(work, arguments, shared=inv)
                return run_concurrently(work, arguments, url=url, pool=pool)

            yield inv, race

    def test_a_hot_sku_is_never_oversold(self, new_store_url, writers):
        """Stock 100, eight writers each trying 50 one-unit bookings: exactly 100 succeed,
        300 are refused with InsufficientStock, no other error, and the ledger books 100;
        over 20 seeds."""
        for seed in range(20):
            with self._race(new_store_url, writers) as (inv, race):
                _setup(inv, ["HOT"], warehouses=1, units=100)
                results = race(book_one_unit_repeatedly,
                               [("web", "HOT", f"s{seed}-w{n}", 50, seed * 100 + n) for n in range(WRITERS)])

                errors = [error for _, _, errors in results for error in errors]
                assert errors == [], f"seed {seed}: {len(errors)} errors, first: {errors[:3]}"
                assert sum(booked for booked, _, _ in results) == 100, f"seed {seed}"
                assert sum(refused for _, refused, _ in results) == 300, f"seed {seed}"
                assert _booked_in_ledger(inv, "HOT") == 100
                assert inv.available("HOT") == 0
                assert inv.verify().ok

    def test_variable_quantities_never_oversell_and_every_refusal_is_justified(self, new_store_url, writers):
        """Stock 1,000 over three warehouses, eight writers x 200 orders of 1-7 units: the
        bookings never exceed the stock, the ledger agrees, and every refusal is justified
        (stock only goes down here, so a refused quantity exceeds what is left at the end)."""
        with self._race(new_store_url, writers) as (inv, race):
            inv.create_channel("web", "Web")
            for n, units in enumerate((500, 300, 200)):
                inv.create_warehouse(f"w{n}", f"W{n}", latitude=50.0, longitude=5.0 + n, active=True)
                inv.link_warehouse("web", f"w{n}", priority=n)
                inv.set_level("SKU", f"w{n}", on_hand=units)

            results = race(book_random_orders,
                           [("web", ["SKU"], f"w{n}", 200, (1, 1), (1, 7), n) for n in range(WRITERS)])

            assert [error for _, _, errors in results for error in errors] == []
            booked = sum(q for orders, _, _ in results for _, lines in orders for _, q in lines)
            assert booked <= 1_000
            assert _booked_in_ledger(inv, "SKU") == booked == inv.stock("SKU").booked
            left = inv.available("SKU")
            assert left == 1_000 - booked
            for requested, available in (r for _, refusals, _ in results for r in refusals):
                assert available < requested, "refused although the channel could supply it"
                assert left < requested, "refused although more than that is still available"
            assert inv.verify().ok

    def test_multi_line_orders_never_deadlock_and_stay_all_or_nothing(self, new_store_url, writers):
        """20 SKUs x 3 warehouses, eight writers x 200 orders of 2-6 lines in random SKU
        order: no deadlock or conflict reaches the caller, and every order is booked whole
        or not at all."""
        skus = [f"SKU-{n:02}" for n in range(20)]
        with self._race(new_store_url, writers) as (inv, race):
            _setup(inv, skus, warehouses=3, units=30)

            results = race(book_random_orders,
                           [("web", skus, f"w{n}", 200, (2, 6), (1, 3), 1_000 + n) for n in range(WRITERS)])

            assert [error for _, _, errors in results for error in errors] == []
            placed = {order_id: lines for orders, _, _ in results for order_id, lines in orders}
            refused = WRITERS * 200 - len(placed)
            assert placed and refused, "the workload should both book and refuse orders"
            for order_id, lines in placed.items():
                allocated = inv.get_order(order_id)
                for number, (_, quantity) in enumerate(lines, start=1):
                    assert sum(allocated.allocated(str(number)).values()) == quantity
            for n in range(WRITERS):
                for k in range(200):
                    if f"w{n}-{k}" not in placed:
                        with pytest.raises(UnknownOrder):
                            inv.get_order(f"w{n}-{k}")
            assert inv.verify().ok

    def test_concurrent_adjustments_never_lose_an_update(self, new_store_url, writers):
        """Eight writers x 1,000 signed adjustments: the final on-hand stock is the initial
        one plus every committed delta, which is also what the ledger says."""
        with self._race(new_store_url, writers) as (inv, race):
            _setup(inv, ["SKU"], warehouses=1, units=100)

            results = race(adjust_repeatedly, [("SKU", "w0", 1_000, n) for n in range(WRITERS)])

            errors = [error for _, errors in results for error in errors]
            assert errors == [], f"{len(errors)} errors, first: {errors[:3]}"
            committed = sum(delta for deltas, _ in results for delta in deltas)
            assert inv.level("SKU", "w0").on_hand == 100 + committed
            assert sum(e.on_hand for e in inv.ledger("SKU", kinds=[LedgerKind.ADJUSTED])) == committed
            assert inv.verify().ok

    def test_one_idempotency_key_has_one_effect(self, new_store_url, writers):
        """16 concurrent and then 100 sequential calls with one key book the order once and
        all return the same result; the same key with another payload is a conflict that
        writes nothing; and all of it holds after the store is opened again."""
        url = new_store_url()
        call = ("o-1", "web", [("SKU", 3)], "checkout-o-1")
        with self.opened(url) as inv:
            _setup(inv, ["SKU"], warehouses=2, units=2)
            if writers is None:
                results = run_concurrently(place_with_key, [call] * 16, shared=inv)
            else:
                results = run_concurrently(place_with_key, [call] * 16, url=url, pool=writers)
            results += [place_with_key(inv, *call) for _ in range(100)]

            first = results[0]
            assert not isinstance(first, str), first
            assert all(result == first for result in results)
            assert inv.stock("SKU").booked == 3
            assert len(inv.ledger("SKU", kinds=[LedgerKind.BOOKED])) == len(first.bookings)
            entries = len(inv.ledger())

            with pytest.raises(IdempotencyConflict):
                inv.place_order("o-1", "web", [("SKU", 4)], idempotency_key="checkout-o-1")
            assert len(inv.ledger()) == entries
        if not self.durable:
            return
        if writers is not None:
            close_worker_inventories(writers, WRITERS)
            (again,) = run_concurrently(place_with_key, [call], url=url, pool=writers)
        else:
            with self.opened(url) as reopened:
                again = place_with_key(reopened, *call)
        assert again == first
        with self.opened(url) as inv:
            assert len(inv.ledger()) == entries
