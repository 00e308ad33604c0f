"""The inventory views: SKU search, levels, stock per channel, orders and shipments."""

# ruff: noqa: F811  (the fixtures imported from _helpers come back as test arguments)
from __future__ import annotations

import datetime as dt

import pytest
from _helpers import fake_clock, inventory, shop  # noqa: F401  (pytest fixtures)

from stockkit import Level, StockSummary
from stockkit.errors import (
    UnknownChannel,
    UnknownOrder,
    UnknownWarehouse,
    ValidationError,
)


def test_search_finds_skus_by_code_substring_in_any_case(shop):
    shop.set_level("bolt-10", "ams", on_hand=1)

    assert [s.sku for s in shop.search_skus("sku")] == ["SKU-A", "SKU-B"]
    assert [s.sku for s in shop.search_skus("-a")] == ["SKU-A"]
    assert [s.sku for s in shop.search_skus("BOLT")] == ["bolt-10"]
    assert [s.sku for s in shop.search_skus()] == ["SKU-A", "SKU-B", "bolt-10"]
    assert [s.sku for s in shop.search_skus("", limit=2)] == ["SKU-A", "SKU-B"]
    assert shop.search_skus("nothing-like-it") == []


def test_search_gives_company_totals_over_active_warehouses_and_every_level(shop):
    shop.set_level("SKU-A", "ber", safety=2)
    shop.add_replenishment("SKU-A", "ber", 6, dt.date(2024, 5, 1))
    shop.add_replenishment("SKU-A", "cph", 50, dt.date(2024, 5, 1))
    shop.place_order("o1", "web", [("SKU-A", 7)])  # ams 5, ber 2

    [summary] = shop.search_skus("SKU-A")

    # cph (inactive, 100 on hand, 50 incoming) is listed but not counted
    assert (summary.on_hand, summary.safety, summary.booked, summary.incoming, summary.available) == (
        15, 2, 7, 6, 6,
    )
    levels = {lv.warehouse: lv for lv in summary.levels}
    assert set(levels) == {"ams", "ber", "cph"}
    assert (levels["ams"].on_hand, levels["ams"].booked, levels["ams"].available) == (5, 5, 0)
    assert (levels["ber"].on_hand, levels["ber"].safety, levels["ber"].booked, levels["ber"].incoming) == (
        10, 2, 2, 6,
    )
    assert levels["ber"].available == 6
    assert (levels["cph"].on_hand, levels["cph"].incoming) == (100, 50)


def test_activating_a_warehouse_adds_it_to_the_company_totals(shop):
    shop.activate_warehouse("cph")

    [summary] = shop.search_skus("SKU-A")

    assert summary.on_hand == 115
    assert shop.available("SKU-A") == 115


def test_level_of_one_sku_at_one_warehouse(shop):
    level = shop.level("SKU-A", "ams")

    assert isinstance(level, Level)
    assert (level.sku, level.warehouse, level.on_hand, level.available) == ("SKU-A", "ams", 5, 5)
    assert shop.level("SKU-A", "cph").on_hand == 100  # inactive warehouses have levels too


def test_a_level_never_stocked_is_all_zeros(shop):
    level = shop.level("SKU-B", "ber")

    assert (level.on_hand, level.safety, level.booked, level.incoming, level.available) == (0, 0, 0, 0, 0)


def test_the_level_of_an_unknown_warehouse_is_an_error(shop):
    with pytest.raises(UnknownWarehouse):
        shop.level("SKU-A", "nowhere")


def test_stock_company_wide_and_per_channel(shop):
    company = shop.stock("SKU-A")
    web = shop.stock("SKU-A", channel="web")
    market = shop.stock("SKU-A", channel="market")

    assert isinstance(company, StockSummary)
    assert (company.on_hand, company.available) == (15, 15)
    assert [lv.warehouse for lv in company.levels] == ["ams", "ber"]
    assert (web.on_hand, web.available) == (15, 15)
    assert [lv.warehouse for lv in web.levels] == ["ams", "ber"]
    assert (market.on_hand, market.available) == (10, 10)
    assert [lv.warehouse for lv in market.levels] == ["ber"]


def test_channel_stock_follows_links_and_activation(shop):
    shop.activate_warehouse("cph")
    assert shop.stock("SKU-A", channel="web").on_hand == 115
    assert shop.stock("SKU-A", channel="market").on_hand == 10

    shop.unlink_warehouse("web", "ams")

    assert shop.stock("SKU-A", channel="web").on_hand == 110


def test_bookings_in_one_channel_lower_every_channel_sharing_the_warehouse(shop):
    shop.place_order("o1", "web", [("SKU-A", 12)])  # ams 5, ber 7

    assert shop.available("SKU-A", channel="market") == 3
    assert shop.available("SKU-A", channel="web") == 3
    assert shop.available("SKU-A") == 3


def test_available_at_a_warehouse_or_in_a_channel(shop):
    shop.set_level("SKU-A", "ams", safety=1)
    shop.place_order("m1", "market", [("SKU-A", 4)])

    assert shop.available("SKU-A", warehouse="ams") == 4
    assert shop.available("SKU-A", warehouse="ber") == 6
    assert shop.available("SKU-A", warehouse="cph") == 100
    assert shop.available("SKU-A", channel="market") == 6
    assert shop.available("SKU-A", channel="web") == 10
    assert shop.available("SKU-A") == 10
    assert shop.available("NEVER-STOCKED") == 0


def test_available_takes_a_warehouse_or_a_channel_not_both(shop):
    with pytest.raises(ValidationError):
        shop.available("SKU-A", channel="web", warehouse="ams")


def test_stock_of_an_unknown_channel_is_an_error(shop):
    with pytest.raises(UnknownChannel):
        shop.stock("SKU-A", channel="nope")


def test_get_order_shows_its_current_bookings(shop):
    placed = shop.place_order("o1", "web", [("SKU-A", 7), ("SKU-B", 1)])
    shop.release("o1", "2")
    shop.ship("o1", "1", "ams", 5)

    current = shop.get_order("o1")

    assert (current.order.order_id, current.order.channel, current.order.placed_at) == (
        placed.order.order_id, placed.order.channel, placed.order.placed_at,
    )
    assert [(line.line_id, line.sku, line.quantity) for line in current.order.lines] == [
        ("1", "SKU-A", 7), ("2", "SKU-B", 1),
    ]
    assert [(b.line_id, b.warehouse, b.quantity) for b in current.bookings] == [("1", "ber", 2)]
    assert current.allocated("1") == {"ber": 2}


def test_get_order_of_an_unknown_order_is_an_error(shop):
    with pytest.raises(UnknownOrder):
        shop.get_order("nope")


def test_shipments_of_one_order_or_all(shop):
    shop.place_order("o1", "web", [("SKU-A", 2)])
    shop.place_order("o2", "web", [("SKU-B", 2)])
    shop.ship("o1", "1", "ams", 1)
    shop.ship("o2", "1", "ams", 2)
    shop.ship("o1", "1", "ams", 1)

    assert [(s.shipment_id, s.order_id) for s in shop.shipments()] == [("S-1", "o1"), ("S-2", "o2"), ("S-3", "o1")]
    assert [s.shipment_id for s in shop.shipments("o1")] == ["S-1", "S-3"]
    assert shop.shipments("o3") == []
