"""Shared helpers for the order, stock-movement, ledger and view tests.

These fixtures are deliberately named apart from ``conftest.py``'s (``clock``, ``inv``,
``stocked``) so the two never shadow each other. Import the fixtures you use::

    from _helpers import fake_clock, inventory, shop  # noqa: F401  (pytest fixtures)

The ``shop`` fixture is an inventory with this stock:

=========  ========  ======  ========================================
warehouse  active    SKU-A   SKU-B
=========  ========  ======  ========================================
ams        yes       5       3
ber        yes       10      0 (no level row)
cph        no        100     0 (no level row)
=========  ========  ======  ========================================

Channel ``web`` links ams (priority 0), ber (priority 1) and cph (priority 0, inactive).
Channel ``market`` links ber only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

import stockkit
from stockkit.testing import FakeClock

UTC = dt.UTC
T0 = dt.datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


def new_inventory(clock: FakeClock, url: str = "memory://", **options: Any) -> stockkit.Inventory:
    """An empty inventory on ``clock`` (in memory unless ``url`` names another store), with
    no third-party plugins."""
    return stockkit.open(url, clock=clock, autoload_plugins=False, **options)


def stock_shop(inv: stockkit.Inventory) -> stockkit.Inventory:
    """Fill ``inv`` with the warehouses, channels and levels of the module docstring."""
    inv.create_warehouse("ams", "Amsterdam", city="Amsterdam", country_code="NL",
                         latitude=52.37, longitude=4.90, active=True)
    inv.create_warehouse("ber", "Berlin", city="Berlin", country_code="DE",
                         latitude=52.52, longitude=13.40, active=True)
    inv.create_warehouse("cph", "Copenhagen", city="Copenhagen", country_code="DK",
                         latitude=55.68, longitude=12.57)
    inv.create_channel("web", "Web store")
    inv.create_channel("market", "Marketplace")
    inv.link_warehouse("web", "ams", priority=0)
    inv.link_warehouse("web", "ber", priority=1)
    inv.link_warehouse("web", "cph", priority=0)
    inv.link_warehouse("market", "ber", priority=0)
    inv.set_level("SKU-A", "ams", on_hand=5)
    inv.set_level("SKU-A", "ber", on_hand=10)
    inv.set_level("SKU-A", "cph", on_hand=100)
    inv.set_level("SKU-B", "ams", on_hand=3)
    return inv


def state(inv: stockkit.Inventory) -> dict[str, Any]:
    """Everything a user can see of an inventory, for "nothing changed" assertions."""
    channels = inv.channels()
    return {
        "warehouses": inv.warehouses(),
        "channels": channels,
        "links": {c.code: inv.channel_links(c.code) for c in channels},
        "products": inv.products(),
        "skus": inv.skus(),
        "levels": inv.search_skus(),
        "ledger": inv.ledger(),
        "bookings": inv.bookings(include_expired=True),
        "replenishments": inv.replenishments(open_only=False),
        "transfers": inv.transfers(),
        "shipments": inv.shipments(),
    }


def level_tuple(inv: stockkit.Inventory, sku: str, warehouse: str) -> tuple[int, int, int, int]:
    """``(on_hand, safety, booked, incoming)`` of one level as shop code sees it."""
    lv = inv.level(sku, warehouse)
    return (lv.on_hand, lv.safety, lv.booked, lv.incoming)


@pytest.fixture
def fake_clock() -> FakeClock:
    """A :class:`FakeClock` at :data:`T0`."""
    return FakeClock(T0)


@pytest.fixture
def inventory(fake_clock: FakeClock, store_url: str) -> Iterator[stockkit.Inventory]:
    """An empty inventory on ``fake_clock``, once per storage backend (conftest's
    ``store_url``)."""
    inv = new_inventory(fake_clock, store_url)
    yield inv
    inv.close()


@pytest.fixture
def shop(inventory: stockkit.Inventory) -> stockkit.Inventory:
    return stock_shop(inventory)
