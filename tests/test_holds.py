"""Holds: bookings with an expiry (cart and checkout reservations)."""

# ruff: noqa: F811  (the fixtures imported from _helpers come back as test arguments)
from __future__ import annotations

import datetime as dt

import pytest
from _helpers import fake_clock, inventory, shop, state  # noqa: F401  (pytest fixtures)

from stockkit import LedgerKind
from stockkit.errors import (
    HoldExpired,
    InsufficientStock,
    InvalidStateTransition,
    ValidationError,
)

TTL = dt.timedelta(minutes=15)


def test_a_hold_books_units_until_it_expires(shop, fake_clock):
    placement = shop.hold("cart-1", "web", [("SKU-A", 4)], ttl=TTL)

    assert placement.order.expires_at == fake_clock.now + TTL
    assert [(b.warehouse, b.quantity, b.expires_at) for b in placement.bookings] == [
        ("ams", 4, fake_clock.now + TTL)
    ]
    assert all(b.is_hold for b in placement.bookings)
    assert shop.level("SKU-A", "ams").booked == 4
    assert shop.available("SKU-A", channel="web") == 11
    [entry] = shop.ledger(order_id="cart-1")
    assert (entry.kind, entry.booked) == (LedgerKind.HELD, 4)


def test_held_units_are_not_available_to_other_orders_before_expiry(shop, fake_clock):
    shop.hold("cart-1", "web", [("SKU-B", 3)], ttl=TTL)
    fake_clock.advance(TTL - dt.timedelta(seconds=1))
    before = state(shop)

    with pytest.raises(InsufficientStock):
        shop.place_order("o1", "web", [("SKU-B", 1)])

    assert state(shop) == before


def test_an_expired_hold_counts_for_nothing_before_any_sweep(shop, fake_clock):
    shop.hold("cart-1", "web", [("SKU-B", 3)], ttl=TTL)

    fake_clock.advance(TTL)

    assert shop.level("SKU-B", "ams").booked == 0
    assert shop.level("SKU-B", "ams").available == 3
    assert shop.available("SKU-B") == 3
    assert shop.available("SKU-B", channel="web") == 3
    [summary] = shop.search_skus("SKU-B")
    assert (summary.booked, summary.available) == (0, 3)


def test_a_new_order_can_take_the_units_of_an_expired_hold(shop, fake_clock):
    shop.hold("cart-1", "web", [("SKU-B", 3)], ttl=TTL)
    fake_clock.advance(TTL + dt.timedelta(minutes=1))

    placement = shop.place_order("o1", "web", [("SKU-B", 3)])

    assert placement.allocated("1") == {"ams": 3}
    assert shop.level("SKU-B", "ams").available == 0
    assert shop.verify().ok


def test_a_transfer_can_take_the_units_of_an_expired_hold(shop, fake_clock):
    shop.hold("cart-1", "web", [("SKU-B", 3)], ttl=TTL)
    fake_clock.advance(TTL)

    shop.transfer("SKU-B", "ams", "ber", 3)

    assert shop.level("SKU-B", "ams").on_hand == 0


def test_confirming_a_hold_before_expiry_makes_the_booking_permanent(shop, fake_clock):
    shop.hold("cart-1", "web", [("SKU-A", 7)], ttl=TTL)
    fake_clock.advance(dt.timedelta(minutes=5))

    confirmed = shop.confirm_hold("cart-1")

    assert confirmed.order.expires_at is None
    assert {(b.warehouse, b.quantity, b.expires_at) for b in confirmed.bookings} == {
        ("ams", 5, None), ("ber", 2, None),
    }
    assert shop.get_order("cart-1") == confirmed
    entries = shop.ledger(order_id="cart-1", kinds=["confirmed"])
    assert sorted((e.warehouse, e.on_hand, e.booked) for e in entries) == [("ams", 0, 0), ("ber", 0, 0)]
    fake_clock.advance(dt.timedelta(days=30))
    assert shop.level("SKU-A", "ams").booked == 5
    assert shop.available("SKU-A") == 8
    assert shop.sweep_expired_holds() == 0
    assert len(shop.bookings(order_id="cart-1")) == 2


def test_confirming_an_expired_hold_fails(shop, fake_clock):
    shop.hold("cart-1", "web", [("SKU-A", 2)], ttl=TTL)
    fake_clock.advance(TTL)
    before = state(shop)

    with pytest.raises(HoldExpired):
        shop.confirm_hold("cart-1")

    assert state(shop) == before


def test_confirming_an_order_that_is_no_hold_fails(shop):
    shop.place_order("o1", "web", [("SKU-A", 2)])
    before = state(shop)

    with pytest.raises(InvalidStateTransition):
        shop.confirm_hold("o1")

    assert state(shop) == before


def test_confirming_twice_fails(shop):
    shop.hold("cart-1", "web", [("SKU-A", 2)], ttl=TTL)
    shop.confirm_hold("cart-1")
    before = state(shop)

    with pytest.raises(InvalidStateTransition):
        shop.confirm_hold("cart-1")

    assert state(shop) == before


def test_an_unconfirmed_hold_cannot_be_shipped(shop):
    shop.hold("cart-1", "web", [("SKU-A", 2)], ttl=TTL)
    before = state(shop)

    with pytest.raises(InvalidStateTransition):
        shop.ship("cart-1", "1", "ams", 2)

    assert state(shop) == before


def test_a_confirmed_hold_can_be_shipped(shop):
    shop.hold("cart-1", "web", [("SKU-A", 2)], ttl=TTL)
    shop.confirm_hold("cart-1")

    shop.ship("cart-1", "1", "ams", 2)

    assert shop.level("SKU-A", "ams").on_hand == 3


@pytest.mark.parametrize("ttl", [dt.timedelta(0), dt.timedelta(seconds=-1), 60, None])
def test_a_hold_needs_a_positive_timedelta(shop, ttl):
    before = state(shop)

    with pytest.raises(ValidationError):
        shop.hold("cart-1", "web", [("SKU-A", 1)], ttl=ttl)

    assert state(shop) == before


def test_an_absurdly_long_ttl_is_refused_with_a_stockkit_error(shop):
    # DOMAIN 1: absurdly large values are rejected with a clear error before anything
    # changes; errors.py: every error stockkit raises derives from StockkitError
    before = state(shop)

    with pytest.raises(ValidationError):
        shop.hold("cart-1", "web", [("SKU-A", 1)], ttl=dt.timedelta.max)

    assert state(shop) == before


def test_sweeping_releases_expired_holds_only(shop, fake_clock):
    shop.hold("cart-1", "web", [("SKU-A", 2)], ttl=dt.timedelta(minutes=5))
    shop.hold("cart-2", "web", [("SKU-B", 1)], ttl=dt.timedelta(minutes=5))
    shop.hold("cart-3", "web", [("SKU-A", 1)], ttl=dt.timedelta(hours=1))
    fake_clock.advance(dt.timedelta(minutes=10))

    assert shop.sweep_expired_holds() == 2

    assert [b.order_id for b in shop.bookings(include_expired=True)] == ["cart-3"]
    entries = shop.ledger(kinds=[LedgerKind.EXPIRED])
    assert sorted((e.order_id, e.sku, e.warehouse, e.booked) for e in entries) == [
        ("cart-1", "SKU-A", "ams", -2), ("cart-2", "SKU-B", "ams", -1),
    ]
    assert shop.level("SKU-A", "ams").booked == 1
    assert shop.verify().ok
    assert shop.sweep_expired_holds() == 0


def test_sweeping_in_batches_of_one_sweeps_them_all(shop, fake_clock):
    for n in range(5):
        shop.hold(f"cart-{n}", "web", [("SKU-A", 1)], ttl=dt.timedelta(minutes=n + 1))
    fake_clock.advance(dt.timedelta(hours=1))

    assert shop.sweep_expired_holds(batch_size=1) == 5

    assert shop.bookings(include_expired=True) == []
    assert len(shop.ledger(kinds=["expired"])) == 5
    assert shop.verify().ok


def test_the_sweep_does_not_change_what_shop_code_sees(shop, fake_clock):
    shop.hold("cart-1", "web", [("SKU-A", 7)], ttl=TTL)
    fake_clock.advance(TTL)
    levels_before = shop.search_skus()

    shop.sweep_expired_holds()

    assert [(s.on_hand, s.booked, s.available) for s in shop.search_skus()] == [
        (s.on_hand, s.booked, s.available) for s in levels_before
    ]


def test_bookings_hide_expired_holds_unless_asked(shop, fake_clock):
    shop.place_order("o1", "web", [("SKU-A", 1)])
    shop.hold("cart-1", "web", [("SKU-A", 2)], ttl=TTL)
    assert [b.order_id for b in shop.bookings("SKU-A")] == ["cart-1", "o1"]

    fake_clock.advance(TTL)

    assert [b.order_id for b in shop.bookings("SKU-A")] == ["o1"]
    assert [b.order_id for b in shop.bookings("SKU-A", include_expired=True)] == ["cart-1", "o1"]
    assert shop.bookings(order_id="cart-1") == []


def test_releasing_an_expired_hold_records_it_as_expired(shop, fake_clock):
    shop.hold("cart-1", "web", [("SKU-A", 2)], ttl=TTL)
    fake_clock.advance(TTL)

    released = shop.release("cart-1")

    assert [b.quantity for b in released] == [2]
    assert [e.kind for e in shop.ledger(order_id="cart-1")] == [LedgerKind.EXPIRED, LedgerKind.HELD]
    assert shop.verify().ok
