"""Replenishments: incoming stock, received fully or in parts, or cancelled."""

# ruff: noqa: F811  (the fixtures imported from _helpers come back as test arguments)
from __future__ import annotations

import datetime as dt

import pytest
from _helpers import fake_clock, inventory, level_tuple, shop, state  # noqa: F401  (pytest fixtures)

from stockkit import LedgerKind, Replenishment, ReplenishmentStatus
from stockkit.errors import (
    DuplicateCode,
    InsufficientStock,
    InvalidDate,
    InvalidQuantity,
    InvalidStateTransition,
    UnknownReplenishment,
    UnknownWarehouse,
)

MAY_1 = dt.date(2024, 5, 1)


def test_a_replenishment_shows_as_incoming_and_never_as_available(shop):
    repl = shop.add_replenishment("SKU-A", "ams", 20, MAY_1)

    assert repl == Replenishment("R-1", "SKU-A", "ams", 20, MAY_1, 0, ReplenishmentStatus.OPEN)
    assert repl.open_quantity == 20
    assert level_tuple(shop, "SKU-A", "ams") == (5, 0, 0, 20)
    assert shop.level("SKU-A", "ams").available == 5
    assert shop.stock("SKU-A").incoming == 20
    assert shop.stock("SKU-A").available == 15
    assert shop.stock("SKU-A", channel="web").incoming == 20
    [entry] = shop.ledger(kinds=["expected"])
    assert (entry.warehouse, entry.incoming, entry.on_hand, entry.reference) == ("ams", 20, 0, "R-1")
    assert shop.verify().ok


def test_incoming_stock_cannot_be_ordered(shop):
    shop.add_replenishment("SKU-B", "ams", 20, MAY_1)
    before = state(shop)

    with pytest.raises(InsufficientStock):
        shop.place_order("o1", "web", [("SKU-B", 4)])

    assert state(shop) == before


def test_receiving_part_keeps_the_replenishment_open_for_the_rest(shop):
    shop.add_replenishment("SKU-A", "ams", 20, MAY_1)

    partly = shop.receive_replenishment("R-1", 8)

    assert (partly.received, partly.open_quantity, partly.status) == (8, 12, ReplenishmentStatus.OPEN)
    assert level_tuple(shop, "SKU-A", "ams") == (13, 0, 0, 12)
    assert shop.replenishments("SKU-A") == [partly]

    fully = shop.receive_replenishment("R-1")

    assert (fully.received, fully.open_quantity, fully.status) == (20, 0, ReplenishmentStatus.RECEIVED)
    assert level_tuple(shop, "SKU-A", "ams") == (25, 0, 0, 0)
    assert shop.replenishments("SKU-A") == []
    assert shop.replenishments("SKU-A", open_only=False) == [fully]
    received = shop.ledger(kinds=[LedgerKind.RECEIVED])
    assert [(e.on_hand, e.incoming) for e in received] == [(12, -12), (8, -8)]
    assert shop.verify().ok


def test_receiving_the_exact_open_quantity_closes_it(shop):
    shop.add_replenishment("SKU-A", "ams", 20, MAY_1)
    shop.receive_replenishment("R-1", 5)

    assert shop.receive_replenishment("R-1", 15).status is ReplenishmentStatus.RECEIVED


def test_receiving_more_than_is_still_expected_fails(shop):
    shop.add_replenishment("SKU-A", "ams", 20, MAY_1)
    shop.receive_replenishment("R-1", 15)
    before = state(shop)

    with pytest.raises(InvalidQuantity):
        shop.receive_replenishment("R-1", 6)

    assert state(shop) == before


def test_a_received_replenishment_cannot_be_received_or_cancelled_again(shop):
    shop.add_replenishment("SKU-A", "ams", 20, MAY_1)
    shop.receive_replenishment("R-1")
    before = state(shop)

    with pytest.raises(InvalidStateTransition):
        shop.receive_replenishment("R-1")
    with pytest.raises(InvalidStateTransition):
        shop.cancel_replenishment("R-1")

    assert state(shop) == before


def test_cancelling_stops_expecting_what_is_left(shop):
    shop.add_replenishment("SKU-A", "ams", 20, MAY_1)
    shop.receive_replenishment("R-1", 8)

    cancelled = shop.cancel_replenishment("R-1")

    assert (cancelled.status, cancelled.received, cancelled.open_quantity) == (
        ReplenishmentStatus.CANCELLED, 8, 0,
    )
    assert level_tuple(shop, "SKU-A", "ams") == (13, 0, 0, 0)
    [entry] = shop.ledger(kinds=["cancelled"])
    assert (entry.incoming, entry.on_hand, entry.reference) == (-12, 0, "R-1")
    assert shop.verify().ok


def test_a_cancelled_replenishment_cannot_be_received(shop):
    shop.add_replenishment("SKU-A", "ams", 20, MAY_1)
    shop.cancel_replenishment("R-1")
    before = state(shop)

    with pytest.raises(InvalidStateTransition):
        shop.receive_replenishment("R-1", 1)
    with pytest.raises(InvalidStateTransition):
        shop.cancel_replenishment("R-1")

    assert state(shop) == before


def test_an_unknown_replenishment_cannot_be_received_or_cancelled(shop):
    before = state(shop)

    with pytest.raises(UnknownReplenishment):
        shop.receive_replenishment("R-1")
    with pytest.raises(UnknownReplenishment):
        shop.cancel_replenishment("R-1")

    assert state(shop) == before


def test_replenishments_are_listed_by_expected_date(shop):
    shop.add_replenishment("SKU-A", "ams", 5, dt.date(2024, 7, 1))
    shop.add_replenishment("SKU-A", "ber", 5, dt.date(2024, 4, 1))
    shop.add_replenishment("SKU-B", "ams", 5, dt.date(2024, 6, 1))
    shop.add_replenishment("SKU-A", "ams", 5, dt.date(2024, 5, 1))
    shop.cancel_replenishment("R-4")

    assert [r.replenishment_id for r in shop.replenishments()] == ["R-2", "R-3", "R-1"]
    assert [r.replenishment_id for r in shop.replenishments(open_only=False)] == ["R-2", "R-4", "R-3", "R-1"]
    assert [r.replenishment_id for r in shop.replenishments("SKU-A")] == ["R-2", "R-1"]
    assert [r.replenishment_id for r in shop.replenishments(warehouse="ams", open_only=False)] == [
        "R-4", "R-3", "R-1",
    ]
    assert shop.level("SKU-A", "ams").incoming == 5


@pytest.mark.parametrize(
    "expected_on", [dt.datetime(2024, 5, 1, tzinfo=dt.UTC), "2024-05-01", 20240501, None]
)
def test_the_expected_date_must_be_a_date(shop, expected_on):
    before = state(shop)

    with pytest.raises(InvalidDate):
        shop.add_replenishment("SKU-A", "ams", 5, expected_on)

    assert state(shop) == before


@pytest.mark.parametrize("quantity", [0, -5, 2.0, True])
def test_the_quantity_must_be_a_positive_whole_number(shop, quantity):
    before = state(shop)

    with pytest.raises(InvalidQuantity):
        shop.add_replenishment("SKU-A", "ams", quantity, MAY_1)

    assert state(shop) == before


@pytest.mark.parametrize("quantity", [0, -1, 1.0])
def test_the_received_quantity_must_be_a_positive_whole_number(shop, quantity):
    shop.add_replenishment("SKU-A", "ams", 5, MAY_1)
    before = state(shop)

    with pytest.raises(InvalidQuantity):
        shop.receive_replenishment("R-1", quantity)

    assert state(shop) == before


def test_a_replenishment_needs_a_known_warehouse(shop):
    before = state(shop)

    with pytest.raises(UnknownWarehouse):
        shop.add_replenishment("SKU-A", "nowhere", 5, MAY_1)

    assert state(shop) == before


def test_replenishment_ids_given_by_the_shop_are_unique(shop):
    assert shop.add_replenishment("SKU-A", "ams", 5, MAY_1, replenishment_id="PO-7").replenishment_id == "PO-7"
    before = state(shop)

    with pytest.raises(DuplicateCode):
        shop.add_replenishment("SKU-A", "ber", 5, MAY_1, replenishment_id="PO-7")

    assert state(shop) == before
