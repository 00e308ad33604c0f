"""Promises under concurrency: never oversell, never refuse without cause, never deadlock,
never lose an update, and one effect per idempotency key, however many writers race.

Each race runs eight writers at once (sixteen for the idempotency key): separate
processes that each open the store URL, or, for backends whose state processes do not
share (``memory://``), threads on one inventory. Every writer opens its store first and
all start together, so they really contend. Writers report every error they meet; any
error other than the refusal the promise allows (a transient conflict or deadlock that
escaped the retries included) fails the test.

Select these tests with ``pytest -k Concurrency`` (each test function carries the
keyword ``ConcurrencyPromises``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

import pytest

from stockkit.errors import IdempotencyConflict, UnknownOrder
from stockkit.inventory import Inventory
from stockkit.model import LedgerKind, Placement
from stockkit.testing.conformance.base import ConformanceBase
from stockkit.testing.conformance.workers import (
    ProcessWriters,
    adjust_repeatedly,
    book_one_unit_repeatedly,
    book_random_orders,
    place_with_key,
    run_in_new_process,
    run_in_threads,
)

__all__ = ["ConcurrencyPromises"]

#: Concurrent writers in each race.
WRITERS = 8
#: Concurrent callers repeating one idempotency key.
KEY_CALLERS = 16
#: Seeds of the hot-SKU race.
HOT_SKU_SEEDS = 20

F = TypeVar("F", bound=Callable[..., Any])


def _promise(test: F) -> F:
    """Give a test the keyword ``ConcurrencyPromises`` (``pytest -k`` matches names set
    on test functions), as the tests run under the backend's own class name."""
    test.ConcurrencyPromises = True  # type: ignore[attr-defined]
    return test


def _setup(inv: Inventory, skus: Sequence[str], stock: Sequence[int]) -> None:
    """Channel "web" served by active warehouses w0, w1, ... (link priority in that
    order), with ``stock[n]`` units of each SKU on hand at wn."""
    inv.create_channel("web", "Web")
    for n, units in enumerate(stock):
        inv.create_warehouse(f"w{n}", f"Warehouse {n}", latitude=50.0 + n, longitude=5.0 + n, active=True)
        inv.link_warehouse("web", f"w{n}", priority=n)
        for sku in skus:
            inv.set_level(sku, f"w{n}", on_hand=units)


def _errors(results: list[Any]) -> list[str]:
    return [error for result in results for error in result[-1]]


def _check_refusals(inv: Inventory, refusals: list[Any], placed: set[str]) -> None:
    """Every refusal names a line of the order, says the channel had less than the line
    asks, and is borne out by the store: stock only goes down in these races, so the
    channel's availability read just after the refusal is at most what it was at the
    refusal; if that is still enough for the line, the refusal had no cause. A refused
    order left nothing: no order, no ledger entry."""
    assert refusals, "the workload should refuse some orders"
    booked_orders = {e.order_id for e in inv.ledger(kinds=[LedgerKind.BOOKED])}
    assert booked_orders == placed, "the ledger's booked orders differ from the orders placed"
    for order_id, lines, sku, requested, available, warehouse, after in refusals:
        what = f"refusal of {order_id} {lines}: sku={sku} requested={requested} available={available} " \
               f"warehouse={warehouse}, {after} available just after"
        assert sku is not None and requested is not None and available is not None, what
        assert warehouse is None, f"{what}: refused by one warehouse, not for lack of stock in the channel"
        assert (sku, requested) in lines, f"{what}: the refusal names no line of the order"
        assert available < requested, f"{what}: refused although the channel said it could supply it"
        assert after is not None and after < requested, f"{what}: refused although the channel could supply it"
        assert after <= available, f"{what}: more available after the refusal than at it, yet stock only fell"
        assert order_id not in booked_orders, what
        with pytest.raises(UnknownOrder):
            inv.get_order(order_id)


class ConcurrencyPromises(ConformanceBase):
    """Concurrent writers never break the inventory's promises: a hot SKU is never
    oversold, a refusal always has a cause, multi-line orders never deadlock and stay
    all or nothing, no adjustment is lost, and an idempotency key has one effect."""

    @pytest.fixture(scope="class")
    @classmethod
    def writers(cls) -> Iterator[ProcessWriters | None]:
        """One pool of worker processes for the test class, or ``None`` where the store
        is not shared between processes and threads stand in for them."""
        if not cls.shared_between_processes:
            yield None
            return
        pool = ProcessWriters(max(WRITERS, KEY_CALLERS))
        try:
            yield pool
        finally:
            pool.close()

    @staticmethod
    def _race(
        writers: ProcessWriters | None, url: str, inv: Inventory, work: Callable[..., Any],
        arguments: list[tuple[Any, ...]],
    ) -> list[Any]:
        """Run ``work`` once per argument tuple on concurrent writers of the store at
        ``url`` (``inv`` is the test's own inventory on it); return the results."""
        if writers is None:
            return run_in_threads(inv, work, arguments)
        return writers.run(url, work, arguments)

    @_promise
    @pytest.mark.parametrize("seed", range(HOT_SKU_SEEDS))
    def test_a_hot_sku_is_never_oversold(self, new_store_url, writers, seed):
        """One warehouse, one channel, 100 units of one SKU; eight writers each try 50
        one-unit orders (distinct ids, order of attempts and small pauses set by the
        seed): exactly 100 are placed and 300 refused with InsufficientStock, no other
        error; the ledger books exactly one unit for each placed order and nothing else;
        verify() finds nothing wrong."""
        url = new_store_url()
        with self.opened(url) as inv:
            _setup(inv, ["HOT"], [100])

            results = self._race(writers, url, inv, book_one_unit_repeatedly,
                                 [("web", "HOT", f"s{seed}-w{n}", 50, seed * 1_000 + n) for n in range(WRITERS)])

            errors = _errors(results)
            assert errors == [], f"{len(errors)} unexpected errors, first: {errors[:3]}"
            placed = [order_id for ids, _, _ in results for order_id in ids]
            assert len(placed) == 100, "placed orders"
            assert sum(refused for _, refused, _ in results) == 300, "refused orders"
            entries = inv.ledger("HOT", kinds=[LedgerKind.BOOKED])
            assert sum(e.booked for e in entries) == 100
            assert sorted(e.order_id for e in entries) == sorted(placed)
            assert inv.stock("HOT").booked == 100
            assert inv.available("HOT", channel="web") == 0
            report = inv.verify()
            assert report.ok, report

    @_promise
    def test_variable_quantities_never_oversell_and_every_refusal_is_justified(self, new_store_url, writers):
        """1,000 units over three warehouses (500, 300, 200) of one channel; eight writers
        x 200 orders of 1-7 units: the units booked never exceed 1,000, nor any
        warehouse's stock at any point of the ledger (replayed in sequence order); each
        placed order is booked in full in the ledger and a refused one not at all; every
        refusal is justified: the error says the channel had fewer units than asked, and
        the channel's availability read just after the refusal (stock only falls here, so
        at most what it was at the refusal) is below the quantity asked and at most what
        the error reported; verify() finds nothing wrong."""
        url = new_store_url()
        stock = {"w0": 500, "w1": 300, "w2": 200}
        with self.opened(url) as inv:
            _setup(inv, ["SKU"], list(stock.values()))

            results = self._race(writers, url, inv, book_random_orders,
                                 [("web", ["SKU"], f"w{n}", 200, (1, 1), (1, 7), n) for n in range(WRITERS)])

            errors = _errors(results)
            assert errors == [], f"{len(errors)} unexpected errors, first: {errors[:3]}"
            orders = {order_id: lines for placed, _, _ in results for order_id, lines in placed}
            booked = sum(q for lines in orders.values() for _, q in lines)
            assert booked <= 1_000
            entries = sorted(inv.ledger("SKU", kinds=[LedgerKind.BOOKED]), key=lambda e: e.seq)
            running = dict.fromkeys(stock, 0)
            per_order: dict[str, int] = {}
            for entry in entries:
                running[entry.warehouse] += entry.booked
                assert running[entry.warehouse] <= stock[entry.warehouse], f"oversold at ledger entry {entry}"
                per_order[entry.order_id] = per_order.get(entry.order_id, 0) + entry.booked
            assert per_order == {order_id: sum(q for _, q in lines) for order_id, lines in orders.items()}
            assert sum(running.values()) == booked == inv.stock("SKU").booked
            for code, units in stock.items():
                assert inv.level("SKU", code).booked == running[code] <= units
            assert inv.available("SKU", channel="web") == 1_000 - booked
            _check_refusals(inv, [r for _, refusals, _ in results for r in refusals], set(orders))
            report = inv.verify()
            assert report.ok, report

    @_promise
    def test_multi_line_orders_never_deadlock_and_stay_all_or_nothing(self, new_store_url, writers):
        """20 SKUs x 3 warehouses of 75 units each; eight writers x 200 orders of 2-6 lines
        (1-3 units, distinct SKUs in random order, so writers lock rows in clashing
        orders): no deadlock, conflict or other error reaches the caller; every placed
        order is booked in full, line by line, and every refused order has no order and
        no ledger entry, and its refusal is justified; the bookings per SKU add up to the
        placed lines; verify() finds nothing wrong."""
        skus = [f"SKU-{n:02}" for n in range(20)]
        url = new_store_url()
        with self.opened(url) as inv:
            _setup(inv, skus, [75, 75, 75])

            results = self._race(writers, url, inv, book_random_orders,
                                 [("web", skus, f"w{n}", 200, (2, 6), (1, 3), 1_000 + n) for n in range(WRITERS)])

            errors = _errors(results)
            assert errors == [], f"{len(errors)} unexpected errors, first: {errors[:3]}"
            orders = {order_id: lines for placed, _, _ in results for order_id, lines in placed}
            assert orders, "the workload should place some orders"
            per_sku = dict.fromkeys(skus, 0)
            for order_id, lines in orders.items():
                placement = inv.get_order(order_id)
                assert [(line.sku, line.quantity) for line in placement.order.lines] == lines, order_id
                for line in placement.order.lines:
                    assert sum(placement.allocated(line.line_id).values()) == line.quantity, order_id
                    per_sku[line.sku] += line.quantity
            for sku in skus:
                assert inv.stock(sku).booked == per_sku[sku] <= 225, sku
            _check_refusals(inv, [r for _, refusals, _ in results for r in refusals], set(orders))
            report = inv.verify()
            assert report.ok, report

    @_promise
    def test_concurrent_adjustments_never_lose_an_update(self, new_store_url, writers):
        """100 units on hand; eight writers x 1,000 adjustments of -5..+5 (a decrement may
        be refused with InsufficientStock, and only when it exceeds what is available):
        the final on-hand quantity is 100 plus every committed delta, the ledger holds
        exactly one adjusted entry per committed call and they add up to the same;
        verify() finds nothing wrong."""
        url = new_store_url()
        with self.opened(url) as inv:
            _setup(inv, ["SKU"], [100])

            results = self._race(writers, url, inv, adjust_repeatedly,
                                 [("SKU", "w0", 1_000, 7_000 + n) for n in range(WRITERS)])

            errors = _errors(results)
            assert errors == [], f"{len(errors)} unexpected errors, first: {errors[:3]}"
            deltas = [delta for committed, _, _ in results for delta in committed]
            for delta, requested, available in (r for _, refused, _ in results for r in refused):
                assert delta < 0 and requested == -delta and available is not None and available < requested, \
                    f"adjustment by {delta} refused with requested={requested} available={available}"
            assert inv.level("SKU", "w0").on_hand == 100 + sum(deltas)
            entries = inv.ledger("SKU", kinds=[LedgerKind.ADJUSTED])
            assert len(entries) == len(deltas)
            assert sorted(e.on_hand for e in entries) == sorted(deltas)
            report = inv.verify()
            assert report.ok, report

    @_promise
    def test_one_idempotency_key_has_one_effect(self, new_store_url, writers):
        """Sixteen concurrent callers, then 100 sequential ones, place the same order under
        one key: all get the same Placement and the order is booked once (one set of
        booked ledger entries); the same key with another payload is IdempotencyConflict
        and writes nothing; and where processes share the store, after the inventory is
        closed a new process opening the URL repeats the call and gets the same result,
        still with one effect, and the other payload is still refused."""
        url = new_store_url()
        call = ("o-1", "web", [("SKU", 3)], "checkout-o-1")
        with self.opened(url) as inv:
            _setup(inv, ["SKU"], [2, 2])  # 3 units split over both warehouses

            results = self._race(writers, url, inv, place_with_key, [call] * KEY_CALLERS)
            results += [place_with_key(inv, *call) for _ in range(100)]

            first = results[0]
            assert isinstance(first, Placement), first
            assert all(result == first for result in results), [r for r in results if r != first][:3]
            assert sorted((b.warehouse, b.quantity) for b in first.bookings) == [("w0", 2), ("w1", 1)]
            assert inv.get_order("o-1") == first

            def effects() -> tuple[Any, ...]:
                return inv.ledger(), inv.bookings(include_expired=True), inv.stock("SKU")

            before = effects()
            booked = [e for e in before[0] if e.kind is LedgerKind.BOOKED]
            assert sorted((e.order_id, e.warehouse, e.booked) for e in booked) == [("o-1", "w0", 2), ("o-1", "w1", 1)]
            assert inv.stock("SKU").booked == 3

            with pytest.raises(IdempotencyConflict):
                inv.place_order("o-1", "web", [("SKU", 4)], idempotency_key="checkout-o-1")
            with pytest.raises(IdempotencyConflict):
                inv.place_order("o-2", "web", [("SKU", 1)], idempotency_key="checkout-o-1")
            assert effects() == before, "a refused payload changed the store"

        if not self.shared_between_processes:
            return  # nothing outlives the inventory: no restart to survive
        again = run_in_new_process(url, place_with_key, call)
        assert again == first
        with self.opened(url) as inv:
            assert effects() == before
            with pytest.raises(IdempotencyConflict):
                inv.place_order("o-1", "web", [("SKU", 4)], idempotency_key="checkout-o-1")
            assert effects() == before
