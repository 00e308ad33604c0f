"""Atomicity: an operation interrupted after any of its statements leaves no trace.

For every mutating operation of :class:`~stockkit.Inventory`, the suite counts the store
calls it makes, then runs it again with a fault injected after the first call, after
the second, and so on (:mod:`stockkit.testing.faults`). After each interrupted run the
inventory must look exactly as before and ``verify()`` must hold; finally the operation
succeeds, under the idempotency key the interrupted runs used.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from typing import Any

import pytest

from stockkit.errors import UnknownOrder
from stockkit.inventory import Inventory
from stockkit.testing.clock import FakeClock
from stockkit.testing.conformance.base import ConformanceBase
from stockkit.testing.faults import InjectedFault, inject

__all__ = ["RollbackPromises", "OPERATIONS", "build_scene", "scene_snapshot"]

_ORDERS = ("o1", "h1", "h2", "new")


def build_scene(inv: Inventory, clock: FakeClock) -> None:
    """A small shop with something of every kind for the operations to act on: two active
    warehouses and an inactive one, a channel, a product, split bookings, a shipment, a
    confirmed hold, an expired one, a transfer in transit and an open replenishment."""
    inv.create_warehouse("a", "A", latitude=1.0, longitude=1.0, active=True)
    inv.create_warehouse("b", "B", latitude=2.0, longitude=2.0, active=True)
    inv.create_warehouse("c", "C", latitude=3.0, longitude=3.0)
    inv.create_channel("web", "Web")
    inv.link_warehouse("web", "a", priority=0)
    inv.link_warehouse("web", "b", priority=1)
    inv.create_product("p", "Product")
    inv.add_sku("p", "A")
    inv.set_level("A", "a", on_hand=5, safety=1)
    inv.set_level("A", "b", on_hand=10)
    inv.set_level("B", "b", on_hand=4)
    inv.place_order("o1", "web", [("A", 6), ("B", 1)])  # A splits: 4 at a, 2 at b
    inv.ship("o1", "2", "b", 1, shipment_id="S-1")
    inv.hold("h1", "web", [("A", 1)], ttl=dt.timedelta(hours=1))
    inv.hold("h2", "web", [("B", 1)], ttl=dt.timedelta(minutes=5))
    inv.transfer("A", "b", "a", 2, transfer_id="T-1")
    inv.add_replenishment("A", "a", 7, dt.date(2030, 1, 1), replenishment_id="R-1")
    clock.advance(dt.timedelta(minutes=10))  # h2 has expired, h1 has not


def scene_snapshot(inv: Inventory) -> tuple[Any, ...]:
    """Everything the inventory shows."""
    orders = []
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


#: Every mutating operation, by name: ``call(inventory, idempotency_key)``.
OPERATIONS: dict[str, Callable[[Inventory, str | None], Any]] = {
    "create_warehouse": lambda inv, key: inv.create_warehouse(
        "d", "D", latitude=3.0, longitude=3.0, active=True, idempotency_key=key),
    "update_warehouse": lambda inv, key: inv.update_warehouse("a", city="Utrecht", idempotency_key=key),
    "activate_warehouse": lambda inv, key: inv.activate_warehouse("c", idempotency_key=key),
    "deactivate_warehouse": lambda inv, key: inv.deactivate_warehouse("b", idempotency_key=key),
    "delete_warehouse": lambda inv, key: inv.delete_warehouse("c", idempotency_key=key),
    "force_delete_warehouse": lambda inv, key: inv.delete_warehouse("b", force=True, idempotency_key=key),
    "create_channel": lambda inv, key: inv.create_channel("b2b", "B2B", idempotency_key=key),
    "link_warehouse": lambda inv, key: inv.link_warehouse("web", "c", priority=5, idempotency_key=key),
    "unlink_warehouse": lambda inv, key: inv.unlink_warehouse("web", "b", idempotency_key=key),
    "create_product": lambda inv, key: inv.create_product("q", "Q", idempotency_key=key),
    "update_product": lambda inv, key: inv.update_product("p", name="Renamed", idempotency_key=key),
    "add_sku": lambda inv, key: inv.add_sku("p", "B", idempotency_key=key),
    "update_sku": lambda inv, key: inv.update_sku("p", "A", published=False, idempotency_key=key),
    "set_level": lambda inv, key: inv.set_level("A", "a", on_hand=9, safety=2, idempotency_key=key),
    "adjust": lambda inv, key: inv.adjust("A", "b", -3, "damaged", idempotency_key=key),
    "place_order": lambda inv, key: inv.place_order(
        "new", "web", [("A", 5), ("B", 1)], idempotency_key=key),
    "hold": lambda inv, key: inv.hold("new", "web", [("A", 3)], ttl=dt.timedelta(minutes=15), idempotency_key=key),
    "confirm_hold": lambda inv, key: inv.confirm_hold("h1", idempotency_key=key),
    "release_order": lambda inv, key: inv.release("o1", idempotency_key=key),
    "release_line": lambda inv, key: inv.release("o1", "1", idempotency_key=key),
    "ship": lambda inv, key: inv.ship("o1", "1", "a", 3, idempotency_key=key),
    "ship_moving_the_booking": lambda inv, key: inv.ship("o1", "1", "b", 5, idempotency_key=key),
    "cancel_shipment": lambda inv, key: inv.cancel_shipment("S-1", idempotency_key=key),
    "transfer": lambda inv, key: inv.transfer("A", "b", "a", 3, idempotency_key=key),
    "receive_transfer": lambda inv, key: inv.receive_transfer("T-1", idempotency_key=key),
    "cancel_transfer": lambda inv, key: inv.cancel_transfer("T-1", idempotency_key=key),
    "add_replenishment": lambda inv, key: inv.add_replenishment(
        "B", "b", 5, dt.date(2030, 2, 1), idempotency_key=key),
    "receive_replenishment": lambda inv, key: inv.receive_replenishment("R-1", 3, idempotency_key=key),
    "cancel_replenishment": lambda inv, key: inv.cancel_replenishment("R-1", idempotency_key=key),
    "prune_ledger": lambda inv, key: inv.prune_ledger(dt.timedelta(minutes=5), idempotency_key=key),
    "import_levels": lambda inv, key: inv.import_levels(
        io.StringIO("sku,warehouse,on_hand,safety\nA,b,12,1\nC,a,3,0\n"), idempotency_key=key),
    "sweep_expired_holds": lambda inv, key: inv.sweep_expired_holds(),
}


class RollbackPromises(ConformanceBase):
    """An operation interrupted after any statement changes nothing."""

    @pytest.mark.parametrize("operation", sorted(OPERATIONS))
    def test_an_interrupted_operation_leaves_no_trace(self, new_store_url, operation):
        """A fault after each store call of the operation, in turn, leaves the inventory as
        it was (and sound); then the operation succeeds under the same idempotency key."""
        run = OPERATIONS[operation]
        key = None if operation == "sweep_expired_holds" else f"key-{operation}"
        clock = FakeClock()
        with self.opened(new_store_url(), clock=clock) as inv:
            build_scene(inv, clock)
            before = scene_snapshot(inv)
            fail_at = 1
            while True:
                restore = inject(inv, fail_at)
                try:
                    result = run(inv, key)
                except InjectedFault:
                    restore()
                    assert scene_snapshot(inv) == before, f"a fault after store call {fail_at} left a trace"
                    assert inv.verify().ok
                    fail_at += 1
                    continue
                finally:
                    wrapper = restore()
                assert not wrapper.fired
                break
            assert fail_at > 1, "the operation made no store call"
            assert scene_snapshot(inv) != before, "the operation changed nothing"
            assert inv.verify().ok
            if key is not None:
                assert run(inv, key) == result
