"""Placing and releasing orders: allocation to warehouses, all or nothing, no overselling."""

# ruff: noqa: F811  (the fixtures imported from _helpers come back as test arguments)
from __future__ import annotations

import pytest
from _helpers import fake_clock, inventory, shop, state  # noqa: F401  (pytest fixtures)

from stockkit import LedgerKind, OrderLine
from stockkit.errors import (
    ChannelWithoutWarehouses,
    DuplicateCode,
    InsufficientStock,
    InvalidQuantity,
    UnknownChannel,
    UnknownOrder,
    UnknownOrderLine,
    ValidationError,
)


def test_place_order_books_every_line_at_the_first_warehouse_by_link_priority(shop):
    placement = shop.place_order("o1", "web", [("SKU-A", 3), ("SKU-B", 2)])

    assert placement.order.order_id == "o1"
    assert placement.order.channel == "web"
    assert [(line.line_id, line.sku, line.quantity) for line in placement.order.lines] == [
        ("1", "SKU-A", 3), ("2", "SKU-B", 2),
    ]
    assert placement.allocated("1") == {"ams": 3}
    assert placement.allocated("2") == {"ams": 2}
    assert shop.level("SKU-A", "ams").booked == 3
    assert shop.level("SKU-A", "ams").available == 2
    assert shop.level("SKU-A", "ber").booked == 0
    assert shop.available("SKU-A", channel="web") == 12
    entries = shop.ledger(order_id="o1")
    assert sorted((e.kind, e.sku, e.warehouse, e.booked) for e in entries) == [
        (LedgerKind.BOOKED, "SKU-A", "ams", 3), (LedgerKind.BOOKED, "SKU-B", "ams", 2),
    ]


def test_a_line_splits_over_warehouses_when_the_first_is_short(shop):
    placement = shop.place_order("o1", "web", [("SKU-A", 8)])

    assert placement.allocated("1") == {"ams": 5, "ber": 3}
    assert [(b.warehouse, b.quantity) for b in placement.bookings] == [("ams", 5), ("ber", 3)]
    assert shop.level("SKU-A", "ams").available == 0
    assert shop.level("SKU-A", "ber").available == 7


def test_lines_of_one_order_draw_on_stock_one_after_the_other(shop):
    placement = shop.place_order("o1", "web", [("SKU-A", 4), ("SKU-A", 4)])

    assert placement.allocated("1") == {"ams": 4}
    assert placement.allocated("2") == {"ams": 1, "ber": 3}


def test_warehouses_of_equal_priority_are_drawn_on_by_code(inventory):
    for code in ("zed", "abc", "mid"):  # created out of order on purpose
        inventory.create_warehouse(code, code.upper(), latitude=1.0, longitude=1.0, active=True)
        inventory.set_level("SKU-A", code, on_hand=2)
    inventory.create_channel("web", "Web")
    for code in ("zed", "mid", "abc"):
        inventory.link_warehouse("web", code, priority=5)

    placement = inventory.place_order("o1", "web", [("SKU-A", 5)])

    assert [(b.warehouse, b.quantity) for b in placement.bookings] == [("abc", 2), ("mid", 2), ("zed", 1)]


def test_a_lower_priority_number_is_drawn_on_first_whatever_the_code(shop):
    shop.link_warehouse("web", "ber", priority=-1)

    placement = shop.place_order("o1", "web", [("SKU-A", 12)])

    assert placement.allocated("1") == {"ber": 10, "ams": 2}


def test_inactive_warehouses_are_skipped_even_when_first_by_priority(shop):
    # cph holds 100 units and is linked at priority 0, but it is inactive
    placement = shop.place_order("o1", "web", [("SKU-A", 15)])

    assert placement.allocated("1") == {"ams": 5, "ber": 10}
    assert shop.level("SKU-A", "cph").booked == 0


def test_deactivating_a_warehouse_takes_it_out_of_allocation(shop):
    shop.deactivate_warehouse("ams")

    placement = shop.place_order("o1", "web", [("SKU-A", 4)])

    assert placement.allocated("1") == {"ber": 4}


def test_safety_stock_is_never_allocated(shop):
    shop.set_level("SKU-A", "ams", safety=2)

    placement = shop.place_order("o1", "web", [("SKU-A", 8)])

    assert placement.allocated("1") == {"ams": 3, "ber": 5}
    assert shop.level("SKU-A", "ams").available == 0
    assert shop.level("SKU-A", "ams").on_hand == 5


def test_an_order_the_channel_cannot_supply_books_nothing(shop):
    before = state(shop)

    with pytest.raises(InsufficientStock) as caught:
        shop.place_order("o1", "web", [("SKU-A", 2), ("SKU-B", 4)])

    assert caught.value.sku == "SKU-B"
    assert caught.value.requested == 4
    assert caught.value.available == 3
    assert caught.value.warehouse is None  # short over the channel, not at one warehouse
    assert state(shop) == before
    with pytest.raises(UnknownOrder):
        shop.get_order("o1")


def test_stock_of_inactive_warehouses_does_not_make_an_order_possible(shop):
    before = state(shop)

    with pytest.raises(InsufficientStock) as caught:
        shop.place_order("o1", "web", [("SKU-A", 16)])

    assert (caught.value.sku, caught.value.requested, caught.value.available) == ("SKU-A", 16, 15)
    assert state(shop) == before


def test_a_failed_order_can_be_placed_once_the_stock_is_there(shop):
    with pytest.raises(InsufficientStock):
        shop.place_order("o1", "web", [("SKU-B", 4)])
    shop.adjust("SKU-B", "ams", 1, "found one")

    placement = shop.place_order("o1", "web", [("SKU-B", 4)])

    assert placement.allocated("1") == {"ams": 4}


def test_order_ids_are_unique(shop):
    shop.place_order("o1", "web", [("SKU-A", 1)])
    before = state(shop)

    with pytest.raises(DuplicateCode):
        shop.place_order("o1", "web", [("SKU-A", 1)])

    assert state(shop) == before


def test_an_unknown_channel_is_refused(shop):
    before = state(shop)

    with pytest.raises(UnknownChannel):
        shop.place_order("o1", "nope", [("SKU-A", 1)])

    assert state(shop) == before


def test_a_channel_without_an_active_warehouse_cannot_take_orders(shop):
    shop.create_channel("b2b", "B2B portal")
    shop.link_warehouse("b2b", "cph")  # inactive
    before = state(shop)

    with pytest.raises(ChannelWithoutWarehouses):
        shop.place_order("o1", "b2b", [("SKU-A", 1)])

    assert state(shop) == before


def test_line_ids_must_be_unique_within_an_order(shop):
    before = state(shop)

    with pytest.raises(ValidationError):
        shop.place_order("o1", "web", [OrderLine("x", "SKU-A", 1), OrderLine("x", "SKU-B", 1)])

    assert state(shop) == before


@pytest.mark.parametrize("quantity", [0, -1, 1.0, 2.5, float("nan"), True, "3", 2**70])
def test_a_line_quantity_must_be_a_positive_whole_number(shop, quantity):
    before = state(shop)

    with pytest.raises(InvalidQuantity):
        shop.place_order("o1", "web", [("SKU-A", 1), ("SKU-B", quantity)])

    assert state(shop) == before


def test_an_order_needs_at_least_one_line(shop):
    with pytest.raises(ValidationError):
        shop.place_order("o1", "web", [])


def test_lines_can_be_order_lines_with_the_shops_own_ids(shop):
    placement = shop.place_order(
        "o1", "web", [OrderLine("line-10", "SKU-A", 6), OrderLine("line-20", "SKU-B", 1)]
    )

    assert placement.order.line("line-10") == OrderLine("line-10", "SKU-A", 6)
    assert placement.allocated("line-10") == {"ams": 5, "ber": 1}
    assert placement.allocated("line-20") == {"ams": 1}
    assert placement.allocated("no-such-line") == {}
    assert {(b.line_id, b.warehouse) for b in shop.bookings(order_id="o1")} == {
        ("line-10", "ams"), ("line-10", "ber"), ("line-20", "ams"),
    }


def test_tuple_lines_are_numbered_from_one(shop):
    placement = shop.place_order("o1", "web", [("SKU-B", 1), ("SKU-A", 1)])

    assert [(line.line_id, line.sku) for line in placement.order.lines] == [("1", "SKU-B"), ("2", "SKU-A")]


def test_get_order_returns_the_order_and_its_current_bookings(shop):
    placed = shop.place_order("o1", "web", [("SKU-A", 7)])

    assert shop.get_order("o1") == placed


def _two_channels_sharing_a_warehouse(inventory):
    inventory.create_warehouse("hub", "Hub", latitude=50.0, longitude=8.0, active=True)
    inventory.set_level("SKU-A", "hub", on_hand=5)
    inventory.create_channel("shop-a", "Channel A")
    inventory.create_channel("shop-b", "Channel B")
    inventory.link_warehouse("shop-a", "hub")
    inventory.link_warehouse("shop-b", "hub")
    return inventory


def test_two_channels_sharing_a_warehouse_never_oversell(inventory):
    # Liferay subtracts only a channel's own bookings from its stock, so channel B would
    # still see 5 units after channel A booked them all. stockkit must refuse.
    inv = _two_channels_sharing_a_warehouse(inventory)
    inv.place_order("a-1", "shop-a", [("SKU-A", 5)])
    assert inv.available("SKU-A", channel="shop-b") == 0
    before = state(inv)

    with pytest.raises(InsufficientStock) as caught:
        inv.place_order("b-1", "shop-b", [("SKU-A", 1)])

    assert caught.value.available == 0
    assert state(inv) == before
    assert inv.level("SKU-A", "hub").booked == 5


def test_two_channels_sharing_a_warehouse_share_what_is_left(inventory):
    inv = _two_channels_sharing_a_warehouse(inventory)
    inv.place_order("a-1", "shop-a", [("SKU-A", 3)])

    assert inv.available("SKU-A", channel="shop-a") == 2
    assert inv.available("SKU-A", channel="shop-b") == 2
    with pytest.raises(InsufficientStock):
        inv.place_order("b-1", "shop-b", [("SKU-A", 3)])
    inv.place_order("b-2", "shop-b", [("SKU-A", 2)])
    assert inv.available("SKU-A") == 0
    assert inv.level("SKU-A", "hub").booked == 5


def test_releasing_an_order_returns_its_bookings_and_frees_the_stock(shop):
    placed = shop.place_order("o1", "web", [("SKU-A", 8), ("SKU-B", 1)])

    released = shop.release("o1", reason="customer cancelled")

    assert set(released) == set(placed.bookings)
    assert shop.bookings(order_id="o1") == []
    assert shop.available("SKU-A") == 15
    assert shop.available("SKU-B") == 3
    entries = shop.ledger(order_id="o1", kinds=["released"])
    assert sorted((e.sku, e.warehouse, e.booked, e.reason) for e in entries) == [
        ("SKU-A", "ams", -5, "customer cancelled"),
        ("SKU-A", "ber", -3, "customer cancelled"),
        ("SKU-B", "ams", -1, "customer cancelled"),
    ]
    assert shop.verify().ok


def test_releasing_one_line_keeps_the_others(shop):
    shop.place_order("o1", "web", [("SKU-A", 2), ("SKU-B", 3)])

    released = shop.release("o1", "2")

    assert [(b.line_id, b.sku, b.warehouse, b.quantity) for b in released] == [("2", "SKU-B", "ams", 3)]
    assert [(b.line_id, b.quantity) for b in shop.bookings(order_id="o1")] == [("1", 2)]
    assert shop.level("SKU-B", "ams").available == 3
    assert shop.level("SKU-A", "ams").available == 3


def test_released_lines_are_marked_cancelled(shop):
    shop.place_order("o1", "web", [("SKU-A", 2), ("SKU-B", 3)])

    shop.release("o1", "2")

    order = shop.get_order("o1").order
    assert [(line.line_id, line.cancelled) for line in order.lines] == [("1", False), ("2", True)]
    shop.release("o1")
    assert all(line.cancelled for line in shop.get_order("o1").order.lines)


def test_releasing_an_unknown_line_is_refused(shop):
    shop.place_order("o1", "web", [("SKU-A", 2)])
    before = state(shop)

    with pytest.raises(UnknownOrderLine):
        shop.release("o1", "7")

    assert state(shop) == before


def test_releasing_an_unknown_order_is_refused(shop):
    before = state(shop)

    with pytest.raises(UnknownOrder):
        shop.release("nope")

    assert state(shop) == before


def test_releasing_twice_releases_nothing_the_second_time(shop):
    shop.place_order("o1", "web", [("SKU-A", 2)])
    shop.release("o1")
    before = state(shop)

    assert shop.release("o1") == ()
    assert state(shop) == before
