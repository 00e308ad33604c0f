"""The same random operation sequences on memory, SQLite and PostgreSQL give the same
results, the same errors and the same final state."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from contextlib import ExitStack
from typing import Any

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

import stockkit
from stockkit.errors import StockkitError
from stockkit.testing import FakeClock
from stockkit.testing.backends import (
    REQUIRE_POSTGRES_ENV,
    postgres_required,
    postgres_unavailable_reason,
    temporary_postgres_schema,
    temporary_store_url,
)

SKUS = st.sampled_from(["A", "B", "C"])
WAREHOUSES = st.sampled_from(["w1", "w2", "w3"])
CHANNELS = st.sampled_from(["web", "shop"])
REFERENCES = st.integers(1, 6)


def outcome(call: Callable[[], Any]) -> Any:
    """What a call gave: its result, or its error's type and message."""
    try:
        return ("ok", call())
    except StockkitError as exc:
        return ("error", type(exc).__name__, str(exc))


class SameOnEveryBackend(RuleBasedStateMachine):
    """Every rule runs one operation on the three backends and compares the outcomes."""

    directory: Any = None

    def __init__(self) -> None:
        super().__init__()
        self.clock = FakeClock()
        self.stack = ExitStack()
        urls = [self.stack.enter_context(temporary_store_url("memory", self.directory)),
                self.stack.enter_context(temporary_store_url("sqlite", self.directory)),
                self.stack.enter_context(temporary_postgres_schema())]
        self.inventories = [self.stack.enter_context(stockkit.open(url, clock=self.clock, autoload_plugins=False))
                            for url in urls]
        for inv in self.inventories:
            for n, code in enumerate(("w1", "w2", "w3"), start=1):
                inv.create_warehouse(code, code.upper(), latitude=float(n), longitude=float(n), active=n < 3)
            inv.create_channel("web", "Web")
            inv.create_channel("shop", "Shop")
            inv.link_warehouse("web", "w1", priority=0)
            inv.link_warehouse("web", "w2", priority=1)
            inv.link_warehouse("shop", "w2", priority=0)
            inv.link_warehouse("shop", "w3", priority=1)
        self.orders = 0

    def each(self, call: Callable[[stockkit.Inventory], Any]) -> None:
        outcomes = [outcome(lambda inv=inv: call(inv)) for inv in self.inventories]
        assert outcomes[1] == outcomes[0], f"SQLite differs from memory: {outcomes[1]} != {outcomes[0]}"
        assert outcomes[2] == outcomes[0], f"PostgreSQL differs from memory: {outcomes[2]} != {outcomes[0]}"

    @rule(sku=SKUS, warehouse=WAREHOUSES, on_hand=st.integers(0, 12), safety=st.integers(0, 3))
    def set_level(self, sku, warehouse, on_hand, safety):
        self.each(lambda inv: inv.set_level(sku, warehouse, on_hand=on_hand, safety=safety))

    @rule(sku=SKUS, warehouse=WAREHOUSES, delta=st.integers(-6, 6).filter(bool))
    def adjust(self, sku, warehouse, delta):
        self.each(lambda inv: inv.adjust(sku, warehouse, delta, "count"))

    @rule(channel=CHANNELS, lines=st.lists(st.tuples(SKUS, st.integers(1, 8)), min_size=1, max_size=3),
          hold_minutes=st.none() | st.integers(1, 30))
    def order(self, channel, lines, hold_minutes):
        self.orders += 1
        order_id = f"o{self.orders}"
        if hold_minutes is None:
            self.each(lambda inv: inv.place_order(order_id, channel, lines))
        else:
            self.each(lambda inv: inv.hold(order_id, channel, lines, ttl=dt.timedelta(minutes=hold_minutes)))

    @rule(order=REFERENCES, line=st.none() | st.sampled_from(["1", "2"]))
    def release(self, order, line):
        self.each(lambda inv: inv.release(f"o{order}", line))

    @rule(order=REFERENCES)
    def confirm(self, order):
        self.each(lambda inv: inv.confirm_hold(f"o{order}"))

    @rule(order=REFERENCES, warehouse=WAREHOUSES, quantity=st.integers(1, 5))
    def ship(self, order, warehouse, quantity):
        self.each(lambda inv: inv.ship(f"o{order}", "1", warehouse, quantity))

    @rule(number=REFERENCES)
    def cancel_shipment(self, number):
        self.each(lambda inv: inv.cancel_shipment(f"S-{number}"))

    @rule(sku=SKUS, source=WAREHOUSES, destination=WAREHOUSES, quantity=st.integers(1, 6))
    def transfer(self, sku, source, destination, quantity):
        self.each(lambda inv: inv.transfer(sku, source, destination, quantity))

    @rule(number=REFERENCES, receive=st.booleans())
    def close_transfer(self, number, receive):
        self.each(lambda inv: (inv.receive_transfer if receive else inv.cancel_transfer)(f"T-{number}"))

    @rule(sku=SKUS, warehouse=WAREHOUSES, quantity=st.integers(1, 9), day=st.integers(1, 28))
    def add_replenishment(self, sku, warehouse, quantity, day):
        self.each(lambda inv: inv.add_replenishment(sku, warehouse, quantity, dt.date(2030, 1, day)))

    @rule(number=REFERENCES, quantity=st.none() | st.integers(1, 5))
    def receive_replenishment(self, number, quantity):
        self.each(lambda inv: inv.receive_replenishment(f"R-{number}", quantity))

    @rule(warehouse=WAREHOUSES, active=st.booleans())
    def toggle_warehouse(self, warehouse, active):
        self.each(lambda inv: (inv.activate_warehouse if active else inv.deactivate_warehouse)(warehouse))

    @rule(minutes=st.integers(1, 40))
    def advance(self, minutes):
        self.clock.advance(dt.timedelta(minutes=minutes))

    @rule()
    def sweep(self):
        self.each(lambda inv: inv.sweep_expired_holds())

    @rule(days=st.integers(0, 2))
    def prune(self, days):
        self.each(lambda inv: inv.prune_ledger(dt.timedelta(minutes=days * 30)))

    @invariant()
    def same_state(self):
        self.each(lambda inv: (inv.search_skus(), inv.bookings(include_expired=True), inv.ledger(),
                               inv.replenishments(open_only=False), inv.transfers(), inv.shipments()))
        assert self.inventories[0].verify().ok

    def teardown(self):
        self.stack.close()


@pytest.fixture
def postgres() -> None:
    reason = postgres_unavailable_reason()
    if reason is not None:
        if postgres_required():
            pytest.fail(f"{REQUIRE_POSTGRES_ENV} is set but {reason}")
        pytest.skip(reason)


def test_memory_sqlite_and_postgresql_behave_alike(postgres, tmp_path):
    SameOnEveryBackend.directory = tmp_path
    run = SameOnEveryBackend.TestCase("runTest")
    run.settings = settings(max_examples=60, stateful_step_count=30, deadline=None)
    run.runTest()
