"""The inventory configuration enforced: order-line rules, back orders, the availability
label and the displayable quantity, per channel."""

from __future__ import annotations

import datetime as dt

import pytest
from conftest import unchanged

from stockkit import InventoryConfig, OrderLine
from stockkit.errors import (
    AboveMaximumQuantity,
    BelowMinimumQuantity,
    InsufficientStock,
    NotAMultiple,
    NotPurchasable,
    OrderLineRejected,
    QuantityNotAllowed,
    UnknownProduct,
    UnknownSku,
)

MINUTES = dt.timedelta(minutes=15)


def configure(inv, **settings):
    """Give product "tee" (SKU TEE-M, 17 available in "web") this configuration."""
    inv.update_product("tee", config=InventoryConfig(**settings))


@pytest.fixture
def shop(stocked):
    return stocked


# -- each rule, and the order they are checked in ----------------------------------------


@pytest.mark.parametrize(("settings", "quantity", "error", "words"), [
    ({"min_order_quantity": 3}, 2, BelowMinimumQuantity, "minimum order quantity of TEE-M is 3"),
    ({"max_order_quantity": 4}, 5, AboveMaximumQuantity, "maximum order quantity of TEE-M is 4"),
    ({"allowed_order_quantities": (2, 4, 6)}, 3, QuantityNotAllowed, "only in these quantities: 2, 4, 6"),
    ({"multiple_order_quantity": 5}, 7, NotAMultiple, "multiples of 5"),
    ({}, 18, InsufficientStock, "cannot supply 18 of TEE-M"),
])
def test_each_rule_refuses_the_line_with_its_own_error(shop, settings, quantity, error, words):
    configure(shop, **settings)

    with unchanged(shop), pytest.raises(error, match=words):
        shop.place_order("o-1", "web", [("MUG", 1), OrderLine("x", "TEE-M", quantity)])


@pytest.mark.parametrize(("settings", "quantity"), [
    ({"min_order_quantity": 3}, 3),
    ({"max_order_quantity": 4}, 4),
    ({"max_order_quantity": 0, "min_order_quantity": 1}, 17),      # 0: no limit
    ({"allowed_order_quantities": (2, 4, 6)}, 6),
    ({"multiple_order_quantity": 5}, 15),
    ({}, 17),
])
def test_each_rule_accepts_its_boundary(shop, settings, quantity):
    configure(shop, **settings)

    assert sum(shop.place_order("o-1", "web", [("TEE-M", quantity)]).allocated("1").values()) == quantity


def test_max_zero_means_no_limit(shop):
    configure(shop, max_order_quantity=0)
    shop.set_level("TEE-M", "ams", on_hand=50_000)

    shop.place_order("o-1", "web", [("TEE-M", 20_000)])


def test_the_default_maximum_is_ten_thousand(shop):
    shop.set_level("TEE-M", "ams", on_hand=50_000)

    with pytest.raises(AboveMaximumQuantity) as error:
        shop.place_order("o-1", "web", [("TEE-M", 10_001)])
    assert (error.value.maximum, error.value.quantity) == (10_000, 10_001)
    shop.place_order("o-1", "web", [("TEE-M", 10_000)])


def test_allowed_quantities_are_checked_before_the_multiple(shop):
    configure(shop, allowed_order_quantities=(3, 6, 8), multiple_order_quantity=3)

    with pytest.raises(QuantityNotAllowed):
        shop.place_order("o-1", "web", [("TEE-M", 9)])      # a multiple of 3, but not allowed
    with pytest.raises(NotAMultiple) as error:
        shop.place_order("o-1", "web", [("TEE-M", 8)])      # allowed, but not a multiple
    assert error.value.multiple == 3
    shop.place_order("o-1", "web", [("TEE-M", 6)])


@pytest.mark.parametrize(("settings", "quantity", "first"), [
    # every rule broken at once: not purchasable comes first
    ({"min_order_quantity": 30, "max_order_quantity": 40, "multiple_order_quantity": 7,
      "allowed_order_quantities": (35,)}, 50, NotPurchasable),
])
def test_not_purchasable_comes_first(shop, settings, quantity, first):
    configure(shop, **settings)
    shop.update_sku("tee", "TEE-M", purchasable=False)

    with pytest.raises(first):
        shop.place_order("o-1", "web", [("TEE-M", quantity)])


@pytest.mark.parametrize(("settings", "quantity", "first"), [
    ({"min_order_quantity": 30, "max_order_quantity": 40, "multiple_order_quantity": 7,
      "allowed_order_quantities": (35,)}, 20, BelowMinimumQuantity),
    ({"min_order_quantity": 3, "max_order_quantity": 4, "multiple_order_quantity": 7,
      "allowed_order_quantities": (3,)}, 50, AboveMaximumQuantity),
    ({"multiple_order_quantity": 7, "allowed_order_quantities": (3,)}, 50, QuantityNotAllowed),
    ({"multiple_order_quantity": 7}, 50, NotAMultiple),
    ({}, 50, InsufficientStock),
])
def test_the_first_failure_in_domain_order_is_reported(shop, settings, quantity, first):
    configure(shop, **settings)

    with unchanged(shop), pytest.raises(first):
        shop.place_order("o-1", "web", [("TEE-M", quantity)])


def test_rule_errors_share_a_base_class_with_line_details(shop):
    configure(shop, min_order_quantity=2)

    with pytest.raises(OrderLineRejected) as error:
        shop.hold("cart", "web", [OrderLine("L7", "TEE-M", 1)], ttl=MINUTES)
    assert (error.value.sku, error.value.quantity, error.value.line_id, error.value.minimum) == ("TEE-M", 1, "L7", 2)


# -- back orders --------------------------------------------------------------------------


def test_without_back_orders_nothing_beyond_stock_is_booked(shop):
    with unchanged(shop), pytest.raises(InsufficientStock):
        shop.place_order("o-1", "web", [("TEE-M", 20)])


def test_back_orders_book_beyond_stock_at_the_first_warehouse(shop):
    configure(shop, allow_back_orders=True)

    placement = shop.place_order("o-1", "web", [("TEE-M", 20)])

    assert placement.allocated("1") == {"ams": 13, "ber": 4, "par": 3}   # 10 + 3 beyond stock at ams
    assert shop.available("TEE-M") == -3
    assert shop.available("TEE-M", warehouse="ams") == -3
    assert shop.verify().ok
    assert shop.ledger("TEE-M", kinds=["booked"])[0].order_id == "o-1"


def test_only_back_order_skus_go_below_zero(shop):
    configure(shop, allow_back_orders=True)

    with unchanged(shop), pytest.raises(InsufficientStock, match="MUG"):
        shop.place_order("o-1", "web", [("TEE-M", 20), ("MUG", 5)])
    with pytest.raises(InsufficientStock):
        shop.adjust("MUG", "ams", -5, "count")             # MUG has no back orders: never below zero


def test_back_orders_with_holds_count_until_they_expire(shop, clock):
    configure(shop, allow_back_orders=True)
    shop.hold("cart-1", "web", [("TEE-M", 20)], ttl=MINUTES)
    assert shop.available("TEE-M") == -3

    clock.advance(MINUTES)
    assert shop.available("TEE-M") == 17               # the back-ordered hold counts for nothing
    assert shop.sweep_expired_holds() == 3              # its bookings at ams, ber and par
    assert shop.available("TEE-M") == 17
    assert shop.verify().ok


def test_a_confirmed_back_ordered_hold_stays_booked_and_ships_when_stock_arrives(shop):
    configure(shop, allow_back_orders=True)
    shop.hold("cart-1", "web", [("TEE-M", 20)], ttl=MINUTES)
    shop.confirm_hold("cart-1")

    shop.adjust("TEE-M", "ams", 3, "delivery")
    assert shop.available("TEE-M") == 0
    shop.ship("cart-1", "1", "ams", 13)
    assert shop.level("TEE-M", "ams").booked == 0
    assert shop.verify().ok


def test_other_rules_still_apply_to_back_orders(shop):
    configure(shop, allow_back_orders=True, max_order_quantity=25)

    with pytest.raises(AboveMaximumQuantity):
        shop.place_order("o-1", "web", [("TEE-M", 26)])


def test_back_orders_cannot_be_undercut_by_other_changes(shop):
    configure(shop, allow_back_orders=True)
    shop.place_order("o-1", "web", [("TEE-M", 20)])

    with pytest.raises(InsufficientStock):
        shop.adjust("TEE-M", "ams", -1, "damaged")         # would take available further below zero
    shop.adjust("TEE-M", "ams", 1, "found")                # raising it is fine


# -- the availability label and the displayable quantity ----------------------------------


@pytest.mark.parametrize(("threshold", "label"), [(16, "available"), (17, "unavailable"), (18, "unavailable")])
def test_the_label_is_available_iff_available_is_above_the_threshold(shop, threshold, label):
    configure(shop, low_stock_threshold=threshold, display_availability=True)

    view = shop.availability("TEE-M")

    assert (view.available, view.threshold, view.label, view.display_label) == (17, threshold, label, label)


def test_the_label_and_quantity_are_shown_only_when_configured(shop):
    view = shop.availability("TEE-M")
    assert (view.label, view.display_label, view.display_quantity) == ("available", None, None)

    configure(shop, display_availability=True, display_stock_quantity=True)
    view = shop.availability("TEE-M")
    assert (view.display_label, view.display_quantity, view.purchasable) == ("available", 17, True)


def test_the_displayed_quantity_is_never_negative(shop):
    configure(shop, allow_back_orders=True, display_stock_quantity=True)
    shop.place_order("o-1", "web", [("TEE-M", 20)])

    view = shop.availability("TEE-M")

    assert (view.available, view.display_quantity, view.back_orders) == (-3, 0, True)


def test_availability_is_per_channel(shop):
    shop.create_channel("b2b", "B2B")
    shop.link_warehouse("b2b", "par")
    configure(shop, low_stock_threshold=3, display_availability=True, display_stock_quantity=True)

    web, b2b = shop.availability("TEE-M", channel="web"), shop.availability("TEE-M", channel="b2b")

    assert (web.available, web.label, web.display_quantity) == (17, "available", 17)
    assert (b2b.available, b2b.label, b2b.display_quantity) == (3, "unavailable", 3)
    with pytest.raises(InsufficientStock):
        shop.place_order("o-1", "b2b", [("TEE-M", 4)])      # availability rule: the channel's stock
    shop.place_order("o-1", "b2b", [("TEE-M", 3)])


def test_availability_says_whether_the_sku_can_be_bought(shop):
    shop.unpublish_product("tee")

    assert shop.availability("TEE-M").purchasable is False
    assert shop.availability("LOOSE").purchasable is True      # stock only: no rules
    assert shop.availability("LOOSE").product is None


def test_availability_of_a_named_product(shop):
    shop.create_product("tee-b2b", "T-shirt B2B", status="approved",
                        config=InventoryConfig(low_stock_threshold=20, display_availability=True))
    shop.add_sku("tee-b2b", "TEE-M")

    assert shop.availability("TEE-M").product == "tee"                 # the first on sale
    view = shop.availability("TEE-M", product="tee-b2b")
    assert (view.product, view.threshold, view.display_label) == ("tee-b2b", 20, "unavailable")
    with pytest.raises(UnknownSku):
        shop.availability("MUG", product="tee-b2b")
    with pytest.raises(UnknownProduct):
        shop.availability("MUG", product="nope")
