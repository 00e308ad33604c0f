"""Availability estimates: named labels, estimator plugins, the built-in estimator and
the "incoming" display."""

from __future__ import annotations

import datetime as dt

import pytest
from conftest import unchanged

import stockkit
from stockkit import AvailabilityEstimate, Estimate, Incoming, InventoryConfig
from stockkit.errors import PluginFailureWarning, UnknownEstimate
from stockkit.estimates import covering_date

D = dt.date(2024, 2, 1)
SOON = dt.date(2024, 1, 20)
BUILT_IN = "stockkit.default_plugins.estimator"


@pytest.fixture
def shop(stocked):
    """``stocked`` plus channel "b2b" served by Paris alone."""
    stocked.create_channel("b2b", "B2B")
    stocked.link_warehouse("b2b", "par")
    return stocked


# -- named estimates ----------------------------------------------------------------------


def test_estimates_are_listed_by_priority_and_can_be_changed(inv):
    inv.put_availability_estimate("weeks", "2-3 weeks", priority=20)
    inv.put_availability_estimate("days", "3-5 days", priority=10)
    inv.put_availability_estimate("weeks", "2-4 weeks", priority=20)

    assert inv.availability_estimates() == [AvailabilityEstimate("days", "3-5 days", 10),
                                            AvailabilityEstimate("weeks", "2-4 weeks", 20)]
    assert inv.get_availability_estimate("days").label == "3-5 days"
    with pytest.raises(UnknownEstimate):
        inv.get_availability_estimate("months")


def test_a_product_can_be_assigned_only_a_known_estimate(shop):
    with unchanged(shop), pytest.raises(UnknownEstimate, match="put_availability_estimate"):
        shop.update_product("tee", config=InventoryConfig(availability_estimate="days"))

    shop.put_availability_estimate("days", "3-5 days")
    shop.update_product("tee", config=InventoryConfig(availability_estimate="days"))


# -- the built-in estimator ---------------------------------------------------------------


def test_in_stock_it_answers_today(shop):
    assert shop.estimate("TEE-M", 17) == Estimate("TEE-M", 17, None, expected_on=dt.date(2024, 1, 15),
                                                  source=BUILT_IN)


def test_it_answers_with_the_earliest_replenishment_that_covers_the_quantity(shop):
    shop.add_replenishment("TEE-M", "par", 2, D)
    shop.add_replenishment("TEE-M", "ams", 3, SOON)

    assert shop.estimate("TEE-M", 18).expected_on == SOON
    assert shop.estimate("TEE-M", 20).expected_on == SOON      # 17 + 3 by SOON
    assert shop.estimate("TEE-M", 21).expected_on == D
    assert shop.estimate("TEE-M", 22).expected_on == D         # + 2 by D
    assert shop.estimate("TEE-M", 23) is None                  # nothing covers it, no label


def test_it_counts_only_the_channels_warehouses(shop):
    shop.add_replenishment("TEE-M", "ams", 10, SOON)
    shop.add_replenishment("TEE-M", "par", 2, D)

    assert shop.estimate("TEE-M", 5, channel="b2b").expected_on == D        # Paris has 3, + 2 on D
    assert shop.estimate("TEE-M", 6, channel="b2b") is None
    assert shop.estimate("TEE-M", 20, channel="web").expected_on == SOON


def test_then_it_answers_with_the_products_label(shop):
    shop.put_availability_estimate("days", "3-5 days")
    shop.update_product("tee", config=InventoryConfig(availability_estimate="days"))

    estimate = shop.estimate("TEE-M", 100)

    assert (estimate.expected_on, estimate.label) == (None, "3-5 days")


def test_the_estimate_is_shown_while_out_of_stock(shop):
    shop.put_availability_estimate("days", "3-5 days")
    shop.update_product("tee", config=InventoryConfig(availability_estimate="days"))
    assert shop.availability("TEE-M").estimate is None

    shop.place_order("o-1", "web", [("TEE-M", 17)])
    assert shop.availability("TEE-M").estimate.label == "3-5 days"

    shop.add_replenishment("TEE-M", "ber", 4, D)
    assert shop.availability("TEE-M").estimate.expected_on == D


# -- estimator plugins --------------------------------------------------------------------


class Supplier:
    """Knows a lead time for TEE-M only."""

    @stockkit.hookimpl
    def stockkit_estimate_availability(self, sku, channel, quantity):
        if sku != "TEE-M":
            return None
        return Estimate(sku, quantity, channel, label="ships from supplier in 10 days", source="supplier")


class Broken:
    @stockkit.hookimpl(tryfirst=True)
    def stockkit_estimate_availability(self, sku):
        raise RuntimeError("supplier API timeout")


def test_the_first_estimator_that_answers_wins(shop):
    shop.plugins.register(Supplier())

    assert shop.estimate("TEE-M", 5).source == "supplier"
    assert shop.estimate("MUG", 1).source == BUILT_IN           # the supplier passes


def test_an_estimator_that_raises_is_reported_and_skipped(shop):
    shop.plugins.register(Supplier())
    shop.plugins.register(Broken())

    with unchanged(shop), pytest.warns(PluginFailureWarning, match="availability estimator.*supplier API timeout"):
        assert shop.estimate("TEE-M", 5).source == "supplier"


def test_without_the_built_in_estimator_nobody_answers(clock):
    inv = stockkit.open(clock=clock, autoload_plugins=False, blocked_plugins=[BUILT_IN])
    inv.create_warehouse("ams", "Amsterdam", latitude=52.37, longitude=4.9, active=True)

    assert inv.estimate("ANY", 1) is None


# -- incoming -----------------------------------------------------------------------------


def test_incoming_is_the_earliest_date_and_its_quantity(shop):
    assert shop.incoming("TEE-M") is None

    shop.add_replenishment("TEE-M", "par", 2, D)
    shop.add_replenishment("TEE-M", "ams", 3, SOON)
    shop.add_replenishment("TEE-M", "ber", 4, SOON)
    first = shop.add_replenishment("TEE-M", "ams", 1, dt.date(2024, 1, 18))

    assert shop.incoming("TEE-M") == Incoming(dt.date(2024, 1, 18), 1)
    shop.receive_replenishment(first.replenishment_id)
    assert shop.incoming("TEE-M") == Incoming(SOON, 7)
    assert shop.availability("TEE-M").incoming == Incoming(SOON, 7)


def test_covering_date_never_answers_before_today():
    assert covering_date(0, [(dt.date(2024, 1, 1), 5)], 5, today=dt.date(2024, 1, 15)) == dt.date(2024, 1, 15)
