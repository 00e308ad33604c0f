"""Transfers: stock moving between warehouses, in transit in between."""

# ruff: noqa: F811  (the fixtures imported from _helpers come back as test arguments)
from __future__ import annotations

import datetime as dt

import pytest
from _helpers import fake_clock, inventory, level_tuple, shop, state  # noqa: F401  (pytest fixtures)

from stockkit import LedgerKind, Transfer, TransferStatus
from stockkit.errors import (
    DuplicateCode,
    InsufficientStock,
    InvalidQuantity,
    InvalidStateTransition,
    UnknownTransfer,
    UnknownWarehouse,
    ValidationError,
)


def test_a_transfer_takes_the_units_off_the_source_at_once(shop, fake_clock):
    transfer = shop.transfer("SKU-A", "ber", "ams", 4)

    assert transfer == Transfer("T-1", "SKU-A", "ber", "ams", 4, fake_clock.now, TransferStatus.IN_TRANSIT)
    assert level_tuple(shop, "SKU-A", "ber") == (6, 0, 0, 0)
    assert level_tuple(shop, "SKU-A", "ams") == (5, 0, 0, 0)
    [entry] = shop.ledger(kinds=["moved"])
    assert (entry.sku, entry.warehouse, entry.on_hand, entry.reference) == ("SKU-A", "ber", -4, "T-1")
    assert shop.transfers() == [transfer]
    assert shop.verify().ok


def test_units_in_transit_belong_to_neither_warehouse(shop):
    shop.transfer("SKU-A", "ber", "ams", 4)

    summary = shop.stock("SKU-A")
    assert summary.on_hand == 11  # 15 before the transfer
    assert summary.available == 11
    assert shop.available("SKU-A", channel="web") == 11


def test_receiving_a_transfer_puts_the_units_on_hand_at_the_destination(shop, fake_clock):
    shop.transfer("SKU-A", "ber", "ams", 4)
    fake_clock.advance(dt.timedelta(days=2))

    received = shop.receive_transfer("T-1")

    assert received.status is TransferStatus.RECEIVED
    assert received.closed_at == fake_clock.now
    assert level_tuple(shop, "SKU-A", "ams") == (9, 0, 0, 0)
    assert level_tuple(shop, "SKU-A", "ber") == (6, 0, 0, 0)
    assert shop.stock("SKU-A").on_hand == 15
    assert [(e.warehouse, e.on_hand) for e in shop.ledger(kinds=[LedgerKind.MOVED])] == [("ams", 4), ("ber", -4)]
    assert shop.verify().ok


def test_cancelling_a_transfer_returns_the_units_to_the_source(shop):
    shop.transfer("SKU-A", "ber", "ams", 4)

    cancelled = shop.cancel_transfer("T-1")

    assert cancelled.status is TransferStatus.CANCELLED
    assert level_tuple(shop, "SKU-A", "ber") == (10, 0, 0, 0)
    assert level_tuple(shop, "SKU-A", "ams") == (5, 0, 0, 0)
    assert shop.verify().ok


def test_a_transfer_can_take_everything_available(shop):
    shop.transfer("SKU-A", "ber", "ams", 10)

    assert shop.level("SKU-A", "ber").on_hand == 0


def test_a_transfer_cannot_take_more_than_the_source_has(shop):
    before = state(shop)

    with pytest.raises(InsufficientStock):
        shop.transfer("SKU-A", "ber", "ams", 11)

    assert state(shop) == before


def test_a_transfer_cannot_take_booked_units(shop):
    shop.place_order("m1", "market", [("SKU-A", 7)])  # booked at ber
    before = state(shop)

    with pytest.raises(InsufficientStock):
        shop.transfer("SKU-A", "ber", "ams", 4)

    assert state(shop) == before
    shop.transfer("SKU-A", "ber", "ams", 3)
    assert shop.level("SKU-A", "ber").available == 0


def test_a_transfer_cannot_take_safety_stock(shop):
    shop.set_level("SKU-A", "ber", safety=8)
    before = state(shop)

    with pytest.raises(InsufficientStock):
        shop.transfer("SKU-A", "ber", "ams", 3)

    assert state(shop) == before


def test_receiving_a_transfer_twice_fails(shop):
    shop.transfer("SKU-A", "ber", "ams", 4)
    shop.receive_transfer("T-1")
    before = state(shop)

    with pytest.raises(InvalidStateTransition):
        shop.receive_transfer("T-1")
    with pytest.raises(InvalidStateTransition):
        shop.cancel_transfer("T-1")

    assert state(shop) == before


def test_a_cancelled_transfer_cannot_be_received(shop):
    shop.transfer("SKU-A", "ber", "ams", 4)
    shop.cancel_transfer("T-1")
    before = state(shop)

    with pytest.raises(InvalidStateTransition):
        shop.receive_transfer("T-1")

    assert state(shop) == before


def test_an_unknown_transfer_cannot_be_received_or_cancelled(shop):
    before = state(shop)

    with pytest.raises(UnknownTransfer):
        shop.receive_transfer("T-1")
    with pytest.raises(UnknownTransfer):
        shop.cancel_transfer("T-1")

    assert state(shop) == before


def test_a_transfer_needs_two_different_warehouses(shop):
    before = state(shop)

    with pytest.raises(ValidationError):
        shop.transfer("SKU-A", "ber", "ber", 1)

    assert state(shop) == before


@pytest.mark.parametrize(("source", "destination"), [("nowhere", "ams"), ("ber", "nowhere")])
def test_a_transfer_needs_known_warehouses(shop, source, destination):
    before = state(shop)

    with pytest.raises(UnknownWarehouse):
        shop.transfer("SKU-A", source, destination, 1)

    assert state(shop) == before


@pytest.mark.parametrize("quantity", [0, -2, 1.5, True])
def test_a_transfer_quantity_must_be_a_positive_whole_number(shop, quantity):
    before = state(shop)

    with pytest.raises(InvalidQuantity):
        shop.transfer("SKU-A", "ber", "ams", quantity)

    assert state(shop) == before


def test_transfer_ids_given_by_the_shop_are_unique(shop):
    shop.transfer("SKU-A", "ber", "ams", 1, transfer_id="TRUCK-1")
    before = state(shop)

    with pytest.raises(DuplicateCode):
        shop.transfer("SKU-A", "ber", "ams", 1, transfer_id="TRUCK-1")

    assert state(shop) == before


def test_transfers_list_by_sku_and_warehouse(shop):
    shop.transfer("SKU-A", "ber", "ams", 1)
    shop.transfer("SKU-B", "ams", "cph", 1)

    assert [t.transfer_id for t in shop.transfers()] == ["T-1", "T-2"]
    assert [t.transfer_id for t in shop.transfers(sku="SKU-B")] == ["T-2"]
    assert [t.transfer_id for t in shop.transfers(warehouse="ber")] == ["T-1"]
    assert [t.transfer_id for t in shop.transfers(warehouse="ams")] == ["T-1", "T-2"]
