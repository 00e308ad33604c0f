"""Product status, SKU flags, what can be bought, and the status sweep."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from conftest import START, unchanged

from stockkit import InventoryConfig, Product, ProductStatus
from stockkit.errors import (
    InvalidStateTransition,
    NotPurchasable,
    UnknownPluginKey,
    UnknownProduct,
)
from stockkit.product_status import status_at

DAY = dt.timedelta(days=1)
TICK = dt.timedelta(microseconds=1)


@pytest.fixture
def shop(stocked):
    """``stocked``; product "tee" (approved) has SKU TEE-M with 17 available in "web"."""
    return stocked


def test_an_approved_product_with_a_published_purchasable_sku_can_be_ordered(shop):
    placement = shop.place_order("o-1", "web", [("TEE-M", 2)])

    assert placement.allocated("1") == {"ams": 2}


@pytest.mark.parametrize("status", ["draft", "scheduled", "expired"])
def test_only_approved_products_can_be_ordered(shop, status):
    shop.update_product("tee", status=status)

    with unchanged(shop), pytest.raises(NotPurchasable, match="T-shirt") as error:
        shop.place_order("o-1", "web", [("TEE-M", 2)])
    assert (error.value.sku, error.value.quantity, error.value.line_id) == ("TEE-M", 2, "1")


@pytest.mark.parametrize("flag", ["published", "purchasable"])
def test_an_unpublished_or_unpurchasable_sku_cannot_be_ordered(shop, flag):
    shop.update_sku("tee", "TEE-M", **{flag: False})

    with unchanged(shop), pytest.raises(NotPurchasable, match="TEE-M"):
        shop.place_order("o-1", "web", [("MUG", 1), ("TEE-M", 2)])   # the MUG line is not booked either

    shop.update_sku("tee", "TEE-M", **{flag: True})
    shop.place_order("o-1", "web", [("TEE-M", 2)])


def test_a_hold_follows_the_same_rule(shop):
    shop.unpublish_product("tee")

    with unchanged(shop), pytest.raises(NotPurchasable):
        shop.hold("cart-1", "web", [("TEE-M", 1)], ttl=dt.timedelta(minutes=5))


def test_a_stock_only_sku_code_follows_no_catalogue_rule(shop):
    shop.set_level("LOOSE", "ams", on_hand=3)

    assert shop.place_order("o-1", "web", [("LOOSE", 3)]).allocated("1") == {"ams": 3}


def test_a_sku_shared_by_two_products_is_bought_through_the_one_on_sale(shop):
    shop.create_product("tee-promo", "T-shirt promo", status="draft")
    shop.add_sku("tee-promo", "TEE-M")
    shop.place_order("o-1", "web", [("TEE-M", 1)])           # "tee" is approved

    shop.unpublish_product("tee")
    with pytest.raises(NotPurchasable):
        shop.place_order("o-2", "web", [("TEE-M", 1)])       # neither is on sale now

    shop.publish_product("tee-promo")
    shop.place_order("o-3", "web", [("TEE-M", 1)])


# -- scheduled and expired products -------------------------------------------------------


def test_a_scheduled_product_becomes_purchasable_exactly_at_its_display_date(shop, clock):
    shop.update_product("tee", status="scheduled", display_date=START + DAY)

    clock.advance(DAY - TICK)
    assert shop.product_status("tee") is ProductStatus.SCHEDULED
    with pytest.raises(NotPurchasable, match="not on sale yet"):
        shop.place_order("o-1", "web", [("TEE-M", 1)])

    clock.advance(TICK)                                      # exactly the display date
    assert shop.product_status("tee") is ProductStatus.APPROVED
    assert shop.get_product("tee").status is ProductStatus.SCHEDULED   # not swept yet, sold anyway
    shop.place_order("o-1", "web", [("TEE-M", 1)])

    assert shop.sweep_product_statuses() == 1
    assert shop.get_product("tee").status is ProductStatus.APPROVED


def test_a_product_expires_exactly_at_its_expiration_date(shop, clock):
    shop.update_product("tee", expiration_date=START + DAY)
    clock.advance(DAY - TICK)
    shop.place_order("o-1", "web", [("TEE-M", 1)])

    clock.advance(TICK)
    with pytest.raises(NotPurchasable, match="no longer sold"):
        shop.place_order("o-2", "web", [("TEE-M", 1)])
    assert shop.sweep_product_statuses() == 1
    assert shop.get_product("tee").status is ProductStatus.EXPIRED


def test_the_sweep_moves_only_due_products_and_is_idempotent(inv, clock):
    inv.create_product("draft-old", "Draft", status="draft", expiration_date=START - DAY)
    inv.create_product("soon", "Soon", status="scheduled", display_date=START + DAY)
    inv.create_product("due", "Due", status="scheduled", display_date=START)
    inv.create_product("both", "Both", status="scheduled", display_date=START - DAY, expiration_date=START)
    inv.create_product("ends", "Ends", status="approved", expiration_date=START - TICK)
    inv.create_product("lasts", "Lasts", status="approved", expiration_date=START + DAY)

    assert inv.sweep_product_statuses() == 3
    assert inv.sweep_product_statuses() == 0
    assert {p.code: p.status.value for p in inv.products()} == {
        "draft-old": "draft", "soon": "scheduled", "due": "approved", "both": "expired",
        "ends": "expired", "lasts": "approved",
    }
    clock.advance(DAY)
    assert inv.sweep_product_statuses() == 2                 # "soon" shows, "lasts" ends
    assert inv.sweep_product_statuses() == 0


def test_the_sweep_agrees_with_status_at(inv, clock):
    for n in range(12):
        inv.create_product(f"p{n}", "P", status=["approved", "scheduled", "draft"][n % 3],
                           display_date=START + (n % 4 - 2) * DAY, expiration_date=START + (n % 5 - 1) * DAY)
    expected = {p.code: status_at(p, START) for p in inv.products()}

    inv.sweep_product_statuses()

    assert {p.code: p.status for p in inv.products()} == expected


def test_the_sweep_is_cheap_on_many_products(inv, backend):
    store_products = 100_000 if backend == "memory" else 20_000
    with inv.store.transaction() as tx:           # bulk setup through the store port
        for n in range(store_products):
            status = ProductStatus.SCHEDULED if n % 100 == 0 else ProductStatus.APPROVED
            tx.insert_product(Product(f"p{n:06d}", "P", status, START - DAY if n % 100 == 0 else None,
                                      START if n % 1000 == 1 else None, InventoryConfig()))
    started = time.perf_counter()
    moved = inv.sweep_product_statuses()
    took = time.perf_counter() - started

    assert moved == store_products // 100 + store_products // 1000
    assert inv.sweep_product_statuses() == 0
    assert took < 2.0, f"the sweep of {store_products} products took {took:.2f} s"


# -- publish and unpublish ----------------------------------------------------------------


def test_publish_approves_or_schedules_by_display_date(inv, clock):
    inv.create_product("now", "Now")
    inv.create_product("later", "Later", display_date=START + DAY)

    assert inv.publish_product("now").status is ProductStatus.APPROVED
    assert inv.publish_product("later").status is ProductStatus.SCHEDULED
    assert inv.unpublish_product("now").status is ProductStatus.DRAFT


def test_an_expired_product_cannot_be_published(inv):
    inv.create_product("old", "Old", expiration_date=START)

    with unchanged(inv), pytest.raises(InvalidStateTransition, match="expiration_date"):
        inv.publish_product("old")
    with pytest.raises(UnknownProduct):
        inv.publish_product("nope")


# -- configured keys must name plugins ----------------------------------------------------


@pytest.mark.parametrize(("config", "kind"), [
    (InventoryConfig(engine="nope"), "inventory engine"),
    (InventoryConfig(low_stock_action="nope"), "low-stock action"),
])
def test_a_configured_key_that_names_no_plugin_is_refused(inv, config, kind):
    with unchanged(inv), pytest.raises(UnknownPluginKey, match=f"no plugin provides the {kind} 'nope'") as error:
        inv.create_product("tee", "T-shirt", config=config)
    assert error.value.key == "nope" and error.value.known

    inv.create_product("tee", "T-shirt")
    with unchanged(inv), pytest.raises(UnknownPluginKey):
        inv.update_product("tee", config=config)
