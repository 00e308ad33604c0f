"""The codec behind idempotency records: encode/decode round trips and fingerprints."""

from __future__ import annotations

import datetime as dt
import enum
import json

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from stockkit import codec, model
from stockkit.model import (
    Availability,
    AvailabilityEstimate,
    Booking,
    Channel,
    ChannelLink,
    Discrepancy,
    Estimate,
    Incoming,
    InventoryConfig,
    LedgerEntry,
    LedgerKind,
    Level,
    Order,
    OrderLine,
    Placement,
    Product,
    ProductStatus,
    Replenishment,
    ReplenishmentStatus,
    Shipment,
    ShipmentStatus,
    Sku,
    StockEvent,
    StockEventKind,
    StockSummary,
    Transfer,
    TransferStatus,
    VerifyReport,
    Warehouse,
)

UTC = dt.UTC

texts = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)
codes = st.text(st.characters(whitelist_categories=("Lu", "Ll", "Nd")), min_size=1, max_size=8)
ints = st.integers(-(2**62), 2**62)
counts = st.integers(0, 10**6)
times = st.datetimes(timezones=st.just(UTC))
opt_times = st.none() | times
coords = st.none() | st.floats(-90, 90, allow_nan=False)

levels = st.builds(Level, codes, codes, ints, ints, ints, ints, counts)
order_lines = st.builds(OrderLine, codes, codes, st.integers(1, 10**6), cancelled=st.booleans())
orders = st.builds(Order, codes, codes, st.lists(order_lines, max_size=3).map(tuple), times, opt_times)
bookings = st.builds(Booking, codes, codes, codes, codes, codes, st.integers(1, 10**6), opt_times)
discrepancies = st.builds(Discrepancy, codes, codes, st.sampled_from(["on_hand", "booked"]), ints, ints, texts)

STRATEGIES: dict[type, st.SearchStrategy] = {
    Warehouse: st.builds(Warehouse, codes, texts, texts, st.booleans(), texts, texts, texts, texts, texts,
                         texts, texts, coords, coords),
    Channel: st.builds(Channel, codes, texts),
    ChannelLink: st.builds(ChannelLink, codes, codes, st.integers(-(2**31), 2**31 - 1)),
    ProductStatus: st.sampled_from(ProductStatus),
    InventoryConfig: st.builds(
        InventoryConfig, codes, counts, st.none() | codes, st.booleans(), st.booleans(), st.booleans(),
        counts, counts, st.lists(st.integers(1, 100), max_size=4).map(tuple), st.integers(1, 100),
        st.none() | texts,
    ),
    Sku: st.builds(Sku, codes, codes, st.booleans(), st.booleans()),
    Level: levels,
    StockSummary: st.builds(StockSummary, codes, ints, ints, ints, ints, st.lists(levels, max_size=3).map(tuple)),
    OrderLine: order_lines,
    Order: orders,
    Booking: bookings,
    Placement: st.builds(Placement, orders, st.lists(bookings, max_size=3).map(tuple)),
    ShipmentStatus: st.sampled_from(ShipmentStatus),
    Shipment: st.builds(Shipment, codes, codes, codes, codes, codes, st.integers(1, 10**6), times,
                        st.sampled_from(ShipmentStatus)),
    TransferStatus: st.sampled_from(TransferStatus),
    Transfer: st.builds(Transfer, codes, codes, codes, codes, st.integers(1, 10**6), times,
                        st.sampled_from(TransferStatus), opt_times),
    ReplenishmentStatus: st.sampled_from(ReplenishmentStatus),
    Replenishment: st.builds(Replenishment, codes, codes, codes, st.integers(1, 10**6), st.dates(), counts,
                             st.sampled_from(ReplenishmentStatus)),
    LedgerKind: st.sampled_from(LedgerKind),
    LedgerEntry: st.builds(LedgerEntry, st.integers(1, 10**9), st.sampled_from(LedgerKind), codes, codes, times,
                           ints, ints, ints, ints, texts, st.none() | codes, st.none() | codes,
                           st.none() | codes, st.none() | codes),
    Discrepancy: discrepancies,
    VerifyReport: st.builds(VerifyReport, counts, counts, st.lists(discrepancies, max_size=3).map(tuple)),
}
estimates = st.builds(Estimate, codes, st.integers(1, 10**6), st.none() | codes, st.none() | st.dates(),
                      st.none() | texts, texts)
incomings = st.builds(Incoming, st.dates(), st.integers(1, 10**6))
STRATEGIES.update({
    AvailabilityEstimate: st.builds(AvailabilityEstimate, codes, texts, st.integers(-(2**31), 2**31 - 1)),
    StockEventKind: st.sampled_from(StockEventKind),
    StockEvent: st.builds(StockEvent, st.sampled_from(StockEventKind), codes, codes, ints, ints, counts, times,
                          st.none() | codes),
    Incoming: incomings,
    Estimate: estimates,
    Availability: st.builds(Availability, codes, st.none() | codes, st.none() | codes, ints, counts,
                            st.sampled_from(["available", "unavailable"]), st.none() | texts, st.none() | counts,
                            st.booleans(), st.booleans(), st.none() | estimates, st.none() | incomings),
})
STRATEGIES[Product] = st.builds(Product, codes, texts, st.sampled_from(ProductStatus), opt_times, opt_times,
                                STRATEGIES[InventoryConfig])

MODEL_TYPES = sorted(
    (obj for name in model.__all__
     if isinstance(obj := getattr(model, name), type) and (attrs.has(obj) or issubclass(obj, enum.Enum))),
    key=lambda t: t.__name__,
)


def roundtrip(value):
    return codec.decode(codec.encode(value))


def test_every_model_type_has_a_strategy():
    assert set(STRATEGIES) == set(MODEL_TYPES)


@pytest.mark.parametrize("cls", MODEL_TYPES, ids=lambda t: t.__name__)
@given(data=st.data())
def test_every_model_type_survives_a_round_trip(cls, data):
    value = data.draw(STRATEGIES[cls])

    decoded = roundtrip(value)

    assert decoded == value
    assert type(decoded) is cls


def test_a_real_placement_round_trips_with_its_types():
    at = dt.datetime(2024, 3, 1, 12, tzinfo=UTC)
    placement = Placement(
        Order("o1", "web", (OrderLine("1", "A", 3),), at, at + dt.timedelta(minutes=15)),
        (Booking("o1", "1", "A", "ams", "web", 3, at + dt.timedelta(minutes=15)),),
    )

    decoded = roundtrip(placement)

    assert decoded == placement
    assert isinstance(decoded.bookings, tuple)
    assert isinstance(decoded.order.lines[0], OrderLine)
    assert decoded.order.placed_at.utcoffset() == dt.timedelta(0)
    assert decoded.allocated("1") == {"ams": 3}


plain = st.recursive(
    st.none() | st.booleans() | ints | st.floats(allow_nan=False) | texts | st.dates() | times
    | st.timedeltas(),
    lambda inner: st.lists(inner, max_size=3)
    | st.lists(inner, max_size=3).map(tuple)
    | st.frozensets(st.integers(0, 9) | codes, max_size=3)
    | st.dictionaries(codes | st.integers(0, 9), inner, max_size=3),
    max_leaves=10,
)


def _same(a, b) -> bool:
    """Equal, and of the same types all the way down (True is not 1, a tuple not a list)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return a == b


@given(plain)
def test_plain_values_survive_a_round_trip_with_their_types(value):
    assert _same(roundtrip(value), value)


def test_encoding_is_json_text():
    text = codec.encode({"a": (1, 2), "b": [ProductStatus.APPROVED]})

    assert isinstance(text, str)
    json.loads(text)


def test_values_it_does_not_know_are_refused():
    with pytest.raises(TypeError):
        codec.encode(object())
    with pytest.raises(TypeError):
        codec.encode({"x": complex(1, 2)})


def test_a_fingerprint_is_stable():
    args = {"o": "o1", "c": "web", "l": (OrderLine("1", "A", 2),), "t": None}

    first = codec.fingerprint("place_order", args)

    assert first == codec.fingerprint("place_order", dict(args))
    assert first == codec.fingerprint("place_order", {"o": "o1", "c": "web", "l": (OrderLine("1", "A", 2),), "t": None})
    assert len(first) == 64 and int(first, 16) >= 0


def test_a_fingerprint_ignores_the_order_of_set_members():
    assert codec.fingerprint("op", {"s": frozenset({"b", "a", "c"})}) == codec.fingerprint(
        "op", {"s": frozenset({"c", "a", "b"})}
    )


def test_a_fingerprint_ignores_the_order_of_keyword_arguments():
    # {"a": 1, "b": 2} == {"b": 2, "a": 1}: the same arguments must give the same digest
    assert codec.fingerprint("op", {"a": 1, "b": 2}) == codec.fingerprint("op", {"b": 2, "a": 1})


def test_different_calls_have_different_fingerprints():
    calls = [
        ("place_order", {"q": 3}), ("ship", {"q": 2}), ("ship", {"q": 3}), ("ship", {"q": 2.0}),
        ("ship", {"q": True}), ("ship", {"q": "2"}), ("ship", {"q": None}), ("ship", {"q": (2,)}),
        ("ship", {"q": [2]}), ("ship", {"r": 2}), ("ship", {"q": 2, "s": None}),
        ("ship", {"q": ProductStatus.DRAFT}), ("ship", {"q": "draft"}), ("ship", {"q": dt.date(2024, 1, 2)}),
        ("ship", {"q": dt.datetime(2024, 1, 2, tzinfo=UTC)}), ("ship", {"q": dt.timedelta(days=1)}),
    ]

    digests = {codec.fingerprint(op, args) for op, args in calls}

    assert len(digests) == len(calls)
