"""Random sequences of every stock operation on the in-memory store, checked against a
plain-Python model after every step (see :mod:`stockkit.testing.statemachine`)."""

from __future__ import annotations

import pytest
from hypothesis import settings

import stockkit
from stockkit.errors import UnknownWarehouse
from stockkit.testing import FakeClock, inventory_state_machine


def open_memory_inventory(clock: FakeClock) -> stockkit.Inventory:
    return stockkit.open("memory://", clock=clock, autoload_plugins=False)


MemoryInventoryMachine = inventory_state_machine(open_memory_inventory)

TestMemoryInventory = MemoryInventoryMachine.TestCase
TestMemoryInventory.settings = settings(
    max_examples=75, stateful_step_count=40, deadline=None, report_multiple_bugs=False
)


def test_cancelling_a_shipment_from_a_deleted_warehouse_is_refused() -> None:
    """One sequence the machine finds now and then (ship, force-delete the warehouse,
    cancel the shipment), kept as a plain test so that it fails on every run: the units
    cannot go back on hand at a warehouse that no longer exists (receiving a transfer or
    a replenishment there raises UnknownWarehouse too), and nothing may change."""
    inv = open_memory_inventory(FakeClock())
    inv.create_warehouse("ams", "Amsterdam", latitude=52.37, longitude=4.90, active=True)
    inv.create_warehouse("ber", "Berlin", latitude=52.52, longitude=13.40, active=True)
    inv.create_channel("web", "Web shop")
    inv.link_warehouse("web", "ber")
    inv.set_level("TEE", "ber", on_hand=10)
    inv.place_order("o1", "web", [("TEE", 5)])
    shipment = inv.ship("o1", "1", "ber", 2)
    inv.delete_warehouse("ber", force=True)
    before = (inv.search_skus(""), inv.ledger(), inv.bookings(include_expired=True), inv.shipments())

    with pytest.raises(UnknownWarehouse):
        inv.cancel_shipment(shipment.shipment_id)

    assert (inv.search_skus(""), inv.ledger(), inv.bookings(include_expired=True), inv.shipments()) == before
    inv.create_warehouse("ber", "Berlin again")
    assert inv.level("TEE", "ber").on_hand == 0, "a new warehouse inherited the deleted one's stock"
