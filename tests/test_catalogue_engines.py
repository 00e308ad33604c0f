"""Inventory engines: a plugin supplies the rules of the products that name it."""

from __future__ import annotations

import pytest

import stockkit
from stockkit import InventoryConfig
from stockkit.errors import AboveMaximumQuantity, UnknownPluginKey


class Wholesale:
    """The "wholesale" engine: sizes sold by the box of 6, at most 12, back orders
    allowed; the low stock threshold is 5 whatever the product says."""

    @stockkit.hookimpl
    def stockkit_register_inventory_engines(self, register):
        register("wholesale", self.rules)

    def rules(self, product, sku):
        return InventoryConfig(engine="wholesale", multiple_order_quantity=6, max_order_quantity=12,
                               allow_back_orders=True, low_stock_threshold=5,
                               display_availability=True, low_stock_action=product.config.low_stock_action)


@pytest.fixture
def shop(stocked):
    stocked.plugins.register(Wholesale())
    return stocked


def test_the_default_engine_reads_the_configuration(shop):
    shop.update_product("tee", config=InventoryConfig(min_order_quantity=2))

    assert shop.inventory_engines() == ["default", "wholesale"]
    assert shop.rules("tee", "TEE-M") == InventoryConfig(min_order_quantity=2)


def test_a_product_naming_an_engine_follows_its_rules(shop):
    shop.update_product("tee", config=InventoryConfig(engine="wholesale"))

    with pytest.raises(stockkit.errors.NotAMultiple):
        shop.place_order("o-1", "web", [("TEE-M", 4)])
    with pytest.raises(AboveMaximumQuantity):
        shop.place_order("o-1", "web", [("TEE-M", 18)])
    placement = shop.place_order("o-1", "web", [("TEE-M", 12)])          # back orders: fine
    assert sum(placement.allocated("1").values()) == 12
    shop.place_order("o-2", "web", [("TEE-M", 12)])
    assert shop.available("TEE-M") == -7
    assert shop.availability("TEE-M").display_label == "unavailable"
    assert shop.place_order("o-3", "web", [("MUG", 4)])                  # MUG keeps the default engine


def test_the_engine_threshold_drives_the_low_stock_action(shop):
    shop.update_product("tee", config=InventoryConfig(engine="wholesale", low_stock_action="unpublish"))

    shop.place_order("o-1", "web", [("TEE-M", 12)])                      # 17 -> 5: at the engine's threshold

    assert shop.skus("tee")[0].published is False


def test_an_engine_that_is_gone_is_a_clear_error(shop, clock):
    shop.update_product("tee", config=InventoryConfig(engine="wholesale"))
    shop.plugins.unregister(name=shop.plugins.get_name(next(
        p for p in shop.plugins.get_plugins() if isinstance(p, Wholesale))))

    with pytest.raises(UnknownPluginKey, match="inventory engine 'wholesale'.*known: 'default'"):
        shop.place_order("o-1", "web", [("TEE-M", 6)])
    with pytest.raises(UnknownPluginKey):
        shop.rules("tee", "TEE-M")


def test_a_failing_engine_fails_the_change_and_changes_nothing(shop):
    class Broken:
        @stockkit.hookimpl
        def stockkit_register_inventory_engines(self, register):
            register("broken", self.rules)

        def rules(self, product, sku):
            raise RuntimeError("engine bug")

    shop.plugins.register(Broken())
    shop.update_product("tee", config=InventoryConfig(engine="broken"))
    before = shop.stock("TEE-M")

    with pytest.raises(RuntimeError, match="engine bug"):
        shop.place_order("o-1", "web", [("TEE-M", 6)])
    assert shop.stock("TEE-M") == before
    assert shop.verify().ok

