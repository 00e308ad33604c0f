"""Products, their inventory configuration, and their SKUs."""

from __future__ import annotations

import datetime as dt

import attrs
import pytest
from conftest import START, unchanged

from stockkit import InventoryConfig, Product, ProductStatus, Sku
from stockkit.errors import (
    DuplicateCode,
    InvalidCode,
    InvalidDate,
    InvalidQuantity,
    UnknownProduct,
    UnknownSku,
    ValidationError,
)

# -- products ----------------------------------------------------------------------------


def test_a_new_product_is_a_draft_with_the_default_configuration(inv):
    product = inv.create_product("tee", "T-shirt")

    assert product == Product(code="tee", name="T-shirt", status=ProductStatus.DRAFT,
                              config=InventoryConfig())
    assert inv.get_product("tee") == product


def test_the_default_configuration_is_liferays():
    config = InventoryConfig()

    assert config.engine == "default"
    assert config.low_stock_threshold == 0
    assert config.low_stock_action is None
    assert config.display_availability is False
    assert config.display_stock_quantity is False
    assert config.allow_back_orders is False
    assert config.min_order_quantity == 1
    assert config.max_order_quantity == 10000
    assert config.allowed_order_quantities == ()
    assert config.multiple_order_quantity == 1
    assert config.availability_estimate is None


def test_create_with_a_configuration_and_dates(inv):
    config = InventoryConfig(low_stock_threshold=5, allow_back_orders=True, min_order_quantity=2,
                             max_order_quantity=0, allowed_order_quantities=[2, 4, 6],
                             multiple_order_quantity=2, low_stock_action="unpublish")
    shows = START + dt.timedelta(days=7)
    ends = START + dt.timedelta(days=90)

    product = inv.create_product("tee", "T-shirt", status="scheduled", config=config,
                                 display_date=shows, expiration_date=ends)

    assert product.status is ProductStatus.SCHEDULED
    assert product.config == config
    assert product.config.allowed_order_quantities == (2, 4, 6)
    assert (product.display_date, product.expiration_date) == (shows, ends)
    assert inv.get_product("tee") == product


def test_dates_are_stored_in_utc(inv):
    cet = dt.timezone(dt.timedelta(hours=1))

    product = inv.create_product("tee", "T-shirt", display_date=dt.datetime(2024, 3, 1, 9, 0, tzinfo=cet))

    assert product.display_date == dt.datetime(2024, 3, 1, 8, 0, tzinfo=dt.UTC)
    assert product.display_date.tzinfo == dt.UTC


@pytest.mark.parametrize("status", list(ProductStatus) + ["draft", "approved", "scheduled", "expired"])
def test_every_status_value_is_accepted(inv, status):
    assert inv.create_product("tee", "T-shirt", status=status).status is ProductStatus(status)


@pytest.mark.parametrize("status", ["published", "APPROVED", "", None, 1])
def test_an_unknown_status_is_refused(inv, status):
    with unchanged(inv), pytest.raises(ValidationError, match="draft, approved, scheduled, expired"):
        inv.create_product("tee", "T-shirt", status=status)


def test_a_product_code_is_unique(inv):
    inv.create_product("tee", "T-shirt")

    with unchanged(inv), pytest.raises(DuplicateCode):
        inv.create_product("tee", "Another T-shirt")


@pytest.mark.parametrize(("code", "name", "error"), [
    ("", "T-shirt", InvalidCode),
    ("te\x00e", "T-shirt", InvalidCode),
    ("tee", "", ValidationError),
    ("tee", "   ", ValidationError),
    ("tee", 5, ValidationError),
])
def test_a_product_needs_a_code_and_a_name(inv, code, name, error):
    with unchanged(inv), pytest.raises(error):
        inv.create_product(code, name)


def test_product_dates_must_carry_a_time_zone(inv):
    with unchanged(inv), pytest.raises(InvalidDate):
        inv.create_product("tee", "T-shirt", display_date=dt.datetime(2024, 3, 1))
    with unchanged(inv), pytest.raises(InvalidDate):
        inv.create_product("tee", "T-shirt", expiration_date=dt.date(2024, 3, 1))


@pytest.mark.parametrize(
    ("config", "error"),
    [
        (InventoryConfig(min_order_quantity=20, max_order_quantity=10), InvalidQuantity),
        (InventoryConfig(multiple_order_quantity=0), InvalidQuantity),
        (InventoryConfig(min_order_quantity=2.0), InvalidQuantity),
        (InventoryConfig(low_stock_threshold=True), InvalidQuantity),
        (InventoryConfig(max_order_quantity=2**63), InvalidQuantity),
        (InventoryConfig(allowed_order_quantities=(2, 0)), InvalidQuantity),
        (InventoryConfig(allowed_order_quantities=(2, 4.0)), InvalidQuantity),
        (InventoryConfig(engine=""), InvalidCode),
        (InventoryConfig(low_stock_action="  "), InvalidCode),
        ({"min_order_quantity": 1}, ValidationError),
    ],
)
def test_a_bad_configuration_is_refused(inv, config, error):
    with unchanged(inv), pytest.raises(error):
        inv.create_product("tee", "T-shirt", config=config)


def test_min_above_max_is_refused_with_a_message_naming_both(inv):
    with pytest.raises(ValidationError, match="min_order_quantity 20 exceeds max_order_quantity 10"):
        inv.create_product("tee", "T-shirt", config=InventoryConfig(min_order_quantity=20, max_order_quantity=10))


def test_max_zero_means_no_limit_so_any_minimum_is_fine(inv):
    config = InventoryConfig(min_order_quantity=500, max_order_quantity=0)

    assert inv.create_product("tee", "T-shirt", config=config).config == config


def test_negative_configuration_values_are_refused_by_the_model():
    with pytest.raises(ValueError):
        InventoryConfig(low_stock_threshold=-1)


def test_update_changes_the_given_fields(inv):
    inv.create_product("tee", "T-shirt")
    config = InventoryConfig(low_stock_threshold=3)

    updated = inv.update_product("tee", name="Tee", status=ProductStatus.APPROVED, config=config)

    assert (updated.name, updated.status, updated.config) == ("Tee", ProductStatus.APPROVED, config)
    assert inv.get_product("tee") == updated


def test_update_can_clear_a_date(inv):
    inv.create_product("tee", "T-shirt", expiration_date=START + dt.timedelta(days=1))

    assert inv.update_product("tee", expiration_date=None).expiration_date is None


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"sku": "TEE-M"},
        {"name": "Tee", "colour": "red"},
        {"status": "gone"},
        {"name": ""},
        {"config": InventoryConfig(min_order_quantity=3, max_order_quantity=2)},
        {"display_date": dt.datetime(2024, 3, 1)},
    ],
)
def test_a_bad_update_changes_nothing(inv, changes):
    inv.create_product("tee", "T-shirt")

    with unchanged(inv), pytest.raises(ValidationError):
        inv.update_product("tee", **changes)


def test_update_of_an_unknown_product(inv):
    with unchanged(inv), pytest.raises(UnknownProduct):
        inv.update_product("tee", name="Tee")


def test_get_an_unknown_product(inv):
    with pytest.raises(UnknownProduct):
        inv.get_product("tee")


def test_products_are_listed_by_code(inv):
    for code in ("tee", "mug", "cap"):
        inv.create_product(code, code.title())

    assert [p.code for p in inv.products()] == ["cap", "mug", "tee"]


# -- SKUs --------------------------------------------------------------------------------


def test_a_new_sku_is_published_and_purchasable(inv):
    inv.create_product("tee", "T-shirt")

    sku = inv.add_sku("tee", "TEE-M")

    assert sku == Sku("tee", "TEE-M", published=True, purchasable=True)
    assert inv.skus("tee") == [sku]


def test_add_a_sku_with_flags(inv):
    inv.create_product("tee", "T-shirt")

    sku = inv.add_sku("tee", "TEE-XL", published=False, purchasable=False)

    assert (sku.published, sku.purchasable) == (False, False)
    assert inv.skus() == [sku]


def test_a_sku_needs_a_known_product(inv):
    with unchanged(inv), pytest.raises(UnknownProduct):
        inv.add_sku("tee", "TEE-M")


def test_a_product_has_a_sku_code_once(inv):
    inv.create_product("tee", "T-shirt")
    inv.add_sku("tee", "TEE-M")

    with unchanged(inv), pytest.raises(DuplicateCode):
        inv.add_sku("tee", "TEE-M", published=False)


def test_products_sharing_a_sku_code_share_its_stock(stocked):
    stocked.create_product("tee-bundle", "T-shirt bundle")

    stocked.add_sku("tee-bundle", "TEE-M")

    assert [s.product for s in stocked.skus() if s.code == "TEE-M"] == ["tee", "tee-bundle"]
    assert stocked.available("TEE-M") == 17


@pytest.mark.parametrize(("arguments", "error"), [
    ({"code": ""}, InvalidCode),
    ({"code": "TEE\tM"}, InvalidCode),
    ({"code": "T" * 201}, InvalidCode),
    ({"code": "TEE-M", "published": 1}, ValidationError),
    ({"code": "TEE-M", "purchasable": None}, ValidationError),
])
def test_bad_sku_arguments(inv, arguments, error):
    inv.create_product("tee", "T-shirt")

    with unchanged(inv), pytest.raises(error):
        inv.add_sku("tee", **arguments)


def test_update_sku_flags(stocked):
    unpublished = stocked.update_sku("tee", "TEE-M", published=False)
    assert unpublished == Sku("tee", "TEE-M", published=False, purchasable=True)

    both = stocked.update_sku("tee", "TEE-M", published=True, purchasable=False)
    assert both == Sku("tee", "TEE-M", published=True, purchasable=False)
    assert stocked.skus("tee") == [both]


@pytest.mark.parametrize("changes", [{}, {"sku": "X"}, {"published": "no"},
                                     {"purchasable": False, "price": 3}])
def test_a_bad_sku_update_changes_nothing(stocked, changes):
    with unchanged(stocked), pytest.raises(ValidationError):
        stocked.update_sku("tee", "TEE-M", **changes)


def test_update_of_an_unknown_sku_or_product(stocked):
    with unchanged(stocked), pytest.raises(UnknownSku):
        stocked.update_sku("tee", "TEE-XXL", published=False)
    with unchanged(stocked), pytest.raises(UnknownSku):
        stocked.update_sku("tee", "MUG", published=False)  # MUG belongs to another product
    with unchanged(stocked), pytest.raises(UnknownProduct):
        stocked.update_sku("hat", "TEE-M", published=False)


def test_skus_are_listed_by_product_then_code(inv):
    inv.create_product("tee", "T-shirt")
    inv.create_product("cap", "Cap")
    for product, code in [("tee", "TEE-S"), ("cap", "CAP"), ("tee", "TEE-L"), ("tee", "TEE-M")]:
        inv.add_sku(product, code)

    assert [(s.product, s.code) for s in inv.skus()] == [
        ("cap", "CAP"), ("tee", "TEE-L"), ("tee", "TEE-M"), ("tee", "TEE-S")
    ]
    assert [s.code for s in inv.skus("tee")] == ["TEE-L", "TEE-M", "TEE-S"]
    assert inv.skus("cap") == [Sku("cap", "CAP")]


def test_skus_of_an_unknown_product(inv):
    with pytest.raises(UnknownProduct):
        inv.skus("tee")


def test_model_objects_are_frozen(stocked):
    sku = stocked.skus("tee")[0]

    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        sku.published = False  # type: ignore[misc]
    assert stocked.skus("tee")[0].published is True
