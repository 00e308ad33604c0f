"""Shared fixtures and helpers for the stockkit test suite.

Fixtures
--------
``clock``
    A :class:`FakeClock` fixed at :data:`START` (2024-01-15 12:00 UTC). Time moves only
    when a test calls ``clock.advance(timedelta)``.
``inv``
    An empty inventory: ``stockkit.open(store_url, clock=clock, autoload_plugins=False)``,
    once per storage backend (memory, SQLite, PostgreSQL; tests marked ``memory_only``
    run on memory alone); it reads the ``clock`` fixture, so advancing the clock moves
    the inventory's time.
``stocked``
    ``inv`` with this content (built by :func:`build_stocked`, which other inventories
    can use too):

    - warehouses, all active with a location, linked to channel ``"web"``:
      ``ams`` (Amsterdam, NL, priority 1), ``ber`` (Berlin, DE, priority 2),
      ``par`` (Paris, FR, priority 3);
    - product ``"tee"`` (approved) with SKU ``"TEE-M"``, product ``"mug"`` (approved)
      with SKU ``"MUG"``;
    - levels: ``TEE-M`` ams on_hand 10, ber on_hand 5 safety 1, par on_hand 3;
      ``MUG`` ams on_hand 4. Nothing booked, nothing incoming.

    So ``TEE-M`` has 17 available company-wide and in ``"web"``, ``MUG`` has 4.

Helpers (import them with ``from conftest import snapshot, unchanged``)
-----------------------------------------------------------------------
``snapshot(inv)``
    Everything an inventory shows, as one comparable tuple.
``unchanged(inv)``
    A context manager asserting that ``snapshot(inv)`` is the same after its block as
    before; wrap a failing call in it together with ``pytest.raises``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest

import stockkit
from stockkit import Inventory
from stockkit.testing import START, FakeClock
from stockkit.testing.backends import (
    BACKENDS,
    REQUIRE_POSTGRES_ENV,
    postgres_required,
    postgres_unavailable_reason,
    temporary_store_url,
)

__all__ = ["START", "FakeClock", "build_stocked", "snapshot", "unchanged"]

def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run every test that uses an inventory once per storage backend: only on memory for
    tests marked ``memory_only`` (they look inside the memory store), only on the SQL
    backends for tests marked ``sql_only`` (they look inside the database)."""
    if "backend" in metafunc.fixturenames:
        backends = list(BACKENDS)
        if metafunc.definition.get_closest_marker("memory_only"):
            backends = ["memory"]
        elif metafunc.definition.get_closest_marker("sql_only"):
            backends = [b for b in BACKENDS if b != "memory"]
        metafunc.parametrize("backend", backends, indirect=True)


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    """The storage backend under test: ``memory``, ``sqlite`` or ``postgresql``."""
    name: str = request.param
    if name == "postgresql":
        reason = postgres_unavailable_reason()
        if reason is not None:
            if postgres_required():
                pytest.fail(f"{REQUIRE_POSTGRES_ENV} is set but {reason}")
            pytest.skip(reason)
    return name


@pytest.fixture
def store_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """The URL of a new, empty store of the backend under test."""
    with temporary_store_url(backend, tmp_path) as url:
        yield url


@pytest.fixture
def clock() -> FakeClock:
    """A :class:`FakeClock` at :data:`START`."""
    return FakeClock()


@pytest.fixture
def inv(clock: FakeClock, store_url: str) -> Iterator[Inventory]:
    """An empty inventory on ``clock`` with no entry-point plugins, once per backend."""
    inventory = stockkit.open(store_url, clock=clock, autoload_plugins=False)
    yield inventory
    inventory.close()


def build_stocked(inv: Inventory) -> Inventory:
    """Fill an empty inventory with the ``stocked`` content (see the module docstring)."""
    inv.create_warehouse("ams", "Amsterdam", city="Amsterdam", country_code="NL",
                         latitude=52.37, longitude=4.90, active=True)
    inv.create_warehouse("ber", "Berlin", city="Berlin", country_code="DE",
                         latitude=52.52, longitude=13.40, active=True)
    inv.create_warehouse("par", "Paris", city="Paris", country_code="FR",
                         latitude=48.86, longitude=2.35, active=True)
    inv.create_channel("web", "Web shop")
    for priority, code in enumerate(("ams", "ber", "par"), start=1):
        inv.link_warehouse("web", code, priority=priority)
    inv.create_product("tee", "T-shirt", status="approved")
    inv.add_sku("tee", "TEE-M")
    inv.create_product("mug", "Mug", status="approved")
    inv.add_sku("mug", "MUG")
    inv.set_level("TEE-M", "ams", on_hand=10)
    inv.set_level("TEE-M", "ber", on_hand=5, safety=1)
    inv.set_level("TEE-M", "par", on_hand=3)
    inv.set_level("MUG", "ams", on_hand=4)
    return inv


@pytest.fixture
def stocked(inv: Inventory) -> Inventory:
    """``inv`` with three active warehouses on channel ``"web"`` and some stock (see the
    module docstring for the exact content)."""
    return build_stocked(inv)


def snapshot(inv: Inventory) -> tuple[object, ...]:
    """Everything the inventory shows: levels, warehouses, channels and their links,
    products, SKUs, ledger, bookings (expired holds included), replenishments (closed ones
    included), transfers and shipments."""
    channels = inv.channels()
    return (
        inv.search_skus(),
        inv.warehouses(),
        channels,
        [inv.channel_links(c.code) for c in channels],
        inv.products(),
        inv.skus(),
        inv.ledger(),
        inv.bookings(include_expired=True),
        inv.replenishments(open_only=False),
        inv.transfers(),
        inv.shipments(),
    )


@contextlib.contextmanager
def unchanged(inv: Inventory) -> Iterator[None]:
    """Assert that the block leaves ``inv`` exactly as it was::

        with unchanged(inv), pytest.raises(UnknownWarehouse):
            inv.set_level("A", "nowhere", on_hand=1)
    """
    before = snapshot(inv)
    yield
    assert snapshot(inv) == before, "a failed call changed the inventory"
