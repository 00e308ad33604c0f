"""Inventory levels: setting and adjusting stock, what is available, versions, the ledger."""

from __future__ import annotations

import datetime as dt

import pytest
from conftest import START, unchanged

import stockkit
from stockkit import LedgerKind, Level
from stockkit.errors import (
    InsufficientStock,
    InvalidCode,
    InvalidQuantity,
    UnknownWarehouse,
    ValidationError,
    VersionConflict,
)
from stockkit.validation import MAX_QUANTITY


def test_a_level_with_no_stock_reads_as_zeros(stocked):
    assert stocked.level("CAP", "ams") == Level("CAP", "ams")
    assert stocked.available("CAP") == 0


def test_set_on_hand_and_safety(inv):
    inv.create_warehouse("ams", "Amsterdam")

    level = inv.set_level("TEE-M", "ams", on_hand=12, safety=2)

    assert (level.on_hand, level.safety, level.booked, level.available) == (12, 2, 0, 10)
    assert inv.level("TEE-M", "ams") == level


def test_set_only_one_of_on_hand_and_safety_keeps_the_other(stocked):
    stocked.set_level("TEE-M", "ber", safety=3)
    assert (stocked.level("TEE-M", "ber").on_hand, stocked.level("TEE-M", "ber").safety) == (5, 3)

    stocked.set_level("TEE-M", "ber", on_hand=9)
    assert (stocked.level("TEE-M", "ber").on_hand, stocked.level("TEE-M", "ber").safety) == (9, 3)


def test_set_level_needs_on_hand_or_safety(stocked):
    with unchanged(stocked), pytest.raises(ValidationError):
        stocked.set_level("TEE-M", "ams")


def test_available_is_on_hand_minus_safety_minus_booked(stocked):
    stocked.set_level("TEE-M", "ams", on_hand=10, safety=3)
    stocked.place_order("o1", "web", [("TEE-M", 4)])

    level = stocked.level("TEE-M", "ams")

    assert (level.on_hand, level.safety, level.booked) == (10, 3, 4)
    assert level.available == 10 - 3 - 4
    assert stocked.available("TEE-M", warehouse="ams") == 3


def test_company_wide_stock_sums_the_active_warehouses(stocked):
    stocked.add_replenishment("TEE-M", "par", 7, dt.date(2024, 2, 1))
    stocked.place_order("o1", "web", [("TEE-M", 2)])

    summary = stocked.stock("TEE-M")

    assert (summary.on_hand, summary.safety, summary.booked, summary.incoming) == (18, 1, 2, 7)
    assert summary.available == 15  # incoming is never available
    assert [lv.warehouse for lv in summary.levels] == ["ams", "ber", "par"]


def test_adjust_by_a_signed_delta(stocked):
    assert stocked.adjust("TEE-M", "ams", 5, "found in a count").on_hand == 15
    assert stocked.adjust("TEE-M", "ams", -3, "damaged").on_hand == 12
    assert stocked.level("TEE-M", "ams").available == 12


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_adjust_needs_a_reason(stocked, reason):
    with unchanged(stocked), pytest.raises(ValidationError):
        stocked.adjust("TEE-M", "ams", 1, reason)


@pytest.mark.parametrize("delta", [0, True, 1.0, 2**63, -(2**63)])
def test_adjust_needs_a_non_zero_whole_delta(stocked, delta):
    with unchanged(stocked), pytest.raises(InvalidQuantity):
        stocked.adjust("TEE-M", "ams", delta, "count")


def test_a_negative_adjust_cannot_take_more_than_is_available(stocked):
    stocked.place_order("o1", "web", [("TEE-M", 6)])  # ams: 10 on hand, 6 booked, 4 available

    with unchanged(stocked), pytest.raises(InsufficientStock) as failure:
        stocked.adjust("TEE-M", "ams", -5, "damaged")

    assert (failure.value.sku, failure.value.warehouse) == ("TEE-M", "ams")
    assert (failure.value.requested, failure.value.available) == (5, 4)
    assert stocked.adjust("TEE-M", "ams", -4, "damaged").available == 0


def test_a_negative_adjust_cannot_eat_safety_stock(stocked):
    # ber: 5 on hand, 1 safety, 4 available
    with unchanged(stocked), pytest.raises(InsufficientStock):
        stocked.adjust("TEE-M", "ber", -5, "stolen")


def test_a_negative_adjust_of_an_empty_level_fails(stocked):
    with unchanged(stocked), pytest.raises(InsufficientStock):
        stocked.adjust("CAP", "ams", -1, "count")


def test_setting_on_hand_below_what_is_booked_is_refused(stocked):
    stocked.place_order("o1", "web", [("TEE-M", 6)])

    with unchanged(stocked), pytest.raises(InsufficientStock):
        stocked.set_level("TEE-M", "ams", on_hand=5)

    assert stocked.set_level("TEE-M", "ams", on_hand=6).available == 0


def test_raising_safety_into_booked_stock_is_refused(stocked):
    stocked.place_order("o1", "web", [("TEE-M", 6)])

    with unchanged(stocked), pytest.raises(InsufficientStock):
        stocked.set_level("TEE-M", "ams", safety=5)

    assert stocked.set_level("TEE-M", "ams", safety=4).available == 0


def test_an_expired_hold_does_not_block_lowering_stock(stocked, clock):
    stocked.hold("cart-1", "web", [("MUG", 4)], ttl=dt.timedelta(minutes=15))
    with pytest.raises(InsufficientStock):
        stocked.set_level("MUG", "ams", on_hand=1)

    clock.advance(dt.timedelta(minutes=15))

    assert stocked.set_level("MUG", "ams", on_hand=1).available == 1


# -- versions ----------------------------------------------------------------------------


def test_every_change_increments_the_version(stocked):
    v0 = stocked.level("TEE-M", "ams").version

    v1 = stocked.adjust("TEE-M", "ams", 1, "count").version
    v2 = stocked.set_level("TEE-M", "ams", safety=1).version
    stocked.place_order("o1", "web", [("TEE-M", 1)])
    v3 = stocked.level("TEE-M", "ams").version

    assert (v1, v2, v3) == (v0 + 1, v0 + 2, v0 + 3)


def test_a_new_level_starts_at_version_zero(stocked):
    assert stocked.level("CAP", "ams").version == 0
    assert stocked.set_level("CAP", "ams", on_hand=1, expected_version=0).version == 1


def test_expected_version_guards_against_lost_updates(stocked):
    read = stocked.level("TEE-M", "ams")
    stocked.adjust("TEE-M", "ams", -2, "sold in the shop")  # someone else changes it

    with unchanged(stocked), pytest.raises(VersionConflict):
        stocked.set_level("TEE-M", "ams", on_hand=read.on_hand + 1, expected_version=read.version)
    with unchanged(stocked), pytest.raises(VersionConflict):
        stocked.adjust("TEE-M", "ams", 1, "count", expected_version=read.version)

    fresh = stocked.level("TEE-M", "ams")
    updated = stocked.set_level("TEE-M", "ams", on_hand=20, expected_version=fresh.version)
    assert (updated.on_hand, updated.version) == (20, fresh.version + 1)


@pytest.mark.parametrize("version", [-1, True, 1.0, "3"])
def test_expected_version_must_be_a_whole_number(stocked, version):
    with unchanged(stocked), pytest.raises(InvalidQuantity):
        stocked.set_level("TEE-M", "ams", on_hand=1, expected_version=version)


# -- unknown things and bad arguments ----------------------------------------------------


def test_levels_need_a_known_warehouse(stocked):
    with unchanged(stocked), pytest.raises(UnknownWarehouse):
        stocked.set_level("TEE-M", "lon", on_hand=3)
    with unchanged(stocked), pytest.raises(UnknownWarehouse):
        stocked.adjust("TEE-M", "lon", 3, "count")
    with pytest.raises(UnknownWarehouse):
        stocked.level("TEE-M", "lon")
    with pytest.raises(UnknownWarehouse):
        stocked.available("TEE-M", warehouse="lon")


def test_an_inactive_warehouse_keeps_levels(stocked):
    stocked.create_warehouse("lon", "London")

    assert stocked.set_level("TEE-M", "lon", on_hand=3).on_hand == 3
    assert stocked.level("TEE-M", "lon").available == 3
    assert stocked.available("TEE-M") == 17


@pytest.mark.parametrize(("arguments", "error"), [
    ({"on_hand": -1}, InvalidQuantity),
    ({"on_hand": 2.0}, InvalidQuantity),
    ({"on_hand": True}, InvalidQuantity),
    ({"on_hand": float("nan")}, InvalidQuantity),
    ({"on_hand": 2**63}, InvalidQuantity),
    ({"on_hand": "5"}, InvalidQuantity),
    ({"safety": -2}, InvalidQuantity),
    ({"on_hand": 5, "reason": 7}, ValidationError),
])
def test_set_level_refuses_bad_values(stocked, arguments, error):
    with unchanged(stocked), pytest.raises(error):
        stocked.set_level("TEE-M", "ams", **arguments)


@pytest.mark.parametrize("sku", ["", " ", "TEE\x00M", 5, "x" * 201])
def test_levels_need_a_valid_sku_code(stocked, sku):
    with unchanged(stocked), pytest.raises(InvalidCode):
        stocked.set_level(sku, "ams", on_hand=1)
    with unchanged(stocked), pytest.raises(InvalidCode):
        stocked.adjust(sku, "ams", 1, "count")


def test_zero_is_a_valid_level(stocked):
    assert stocked.set_level("TEE-M", "par", on_hand=0).on_hand == 0


def test_a_level_cannot_grow_beyond_the_largest_quantity(stocked):
    """A level beyond MAX_QUANTITY cannot be stored in a 64-bit column: adjusting a
    full level up must be refused, not produce on_hand == 2**63."""
    stocked.set_level("CAP", "ams", on_hand=MAX_QUANTITY)

    with unchanged(stocked), pytest.raises(InvalidQuantity):
        stocked.adjust("CAP", "ams", MAX_QUANTITY, "count")


# -- the ledger --------------------------------------------------------------------------


def test_set_level_writes_a_set_entry_with_the_deltas(stocked, clock):
    clock.advance(dt.timedelta(hours=1))

    stocked.set_level("TEE-M", "ber", on_hand=8, safety=0, reason="stock count", actor="alice")

    entry = stocked.ledger("TEE-M")[0]
    assert entry.kind is LedgerKind.SET
    assert (entry.sku, entry.warehouse) == ("TEE-M", "ber")
    assert (entry.on_hand, entry.safety, entry.booked, entry.incoming) == (3, -1, 0, 0)
    assert (entry.reason, entry.actor, entry.at) == ("stock count", "alice", START + dt.timedelta(hours=1))


def test_adjust_writes_an_adjusted_entry(stocked):
    stocked.adjust("TEE-M", "ams", -2, "damaged in transit")

    entry = stocked.ledger("TEE-M", warehouse="ams")[0]
    assert (entry.kind, entry.on_hand, entry.quantity, entry.reason) == (
        LedgerKind.ADJUSTED, -2, -2, "damaged in transit")


def test_each_change_is_one_entry_newest_first(inv):
    inv.create_warehouse("ams", "Amsterdam")

    inv.set_level("A", "ams", on_hand=10)
    inv.adjust("A", "ams", 4, "return")
    inv.set_level("A", "ams", safety=2)
    inv.adjust("A", "ams", -1, "damaged")

    entries = inv.ledger("A")
    assert [(e.kind, e.on_hand, e.safety) for e in entries] == [
        (LedgerKind.ADJUSTED, -1, 0),
        (LedgerKind.SET, 0, 2),
        (LedgerKind.ADJUSTED, 4, 0),
        (LedgerKind.SET, 10, 0),
    ]
    assert [e.seq for e in entries] == sorted((e.seq for e in entries), reverse=True)
    level = inv.level("A", "ams")
    assert (sum(e.on_hand for e in entries), sum(e.safety for e in entries)) == (level.on_hand, level.safety)
    assert inv.verify().ok


def test_the_ledger_filters_by_kind_and_warehouse(stocked):
    stocked.adjust("TEE-M", "par", 1, "count")

    assert [e.warehouse for e in stocked.ledger("TEE-M", kinds=["adjusted"])] == ["par"]
    assert [e.kind for e in stocked.ledger("TEE-M", warehouse="par")] == [LedgerKind.ADJUSTED, LedgerKind.SET]
    with pytest.raises(ValidationError):
        stocked.ledger("TEE-M", kinds=["nonsense"])


def test_the_actor_defaults_to_the_inventorys(clock):
    inv = stockkit.open(clock=clock, actor="importer", autoload_plugins=False)
    inv.create_warehouse("ams", "Amsterdam")

    inv.set_level("A", "ams", on_hand=1)
    inv.adjust("A", "ams", 1, "count", actor="bob")

    assert [e.actor for e in inv.ledger("A")] == ["bob", "importer"]


def test_a_failed_change_writes_no_entry(stocked):
    entries = stocked.ledger()

    with pytest.raises(InsufficientStock):
        stocked.adjust("TEE-M", "par", -4, "count")

    assert stocked.ledger() == entries
    assert stocked.verify().ok
