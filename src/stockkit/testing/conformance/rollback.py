"""Atomicity: an operation interrupted after any of its statements leaves no trace.

For every mutating operation of :class:`~stockkit.Inventory`, the suite builds a small
stocked shop (:func:`build_scene`) on a reference store and counts the store calls the
operation makes there (:class:`~stockkit.testing.faults.FaultInjectingStore` with
``fail_at=None``). On a second store built the same way it then runs the operation with
a fault injected after the first call, after the second, ... after the last one. After
each interrupted run the shop must look exactly as before (:func:`scene_snapshot`:
everything the inventory shows) and ``verify()`` must hold. Finally the operation runs
without a fault under the idempotency key the interrupted runs used: it must do its work
(the key was not used up), return what it returned on the reference store and leave the
same state (so no hidden state, such as an id sequence, kept a trace either), and a
repeat under the key returns the same and changes nothing.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from typing import Any

import attrs
import pytest

from stockkit.errors import UnknownOrder
from stockkit.inventory import Inventory
from stockkit.model import Placement
from stockkit.testing.clock import FakeClock
from stockkit.testing.conformance.base import ConformanceBase
from stockkit.testing.faults import InjectedFault, injected

__all__ = ["EXPECTED", "OPERATIONS", "RollbackPromises", "build_scene", "scene_snapshot"]

_ORDERS = ("o1", "h1", "h2", "new")


def build_scene(inv: Inventory, clock: FakeClock) -> None:
    """A small shop with something of every kind for the operations to act on: two active
    warehouses linked to channel ``web`` and an inactive one, a product with a SKU, an
    order split over two warehouses with one line shipped, an unexpired hold, an expired
    (unswept) one, a transfer in transit, an open replenishment, and free stock of ``A``
    at both active warehouses (so a new order splits)."""
    inv.create_warehouse("a", "A", latitude=1.0, longitude=1.0, active=True)
    inv.create_warehouse("b", "B", latitude=2.0, longitude=2.0, active=True)
    inv.create_warehouse("c", "C", latitude=3.0, longitude=3.0)
    inv.create_channel("web", "Web")
    inv.link_warehouse("web", "a", priority=0)
    inv.link_warehouse("web", "b", priority=1)
    inv.create_product("p", "Product", status="approved")
    inv.add_sku("p", "A")
    inv.set_level("A", "a", on_hand=5, safety=1)
    inv.set_level("A", "b", on_hand=10)
    inv.set_level("B", "b", on_hand=4)
    inv.place_order("o1", "web", [("A", 6), ("B", 1)])  # A splits: 4 at a, 2 at b
    inv.ship("o1", "2", "b", 1, shipment_id="S-1")
    inv.hold("h1", "web", [("A", 1)], ttl=dt.timedelta(hours=1))  # at b
    inv.hold("h2", "web", [("B", 1)], ttl=dt.timedelta(minutes=5))  # at b
    inv.transfer("A", "b", "a", 2, transfer_id="T-1")
    inv.add_replenishment("A", "a", 7, dt.date(2030, 1, 1), replenishment_id="R-1")
    inv.adjust("A", "a", 3, "found in a corner")  # A: 3 available at a, 5 at b
    clock.advance(dt.timedelta(minutes=10))  # h2 has expired, h1 has not


def scene_snapshot(inv: Inventory) -> tuple[Any, ...]:
    """Everything the inventory shows: levels (search_skus), warehouses, channels and
    their links, products, SKUs, the ledger, bookings (expired holds included),
    replenishments (closed ones included), transfers, shipments, and the scene's orders."""
    orders: list[Placement | None] = []
    for order_id in _ORDERS:
        try:
            orders.append(inv.get_order(order_id))
        except UnknownOrder:
            orders.append(None)
    return (
        inv.search_skus(),
        inv.warehouses(),
        [(c, inv.channel_links(c.code)) for c in inv.channels()],
        inv.products(),
        inv.skus(),
        inv.ledger(),
        inv.bookings(include_expired=True),
        inv.replenishments(open_only=False),
        inv.transfers(),
        inv.shipments(),
        orders,
    )


def _without_ledger_numbers(snapshot: tuple[Any, ...]) -> tuple[Any, ...]:
    """A snapshot with the ledger's sequence numbers left out (their order is kept).

    Used only to compare two stores with each other: a database may hand out numbers of
    an identity column to transactions that then roll back (PostgreSQL does), so the
    same entries can carry other numbers on two stores."""
    ledger = [attrs.evolve(e, seq=0) for e in snapshot[5]]
    return (*snapshot[:5], ledger, *snapshot[6:])


#: Every mutating operation, by name: ``call(inventory, idempotency_key)``.
OPERATIONS: dict[str, Callable[[Inventory, str | None], Any]] = {
    "create_warehouse": lambda inv, key: inv.create_warehouse(
        "d", "D", latitude=3.0, longitude=3.0, active=True, idempotency_key=key),
    "update_warehouse": lambda inv, key: inv.update_warehouse("a", city="Utrecht", idempotency_key=key),
    "activate_warehouse": lambda inv, key: inv.activate_warehouse("c", idempotency_key=key),
    "deactivate_warehouse": lambda inv, key: inv.deactivate_warehouse("b", idempotency_key=key),
    "delete_warehouse": lambda inv, key: inv.delete_warehouse("c", idempotency_key=key),
    "delete_warehouse_force_stocked": lambda inv, key: inv.delete_warehouse("b", force=True, idempotency_key=key),
    "delete_warehouse_force_incoming": lambda inv, key: inv.delete_warehouse("a", force=True, idempotency_key=key),
    "create_channel": lambda inv, key: inv.create_channel("b2b", "B2B", idempotency_key=key),
    "link_warehouse": lambda inv, key: inv.link_warehouse("web", "c", priority=5, idempotency_key=key),
    "unlink_warehouse": lambda inv, key: inv.unlink_warehouse("web", "b", idempotency_key=key),
    "create_product": lambda inv, key: inv.create_product("q", "Q", idempotency_key=key),
    "update_product": lambda inv, key: inv.update_product("p", name="Renamed", idempotency_key=key),
    "add_sku": lambda inv, key: inv.add_sku("p", "B", idempotency_key=key),
    "update_sku": lambda inv, key: inv.update_sku("p", "A", published=False, idempotency_key=key),
    "set_level": lambda inv, key: inv.set_level("A", "a", on_hand=9, safety=2, idempotency_key=key),
    "set_level_new": lambda inv, key: inv.set_level("C", "c", on_hand=2, idempotency_key=key),
    "adjust": lambda inv, key: inv.adjust("A", "b", -3, "damaged", idempotency_key=key),
    "place_order": lambda inv, key: inv.place_order(
        "new", "web", [("A", 5), ("B", 1)], idempotency_key=key),
    "hold": lambda inv, key: inv.hold("new", "web", [("A", 4)], ttl=dt.timedelta(minutes=15), idempotency_key=key),
    "confirm_hold": lambda inv, key: inv.confirm_hold("h1", idempotency_key=key),
    "release_order": lambda inv, key: inv.release("o1", idempotency_key=key),
    "release_line": lambda inv, key: inv.release("o1", "1", idempotency_key=key),
    "release_expired_hold": lambda inv, key: inv.release("h2", idempotency_key=key),
    "ship": lambda inv, key: inv.ship("o1", "1", "a", 3, idempotency_key=key),
    "ship_moving_the_booking": lambda inv, key: inv.ship("o1", "1", "b", 5, idempotency_key=key),
    "cancel_shipment": lambda inv, key: inv.cancel_shipment("S-1", idempotency_key=key),
    "transfer": lambda inv, key: inv.transfer("A", "b", "a", 3, idempotency_key=key),
    "receive_transfer": lambda inv, key: inv.receive_transfer("T-1", idempotency_key=key),
    "cancel_transfer": lambda inv, key: inv.cancel_transfer("T-1", idempotency_key=key),
    "add_replenishment": lambda inv, key: inv.add_replenishment(
        "B", "b", 5, dt.date(2030, 2, 1), idempotency_key=key),
    "receive_replenishment_partly": lambda inv, key: inv.receive_replenishment("R-1", 3, idempotency_key=key),
    "receive_replenishment_fully": lambda inv, key: inv.receive_replenishment("R-1", idempotency_key=key),
    "cancel_replenishment": lambda inv, key: inv.cancel_replenishment("R-1", idempotency_key=key),
    "prune_ledger": lambda inv, key: inv.prune_ledger(dt.timedelta(minutes=5), idempotency_key=key),
    "import_levels": lambda inv, key: inv.import_levels(
        io.StringIO("sku,warehouse,on_hand,safety\nA,b,12,1\nC,a,3,0\n"), idempotency_key=key),
    "sweep_expired_holds": lambda inv, key: inv.sweep_expired_holds(),
}


def _ledger_kinds(inv: Inventory) -> list[str]:
    return [e.kind.value for e in inv.ledger()]


#: What each operation must have done on the reference store, so that the scene really
#: exercises the path the operation's name promises: ``check(result, inventory)``.
EXPECTED: dict[str, Callable[[Any, Inventory], bool]] = {
    "place_order": lambda r, inv: r.allocated("1") == {"a": 3, "b": 2} and r.allocated("2") == {"b": 1},
    "hold": lambda r, inv: r.allocated("1") == {"a": 3, "b": 1},
    "delete_warehouse_force_stocked": lambda r, inv: {"released", "removed"} <= set(_ledger_kinds(inv)[:6]),
    "delete_warehouse_force_incoming": lambda r, inv: (
        inv.replenishments(open_only=False)[0].status.value == "cancelled"
        and inv.transfers()[0].status.value == "cancelled"),
    "ship_moving_the_booking": lambda r, inv: (  # 3 of the line's units move from a to b
        inv.get_order("o1").allocated("1") == {"a": 1}
        and sorted(_ledger_kinds(inv)[:3]) == ["booked", "consumed", "released"]),
    "release_expired_hold": lambda r, inv: _ledger_kinds(inv)[0] == "expired",
    "receive_replenishment_fully": lambda r, inv: r.status.value == "received",
    "prune_ledger": lambda r, inv: r > 10,
    "sweep_expired_holds": lambda r, inv: r == 1,
    "import_levels": lambda r, inv: r == 2,
    "unlink_warehouse": lambda r, inv: r is True,
}


class RollbackPromises(ConformanceBase):
    """Every mutating operation, interrupted after any of its store calls, changes
    nothing; the same operation then succeeds under the same idempotency key."""

    @pytest.mark.parametrize("operation", sorted(OPERATIONS))
    def test_rollback_after_every_statement_leaves_no_trace(self, new_store_url, operation: str) -> None:
        """Promise: for each k from 1 to the number N of store calls the operation makes,
        an exception raised right after call k propagates (as the exception it is) and
        leaves everything the inventory shows as it was, with ``verify()`` holding; the
        operation then succeeds under the idempotency key of the failed attempts, with
        the result and final state it has on an uninterrupted store, and repeating the
        key returns the same result and changes nothing."""
        run = OPERATIONS[operation]
        key = None if operation == "sweep_expired_holds" else f"key-{operation}"

        # the reference: an identical store where the operation runs once, uninterrupted
        reference_clock = FakeClock()
        with self.opened(new_store_url(), clock=reference_clock) as reference:
            build_scene(reference, reference_clock)
            reference_before = scene_snapshot(reference)
            with injected(reference) as counter:  # fail_at=None: only count
                expected_result = run(reference, key)
            calls = counter.calls
            expected_after = scene_snapshot(reference)
            assert calls >= 1, "the operation made no store call"
            assert expected_after != reference_before, "the operation changed nothing"
            if operation in EXPECTED:
                assert EXPECTED[operation](expected_result, reference), \
                    f"the scene does not exercise {operation} as its name says: {expected_result!r}"

        clock = FakeClock()
        with self.opened(new_store_url(), clock=clock) as inv:
            build_scene(inv, clock)
            before = scene_snapshot(inv)
            assert _without_ledger_numbers(before) == _without_ledger_numbers(reference_before)
            for fail_at in range(1, calls + 1):
                with injected(inv, fail_at) as faulty, pytest.raises(InjectedFault):
                    run(inv, key)
                assert faulty.fired and faulty.calls == fail_at
                where = f"a fault after store call {fail_at} of {calls} ({faulty.log[-1]})"
                assert scene_snapshot(inv) == before, f"{where} left a trace"
                report = inv.verify()
                assert report.ok, f"{where} broke verify(): {report}"

            with injected(inv) as counter:  # the store calls are the same as on the reference
                result = run(inv, key)
            assert counter.calls == calls, f"the operation made {counter.calls} store calls, not {calls}"
            after = scene_snapshot(inv)
            assert after != before, "the idempotency key of the failed attempts was used up"
            assert result == expected_result, "the failed attempts changed the operation's result"
            assert _without_ledger_numbers(after) == _without_ledger_numbers(expected_after), \
                "the failed attempts changed what the operation did"
            assert inv.verify().ok
            if key is not None:
                assert run(inv, key) == result
                assert scene_snapshot(inv) == after
