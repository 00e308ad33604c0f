"""Shipping order lines (consuming bookings) and cancelling shipments (restoring them)."""

# ruff: noqa: F811  (the fixtures imported from _helpers come back as test arguments)
from __future__ import annotations

import pytest
from _helpers import fake_clock, inventory, level_tuple, shop, state  # noqa: F401  (pytest fixtures)

from stockkit import LedgerKind, Shipment, ShipmentStatus
from stockkit.errors import (
    DuplicateCode,
    InsufficientStock,
    InvalidQuantity,
    InvalidStateTransition,
    UnknownOrder,
    UnknownOrderLine,
    UnknownShipment,
    UnknownWarehouse,
)


def test_shipping_consumes_the_booking_and_the_stock_on_hand(shop, fake_clock):
    shop.place_order("o1", "web", [("SKU-A", 3)])

    shipment = shop.ship("o1", "1", "ams", 3)

    assert shipment == Shipment("S-1", "o1", "1", "SKU-A", "ams", 3, fake_clock.now, ShipmentStatus.SHIPPED)
    assert level_tuple(shop, "SKU-A", "ams") == (2, 0, 0, 0)
    assert shop.bookings(order_id="o1") == []
    [entry] = shop.ledger(kinds=["consumed"])
    assert (entry.sku, entry.warehouse, entry.on_hand, entry.booked) == ("SKU-A", "ams", -3, -3)
    assert (entry.order_id, entry.line_id, entry.reference) == ("o1", "1", "S-1")
    assert shop.verify().ok


def test_a_line_can_ship_in_parts_with_generated_ids(shop):
    shop.place_order("o1", "web", [("SKU-A", 4)])

    first = shop.ship("o1", "1", "ams", 1)
    second = shop.ship("o1", "1", "ams", 3)

    assert (first.shipment_id, second.shipment_id) == ("S-1", "S-2")
    assert level_tuple(shop, "SKU-A", "ams") == (1, 0, 0, 0)
    assert [s.shipment_id for s in shop.shipments("o1")] == ["S-1", "S-2"]


def test_a_partial_shipment_leaves_the_rest_booked(shop):
    shop.place_order("o1", "web", [("SKU-A", 4)])

    shop.ship("o1", "1", "ams", 1)

    assert level_tuple(shop, "SKU-A", "ams") == (4, 0, 3, 0)
    assert [(b.warehouse, b.quantity) for b in shop.bookings(order_id="o1")] == [("ams", 3)]
    assert shop.level("SKU-A", "ams").available == 1


def test_shipping_more_than_the_lines_open_quantity_fails(shop):
    shop.place_order("o1", "web", [("SKU-A", 4)])
    shop.ship("o1", "1", "ams", 3)
    before = state(shop)

    with pytest.raises(InvalidQuantity):
        shop.ship("o1", "1", "ams", 2)

    assert state(shop) == before


def test_a_released_line_has_nothing_left_to_ship(shop):
    shop.place_order("o1", "web", [("SKU-A", 4)])
    shop.release("o1")
    before = state(shop)

    with pytest.raises(InvalidQuantity):
        shop.ship("o1", "1", "ams", 1)

    assert state(shop) == before


def test_shipping_from_another_warehouse_moves_the_allocation_there(shop):
    shop.place_order("o1", "web", [("SKU-A", 3)])  # booked at ams

    shop.ship("o1", "1", "ber", 2)

    assert level_tuple(shop, "SKU-A", "ams") == (5, 0, 1, 0)
    assert level_tuple(shop, "SKU-A", "ber") == (8, 0, 0, 0)
    assert [(b.warehouse, b.quantity) for b in shop.bookings(order_id="o1")] == [("ams", 1)]
    entries = shop.ledger(order_id="o1")
    assert [(e.kind, e.warehouse, e.on_hand, e.booked) for e in entries[:3]] == [
        (LedgerKind.CONSUMED, "ber", -2, -2),
        (LedgerKind.BOOKED, "ber", 0, 2),
        (LedgerKind.RELEASED, "ams", 0, -2),
    ]
    assert shop.verify().ok


def test_shipping_a_split_line_from_one_warehouse_gathers_it_there(shop):
    shop.place_order("o1", "web", [("SKU-A", 8)])  # ams 5, ber 3

    shop.ship("o1", "1", "ber", 8)

    assert level_tuple(shop, "SKU-A", "ams") == (5, 0, 0, 0)
    assert level_tuple(shop, "SKU-A", "ber") == (2, 0, 0, 0)
    assert shop.bookings(order_id="o1") == []
    assert shop.verify().ok


def test_shipping_from_a_warehouse_without_the_stock_fails(shop):
    shop.place_order("o1", "web", [("SKU-B", 2)])  # booked at ams; ber holds no SKU-B
    before = state(shop)

    with pytest.raises(InsufficientStock):
        shop.ship("o1", "1", "ber", 2)

    assert state(shop) == before


def test_shipping_from_a_warehouse_cannot_break_its_other_bookings(shop):
    shop.place_order("m1", "market", [("SKU-A", 9)])  # ber: 10 on hand, 1 available
    shop.place_order("o1", "web", [("SKU-A", 3)])  # booked at ams
    before = state(shop)

    with pytest.raises(InsufficientStock):
        shop.ship("o1", "1", "ber", 3)

    assert state(shop) == before


def test_shipping_from_an_unknown_warehouse_fails(shop):
    shop.place_order("o1", "web", [("SKU-A", 1)])
    before = state(shop)

    with pytest.raises(UnknownWarehouse):
        shop.ship("o1", "1", "nowhere", 1)

    assert state(shop) == before


def test_shipping_an_unknown_order_or_line_fails(shop):
    shop.place_order("o1", "web", [("SKU-A", 1)])
    before = state(shop)

    with pytest.raises(UnknownOrder):
        shop.ship("o2", "1", "ams", 1)
    with pytest.raises(UnknownOrderLine):
        shop.ship("o1", "2", "ams", 1)

    assert state(shop) == before


@pytest.mark.parametrize("quantity", [0, -1, 1.0, True])
def test_a_shipment_quantity_must_be_a_positive_whole_number(shop, quantity):
    shop.place_order("o1", "web", [("SKU-A", 1)])
    before = state(shop)

    with pytest.raises(InvalidQuantity):
        shop.ship("o1", "1", "ams", quantity)

    assert state(shop) == before


def test_shipment_ids_given_by_the_shop_are_unique(shop):
    shop.place_order("o1", "web", [("SKU-A", 4)])
    assert shop.ship("o1", "1", "ams", 1, shipment_id="PARCEL-9").shipment_id == "PARCEL-9"
    before = state(shop)

    with pytest.raises(DuplicateCode):
        shop.ship("o1", "1", "ams", 1, shipment_id="PARCEL-9")

    assert state(shop) == before


def test_a_failed_shipment_does_not_use_up_a_generated_id(shop):
    shop.place_order("o1", "web", [("SKU-A", 4)])
    with pytest.raises(InvalidQuantity):
        shop.ship("o1", "1", "ams", 5)

    assert shop.ship("o1", "1", "ams", 4).shipment_id == "S-1"


def test_cancelling_a_shipment_puts_the_units_back_and_books_them_again(shop):
    shop.place_order("o1", "web", [("SKU-A", 3)])
    shipped = shop.ship("o1", "1", "ams", 2)

    cancelled = shop.cancel_shipment(shipped.shipment_id)

    assert cancelled == Shipment(
        shipped.shipment_id, "o1", "1", "SKU-A", "ams", 2, shipped.shipped_at, ShipmentStatus.CANCELLED
    )
    assert shop.shipments("o1") == [cancelled]
    assert level_tuple(shop, "SKU-A", "ams") == (5, 0, 3, 0)
    assert [(b.warehouse, b.quantity) for b in shop.bookings(order_id="o1")] == [("ams", 3)]
    [entry] = shop.ledger(kinds=["restored"])
    assert (entry.warehouse, entry.on_hand, entry.booked, entry.reference) == ("ams", 2, 2, "S-1")
    assert shop.verify().ok


def test_cancelling_a_shipment_of_a_cancelled_line_only_puts_the_units_back(shop):
    shop.place_order("o1", "web", [("SKU-A", 3)])
    shop.ship("o1", "1", "ams", 2)
    shop.release("o1")  # the customer cancels the rest; the parcel comes back

    shop.cancel_shipment("S-1")

    assert level_tuple(shop, "SKU-A", "ams") == (5, 0, 0, 0)
    assert shop.bookings(order_id="o1") == []
    [entry] = shop.ledger(kinds=["restored"])
    assert (entry.on_hand, entry.booked) == (2, 0)
    assert shop.verify().ok


def test_a_cancelled_shipment_can_ship_again(shop):
    shop.place_order("o1", "web", [("SKU-A", 3)])
    shop.ship("o1", "1", "ams", 3)
    shop.cancel_shipment("S-1")

    assert shop.ship("o1", "1", "ams", 3).shipment_id == "S-2"
    assert level_tuple(shop, "SKU-A", "ams") == (2, 0, 0, 0)


def test_cancelling_a_shipment_twice_fails(shop):
    shop.place_order("o1", "web", [("SKU-A", 3)])
    shop.ship("o1", "1", "ams", 3)
    shop.cancel_shipment("S-1")
    before = state(shop)

    with pytest.raises(InvalidStateTransition):
        shop.cancel_shipment("S-1")

    assert state(shop) == before


def test_cancelling_an_unknown_shipment_fails(shop):
    before = state(shop)

    with pytest.raises(UnknownShipment):
        shop.cancel_shipment("S-1")

    assert state(shop) == before
