"""Idempotency keys: a repeated call returns the first result and changes nothing."""

# ruff: noqa: F811  (the fixtures imported from _helpers come back as test arguments)
from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from typing import Any

import pytest
from _helpers import fake_clock, inventory, shop, state  # noqa: F401  (pytest fixtures)

from stockkit.errors import (
    IdempotencyConflict,
    InsufficientStock,
    InvalidCode,
    UnknownChannel,
    UnknownOrder,
    UnknownTransfer,
    UnknownWarehouse,
    WarehouseNotEmpty,
    WarehouseWithoutLocation,
)

MAY_1 = dt.date(2024, 5, 1)
TTL = dt.timedelta(minutes=15)
KEY = "key-1"

Setup = Callable[[Any, Any], None]
Call = Callable[[Any, str], Any]


def nothing(inv, clock):
    pass


def product(inv, clock):
    inv.create_product("tee", "T-shirt")


def product_and_sku(inv, clock):
    product(inv, clock)
    inv.add_sku("tee", "TEE-M")


def empty_warehouse(inv, clock):
    inv.create_warehouse("empty", "Empty")


def order(inv, clock):
    inv.place_order("o1", "web", [("SKU-A", 4), ("SKU-B", 1)])


def two_holds(inv, clock):
    inv.hold("h1", "web", [("SKU-A", 2)], ttl=TTL)
    inv.hold("h2", "web", [("SKU-A", 1)], ttl=TTL)


def two_shipments(inv, clock):
    order(inv, clock)
    inv.ship("o1", "1", "ams", 1)
    inv.ship("o1", "1", "ams", 1)


def transfer(inv, clock):
    inv.transfer("SKU-A", "ber", "ams", 3)


def replenishments(inv, clock):
    inv.add_replenishment("SKU-A", "ams", 10, MAY_1)
    inv.add_replenishment("SKU-B", "ams", 10, MAY_1)


def old_history(inv, clock):
    inv.adjust("SKU-A", "ams", 1, "old")
    clock.advance(dt.timedelta(days=100))
    inv.adjust("SKU-A", "ams", 1, "not so old")
    clock.advance(dt.timedelta(days=300))
    inv.adjust("SKU-A", "ams", 1, "recent")


def csv(text: str) -> io.StringIO:
    return io.StringIO(text)


#: (name, setup, call, the same call with other arguments or another operation)
CASES: list[tuple[str, Setup, Call, Call]] = [
    ("create_warehouse", nothing,
     lambda inv, k: inv.create_warehouse("osl", "Oslo", idempotency_key=k),
     lambda inv, k: inv.create_warehouse("osl", "Oslo North", idempotency_key=k)),
    ("update_warehouse", nothing,
     lambda inv, k: inv.update_warehouse("ams", city="Noord", idempotency_key=k),
     lambda inv, k: inv.update_warehouse("ams", city="Zaandam", idempotency_key=k)),
    ("activate_warehouse", nothing,
     lambda inv, k: inv.activate_warehouse("cph", idempotency_key=k),
     lambda inv, k: inv.deactivate_warehouse("cph", idempotency_key=k)),
    ("deactivate_warehouse", nothing,
     lambda inv, k: inv.deactivate_warehouse("ber", idempotency_key=k),
     lambda inv, k: inv.deactivate_warehouse("ams", idempotency_key=k)),
    ("delete_warehouse", empty_warehouse,
     lambda inv, k: inv.delete_warehouse("empty", idempotency_key=k),
     lambda inv, k: inv.delete_warehouse("empty", force=True, idempotency_key=k)),
    ("delete_warehouse_forced", order,
     lambda inv, k: inv.delete_warehouse("ams", force=True, idempotency_key=k),
     lambda inv, k: inv.delete_warehouse("ber", force=True, idempotency_key=k)),
    ("create_channel", nothing,
     lambda inv, k: inv.create_channel("b2b", "B2B", idempotency_key=k),
     lambda inv, k: inv.create_channel("b2b", "Business", idempotency_key=k)),
    ("link_warehouse", nothing,
     lambda inv, k: inv.link_warehouse("market", "ams", priority=3, idempotency_key=k),
     lambda inv, k: inv.link_warehouse("market", "ams", priority=4, idempotency_key=k)),
    ("unlink_warehouse", nothing,
     lambda inv, k: inv.unlink_warehouse("web", "ber", idempotency_key=k),
     lambda inv, k: inv.unlink_warehouse("web", "ams", idempotency_key=k)),
    ("create_product", nothing,
     lambda inv, k: inv.create_product("tee", "T-shirt", idempotency_key=k),
     lambda inv, k: inv.create_product("tee", "Tee", idempotency_key=k)),
    ("update_product", product,
     lambda inv, k: inv.update_product("tee", name="Tee", status="approved", idempotency_key=k),
     lambda inv, k: inv.update_product("tee", name="Tee", status="expired", idempotency_key=k)),
    ("add_sku", product,
     lambda inv, k: inv.add_sku("tee", "TEE-M", idempotency_key=k),
     lambda inv, k: inv.add_sku("tee", "TEE-L", idempotency_key=k)),
    ("update_sku", product_and_sku,
     lambda inv, k: inv.update_sku("tee", "TEE-M", published=False, idempotency_key=k),
     lambda inv, k: inv.update_sku("tee", "TEE-M", purchasable=False, idempotency_key=k)),
    ("set_level", nothing,
     lambda inv, k: inv.set_level("SKU-A", "ams", on_hand=9, idempotency_key=k),
     lambda inv, k: inv.set_level("SKU-A", "ams", on_hand=8, idempotency_key=k)),
    ("adjust", nothing,
     lambda inv, k: inv.adjust("SKU-A", "ams", 2, "count", idempotency_key=k),
     lambda inv, k: inv.adjust("SKU-A", "ams", 3, "count", idempotency_key=k)),
    ("place_order", nothing,
     lambda inv, k: inv.place_order("o9", "web", [("SKU-A", 2)], idempotency_key=k),
     lambda inv, k: inv.place_order("o9", "web", [("SKU-A", 3)], idempotency_key=k)),
    ("hold", nothing,
     lambda inv, k: inv.hold("h9", "web", [("SKU-A", 2)], ttl=TTL, idempotency_key=k),
     lambda inv, k: inv.hold("h9", "web", [("SKU-A", 2)], ttl=2 * TTL, idempotency_key=k)),
    ("confirm_hold", two_holds,
     lambda inv, k: inv.confirm_hold("h1", idempotency_key=k),
     lambda inv, k: inv.confirm_hold("h2", idempotency_key=k)),
    ("release", order,
     lambda inv, k: inv.release("o1", idempotency_key=k),
     lambda inv, k: inv.release("o1", "1", idempotency_key=k)),
    ("ship", order,
     lambda inv, k: inv.ship("o1", "1", "ams", 1, idempotency_key=k),
     lambda inv, k: inv.ship("o1", "1", "ams", 2, idempotency_key=k)),
    ("cancel_shipment", two_shipments,
     lambda inv, k: inv.cancel_shipment("S-1", idempotency_key=k),
     lambda inv, k: inv.cancel_shipment("S-2", idempotency_key=k)),
    ("transfer", nothing,
     lambda inv, k: inv.transfer("SKU-A", "ber", "ams", 2, idempotency_key=k),
     lambda inv, k: inv.transfer("SKU-A", "ber", "ams", 3, idempotency_key=k)),
    ("receive_transfer", transfer,
     lambda inv, k: inv.receive_transfer("T-1", idempotency_key=k),
     lambda inv, k: inv.cancel_transfer("T-1", idempotency_key=k)),
    ("cancel_transfer", transfer,
     lambda inv, k: inv.cancel_transfer("T-1", idempotency_key=k),
     lambda inv, k: inv.receive_transfer("T-1", idempotency_key=k)),
    ("add_replenishment", nothing,
     lambda inv, k: inv.add_replenishment("SKU-A", "ams", 5, MAY_1, idempotency_key=k),
     lambda inv, k: inv.add_replenishment("SKU-A", "ams", 5, dt.date(2024, 5, 2), idempotency_key=k)),
    ("receive_replenishment", replenishments,
     lambda inv, k: inv.receive_replenishment("R-1", 4, idempotency_key=k),
     lambda inv, k: inv.receive_replenishment("R-1", 5, idempotency_key=k)),
    ("cancel_replenishment", replenishments,
     lambda inv, k: inv.cancel_replenishment("R-1", idempotency_key=k),
     lambda inv, k: inv.cancel_replenishment("R-2", idempotency_key=k)),
    ("prune_ledger_by_age", old_history,
     lambda inv, k: inv.prune_ledger(dt.timedelta(days=365), idempotency_key=k),
     lambda inv, k: inv.prune_ledger(dt.timedelta(days=30), idempotency_key=k)),
    ("prune_ledger_by_time", old_history,
     lambda inv, k: inv.prune_ledger(dt.datetime(2024, 6, 1, tzinfo=dt.UTC), idempotency_key=k),
     lambda inv, k: inv.prune_ledger(dt.datetime(2024, 7, 1, tzinfo=dt.UTC), idempotency_key=k)),
    ("import_levels", nothing,
     lambda inv, k: inv.import_levels(csv("sku,warehouse,on_hand\nSKU-A,ams,9\n"), idempotency_key=k),
     lambda inv, k: inv.import_levels(csv("sku,warehouse,on_hand\nSKU-A,ams,8\n"), idempotency_key=k)),
]


@pytest.mark.parametrize(("setup", "call", "different"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_repeating_a_call_with_its_key_returns_the_first_result_and_changes_nothing(
    shop, fake_clock, setup, call, different
):
    setup(shop, fake_clock)
    first = call(shop, KEY)
    after_first = state(shop)
    fake_clock.advance(dt.timedelta(seconds=1))

    again = call(shop, KEY)

    assert again == first
    assert type(again) is type(first)
    assert state(shop) == after_first
    assert shop.verify().ok


@pytest.mark.parametrize(("setup", "call", "different"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_the_same_key_with_other_arguments_is_refused(shop, fake_clock, setup, call, different):
    setup(shop, fake_clock)
    call(shop, KEY)
    after_first = state(shop)

    with pytest.raises(IdempotencyConflict):
        different(shop, KEY)

    assert state(shop) == after_first


def oslo(inv, clock):
    inv.create_warehouse("osl", "Oslo")


#: (name, setup, a call that fails, what fixes its cause, the error before the fix)
FAILURES = [
    ("place_order", nothing,
     lambda inv, k: inv.place_order("o1", "web", [("SKU-B", 5)], idempotency_key=k),
     lambda inv: inv.adjust("SKU-B", "ams", 2, "found"), InsufficientStock),
    ("transfer", nothing,
     lambda inv, k: inv.transfer("SKU-B", "ams", "ber", 4, idempotency_key=k),
     lambda inv: inv.adjust("SKU-B", "ams", 1, "found"), InsufficientStock),
    ("set_level", nothing,
     lambda inv, k: inv.set_level("SKU-A", "osl", on_hand=4, idempotency_key=k),
     lambda inv: inv.create_warehouse("osl", "Oslo"), UnknownWarehouse),
    ("link_warehouse", nothing,
     lambda inv, k: inv.link_warehouse("b2b", "ams", idempotency_key=k),
     lambda inv: inv.create_channel("b2b", "B2B"), UnknownChannel),
    ("activate_warehouse", oslo,
     lambda inv, k: inv.activate_warehouse("osl", idempotency_key=k),
     lambda inv: inv.update_warehouse("osl", latitude=59.9, longitude=10.7), WarehouseWithoutLocation),
    ("delete_warehouse", nothing,
     lambda inv, k: inv.delete_warehouse("ber", idempotency_key=k),
     lambda inv: inv.set_level("SKU-A", "ber", on_hand=0), WarehouseNotEmpty),
    ("confirm_hold", nothing,
     lambda inv, k: inv.confirm_hold("h1", idempotency_key=k),
     lambda inv: inv.hold("h1", "web", [("SKU-A", 1)], ttl=TTL), UnknownOrder),
    ("ship", nothing,
     lambda inv, k: inv.ship("o1", "1", "ams", 1, idempotency_key=k),
     lambda inv: inv.place_order("o1", "web", [("SKU-A", 1)]), UnknownOrder),
    ("receive_transfer", nothing,
     lambda inv, k: inv.receive_transfer("T-1", idempotency_key=k),
     lambda inv: inv.transfer("SKU-A", "ber", "ams", 1), UnknownTransfer),
]


@pytest.mark.parametrize(("setup", "call", "fix", "error"), [f[1:] for f in FAILURES], ids=[f[0] for f in FAILURES])
def test_a_failed_call_does_not_use_up_its_key(shop, fake_clock, setup, call, fix, error):
    setup(shop, fake_clock)
    before = state(shop)

    with pytest.raises(error):
        call(shop, KEY)
    assert state(shop) == before
    fix(shop)
    fixed = state(shop)

    result = call(shop, KEY)

    assert state(shop) != fixed
    assert call(shop, KEY) == result


def test_a_replayed_call_does_not_redo_its_work_after_later_changes(shop):
    first = shop.place_order("o1", "web", [("SKU-A", 3)], idempotency_key="checkout-1")
    shop.release("o1")

    again = shop.place_order("o1", "web", [("SKU-A", 3)], idempotency_key="checkout-1")

    assert again == first
    assert shop.bookings(order_id="o1") == []
    assert shop.level("SKU-A", "ams").booked == 0


def test_a_replayed_shipment_does_not_ship_again(shop):
    shop.place_order("o1", "web", [("SKU-A", 4)])

    first = shop.ship("o1", "1", "ams", 2, idempotency_key="parcel-1")
    again = shop.ship("o1", "1", "ams", 2, idempotency_key="parcel-1")

    assert again.shipment_id == first.shipment_id == "S-1"
    assert [s.shipment_id for s in shop.shipments()] == ["S-1"]
    assert shop.level("SKU-A", "ams").on_hand == 3


def test_keyword_order_does_not_make_a_call_different(shop):
    # update_warehouse(code, name=..., city=...) and update_warehouse(code, city=..., name=...)
    # are the same call in Python; a retry that builds its keyword arguments in another
    # order must replay, not be refused.
    first = shop.update_warehouse("ams", name="AMS-1", city="Noord", idempotency_key=KEY)
    after_first = state(shop)

    again = shop.update_warehouse("ams", city="Noord", name="AMS-1", idempotency_key=KEY)

    assert again == first
    assert state(shop) == after_first


def test_keys_are_separate_per_key(shop):
    shop.adjust("SKU-A", "ams", 1, "count", idempotency_key="k1")
    shop.adjust("SKU-A", "ams", 1, "count", idempotency_key="k2")

    assert shop.level("SKU-A", "ams").on_hand == 7


@pytest.mark.parametrize("key", ["", "   ", "a\x00b", 42])
def test_a_malformed_key_is_refused(shop, key):
    before = state(shop)

    with pytest.raises(InvalidCode):
        shop.adjust("SKU-A", "ams", 1, "count", idempotency_key=key)

    assert state(shop) == before
