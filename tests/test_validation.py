"""Argument checking: stockkit.validation directly, and the same rules through Inventory."""

from __future__ import annotations

import datetime as dt
import decimal
import fractions
import math
import unicodedata

import numpy as np
import pytest
from conftest import FakeClock, unchanged
from hypothesis import given
from hypothesis import strategies as st

import stockkit
from stockkit import validation as v
from stockkit.errors import (
    InvalidCode,
    InvalidDate,
    InvalidLocation,
    InvalidQuantity,
    StockkitError,
    ValidationError,
)

UTC = dt.UTC

# -- quantities --------------------------------------------------------------------------


@given(st.integers(min_value=1, max_value=v.MAX_QUANTITY))
def test_positive_whole_numbers_are_quantities(n):
    assert v.check_quantity(n) == n
    assert type(v.check_quantity(n)) is int


def test_numpy_integers_are_quantities_and_come_back_as_int():
    assert v.check_quantity(np.int64(7)) == 7
    assert type(v.check_quantity(np.int64(7))) is int


def test_zero_is_a_quantity_only_when_allowed():
    assert v.check_quantity(0, allow_zero=True) == 0
    with pytest.raises(InvalidQuantity, match="at least 1"):
        v.check_quantity(0)


@pytest.mark.parametrize("value", [
    True, False, 3.0, 0.5, float("nan"), float("inf"), -1, -(2**70), 2**62 + 1, 2**63, 2**64,
    "3", None, decimal.Decimal(3), fractions.Fraction(3), np.float64(3), 3 + 0j,
])
def test_what_is_not_a_quantity(value):
    with pytest.raises(InvalidQuantity):
        v.check_quantity(value, allow_zero=True)


@given(st.floats())
def test_no_float_is_a_quantity(x):
    with pytest.raises(InvalidQuantity):
        v.check_quantity(x, allow_zero=True)


@given(st.integers(max_value=-1))
def test_no_negative_number_is_a_quantity(n):
    with pytest.raises(InvalidQuantity):
        v.check_quantity(n, allow_zero=True)


def test_the_largest_quantity_fits_a_signed_64_bit_integer():
    assert v.check_quantity(v.MAX_QUANTITY) == v.MAX_QUANTITY
    assert v.MAX_QUANTITY < 2**63
    with pytest.raises(InvalidQuantity, match="at most"):
        v.check_quantity(v.MAX_QUANTITY + 1)


def test_an_error_message_names_the_argument_and_the_value():
    with pytest.raises(InvalidQuantity, match=r"on_hand must be a whole number of units .*2\.5.*float"):
        v.check_quantity(2.5, "on_hand")


@given(st.integers(min_value=-v.MAX_QUANTITY, max_value=v.MAX_QUANTITY).filter(bool))
def test_deltas_are_signed_non_zero_whole_numbers(n):
    assert v.check_delta(n) == n


@pytest.mark.parametrize("value", [0, True, -1.0, float("nan"), 2**63, -(2**63), "1"])
def test_what_is_not_a_delta(value):
    with pytest.raises(InvalidQuantity):
        v.check_delta(value)


@pytest.mark.parametrize("value", [0, -5, 2**31 - 1, -(2**31)])
def test_priorities_are_32_bit_ints(value):
    assert v.check_priority(value) == value


@pytest.mark.parametrize("value", [True, 1.0, 2**31, -(2**31) - 1, "1"])
def test_what_is_not_a_priority(value):
    with pytest.raises(InvalidQuantity):
        v.check_priority(value)


# -- codes -------------------------------------------------------------------------------


@given(st.text(alphabet=st.characters(categories=["L", "N", "P", "S"]), min_size=1, max_size=v.MAX_CODE_LENGTH))
def test_printable_text_is_a_code(text):
    assert v.check_code(text) == text.strip()


def test_a_code_is_stripped():
    assert v.check_code("  ams\t") == "ams"


@pytest.mark.parametrize("value", ["", "   ", "\t\n", None, 12, b"ams", ["ams"]])
def test_empty_or_non_string_codes(value):
    with pytest.raises(InvalidCode):
        v.check_code(value)


@given(
    st.text(min_size=1, max_size=20).filter(lambda s: s.strip()),
    st.characters(categories=["Cc", "Cf"]),
)
def test_a_code_with_a_control_character_inside_is_refused(text, control):
    code = text.strip()
    with pytest.raises(InvalidCode):
        v.check_code(code[:1] + control + code[1:] + "x")


@pytest.mark.parametrize("value", ["a\x00b", "a\nb", "a\x1bb", "a\u200bb", "a\u202eb", "a\x7fb"])
def test_control_characters(value):
    assert any(unicodedata.category(ch) in ("Cc", "Cf") for ch in value)
    with pytest.raises(InvalidCode, match="control characters"):
        v.check_code(value)


def test_the_longest_code():
    assert v.check_code("x" * v.MAX_CODE_LENGTH) == "x" * v.MAX_CODE_LENGTH
    with pytest.raises(InvalidCode, match="at most 200"):
        v.check_code("x" * (v.MAX_CODE_LENGTH + 1))


def test_an_optional_code_may_be_none():
    assert v.check_optional_code(None) is None
    assert v.check_optional_code(" a ") == "a"
    with pytest.raises(InvalidCode):
        v.check_optional_code("")


def test_text():
    assert v.check_text("  Amsterdam ") == "Amsterdam"
    assert v.check_text("") == ""
    with pytest.raises(ValidationError):
        v.check_text("", required=True)
    with pytest.raises(ValidationError):
        v.check_text("a\x00b")
    with pytest.raises(ValidationError):
        v.check_text(3)
    with pytest.raises(ValidationError):
        v.check_text("x" * 10_001)


# -- locations ---------------------------------------------------------------------------


@given(st.floats(min_value=-90, max_value=90), st.floats(min_value=-180, max_value=180))
def test_coordinates_in_range(lat, lon):
    assert v.check_latitude(lat) == lat
    assert v.check_longitude(lon) == lon


@given(st.floats().filter(lambda x: math.isnan(x) or abs(x) > 90))
def test_latitudes_out_of_range(lat):
    with pytest.raises(InvalidLocation):
        v.check_latitude(lat)


@pytest.mark.parametrize("value", [True, "4.9", 181, -180.5, float("nan"), float("-inf")])
def test_bad_longitudes(value):
    with pytest.raises(InvalidLocation):
        v.check_longitude(value)


@pytest.mark.parametrize("check", [v.check_latitude, v.check_longitude])
def test_a_huge_int_coordinate_is_an_invalid_location(check):
    # must be the documented InvalidLocation, not an OverflowError from float()
    with pytest.raises(InvalidLocation):
        check(10**400)


def test_coordinates_may_be_none():
    assert v.check_latitude(None) is None
    assert v.check_longitude(None) is None


@pytest.mark.parametrize(("value", "expected"), [("nl", "NL"), (" De ", "DE"), ("", ""), (None, "")])
def test_country_codes(value, expected):
    assert v.check_country_code(value) == expected


@pytest.mark.parametrize("value", ["NLD", "N", "N1", "ÄT", "n-", 31])
def test_bad_country_codes(value):
    with pytest.raises(InvalidLocation):
        v.check_country_code(value)


# -- dates -------------------------------------------------------------------------------


FIXED_ZONES = st.builds(dt.timezone, st.timedeltas(min_value=dt.timedelta(hours=-23, minutes=-59),
                                                    max_value=dt.timedelta(hours=23, minutes=59)))


@given(st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2200, 1, 1), timezones=FIXED_ZONES))
def test_aware_datetimes_come_back_in_utc(moment):
    checked = v.check_datetime(moment)
    assert checked == moment
    assert checked.tzinfo == UTC


def test_an_aware_datetime_that_utc_cannot_hold_is_an_invalid_date():
    # the first moment of year 1 at UTC+5 is in year 0 at UTC: it must be refused with the
    # documented InvalidDate, not an OverflowError from astimezone()
    with pytest.raises(InvalidDate):
        v.check_datetime(dt.datetime.min.replace(tzinfo=dt.timezone(dt.timedelta(hours=5))))


@given(st.datetimes())
def test_naive_datetimes_are_refused(moment):
    with pytest.raises(InvalidDate, match="time zone"):
        v.check_datetime(moment)


@pytest.mark.parametrize("value", [dt.date(2024, 1, 1), "2024-01-01T00:00:00Z", 1704067200, None])
def test_what_is_not_a_datetime(value):
    with pytest.raises(InvalidDate):
        v.check_datetime(value)


def test_dates():
    assert v.check_date(dt.date(2024, 2, 1)) == dt.date(2024, 2, 1)
    for value in (dt.datetime(2024, 2, 1, tzinfo=UTC), "2024-02-01", None):
        with pytest.raises(InvalidDate):
            v.check_date(value)


def test_every_validation_error_is_a_stockkit_error_and_a_value_error():
    for error in (InvalidQuantity, InvalidCode, InvalidLocation, InvalidDate):
        assert issubclass(error, ValidationError)
        assert issubclass(error, StockkitError)
        assert issubclass(error, ValueError)


# -- the same rules through the inventory ------------------------------------------------


@pytest.mark.parametrize("quantity", [True, 3.0, float("nan"), -3, 0, 2**63])
def test_order_quantities_are_checked_before_anything_changes(stocked, quantity):
    with unchanged(stocked), pytest.raises(InvalidQuantity):
        stocked.place_order("o1", "web", [("TEE-M", quantity)])


@pytest.mark.parametrize("quantity", [True, 3.0, float("nan"), -3, 0, 2**63])
def test_transfer_and_replenishment_quantities_must_be_positive(stocked, quantity):
    with unchanged(stocked), pytest.raises(InvalidQuantity):
        stocked.transfer("TEE-M", "ams", "ber", quantity)
    with unchanged(stocked), pytest.raises(InvalidQuantity):
        stocked.add_replenishment("TEE-M", "ams", quantity, dt.date(2024, 2, 1))


@given(quantity=st.one_of(st.floats(), st.booleans(), st.integers(max_value=-1),
                          st.integers(min_value=v.MAX_QUANTITY + 1)))
def test_no_bad_quantity_reaches_a_level(quantity):
    inv = stockkit.open(clock=FakeClock(), autoload_plugins=False)
    inv.create_warehouse("ams", "Amsterdam")
    inv.set_level("A", "ams", on_hand=5)

    with unchanged(inv), pytest.raises(InvalidQuantity):
        inv.set_level("A", "ams", on_hand=quantity)


@given(code=st.one_of(
    st.just(""),
    st.text(alphabet=" \t\n", min_size=1),
    st.text(min_size=1, max_size=5).map(lambda s: "a\x07" + s),
    st.text(alphabet="ab", min_size=v.MAX_CODE_LENGTH + 1, max_size=v.MAX_CODE_LENGTH + 5),
    st.integers(),
    st.none(),
))
def test_no_bad_code_reaches_the_store(code):
    inv = stockkit.open(clock=FakeClock(), autoload_plugins=False)

    with unchanged(inv), pytest.raises(InvalidCode):
        inv.create_warehouse(code, "Somewhere")
    with unchanged(inv), pytest.raises(InvalidCode):
        inv.create_channel(code, "Somewhere")
    with unchanged(inv), pytest.raises(InvalidCode):
        inv.create_product(code, "Something")


@pytest.mark.parametrize("code", ["", "   ", "A\x00", "A\u200bB", 5, "A" * 201])
def test_bad_codes_in_every_role(stocked, code):
    calls = [
        lambda: stocked.set_level(code, "ams", on_hand=1),
        lambda: stocked.set_level("TEE-M", code, on_hand=1),
        lambda: stocked.link_warehouse(code, "ams"),
        lambda: stocked.place_order(code, "web", [("TEE-M", 1)]),
        lambda: stocked.place_order("o1", "web", [(code, 1)]),
        lambda: stocked.add_sku("tee", code),
        lambda: stocked.adjust("TEE-M", "ams", 1, "count", idempotency_key=code),
        lambda: stocked.adjust("TEE-M", "ams", 1, "count", actor=code),
    ]
    for call in calls:
        with unchanged(stocked), pytest.raises(InvalidCode):
            call()


def test_naive_datetimes_are_refused_by_the_inventory(stocked):
    naive = dt.datetime(2024, 3, 1, 12, 0)

    with unchanged(stocked), pytest.raises(InvalidDate):
        stocked.create_product("cap", "Cap", display_date=naive)
    with unchanged(stocked), pytest.raises(InvalidDate):
        stocked.update_product("tee", expiration_date=naive)
    with unchanged(stocked), pytest.raises(InvalidDate):
        stocked.prune_ledger(naive)
    with pytest.raises(InvalidDate):
        stocked.ledger(since=naive)
    with pytest.raises(InvalidDate):
        stocked.ledger(until=naive)


def test_a_replenishment_date_must_be_a_date(stocked):
    with unchanged(stocked), pytest.raises(InvalidDate):
        stocked.add_replenishment("TEE-M", "ams", 5, dt.datetime(2024, 2, 1, tzinfo=UTC))
    with unchanged(stocked), pytest.raises(InvalidDate):
        stocked.add_replenishment("TEE-M", "ams", 5, "2024-02-01")


def test_a_clock_giving_naive_times_is_refused_and_nothing_changes():
    inv = stockkit.open(clock=lambda: dt.datetime(2024, 1, 15, 12, 0), autoload_plugins=False)

    with pytest.raises(InvalidDate, match="clock"):
        inv.create_warehouse("ams", "Amsterdam")
    assert inv.warehouses() == []


def test_times_in_other_zones_are_recorded_in_utc():
    cet = dt.timezone(dt.timedelta(hours=1))
    inv = stockkit.open(clock=lambda: dt.datetime(2024, 1, 15, 13, 0, tzinfo=cet), autoload_plugins=False)
    inv.create_warehouse("ams", "Amsterdam")

    inv.set_level("A", "ams", on_hand=1)

    assert inv.ledger()[0].at == dt.datetime(2024, 1, 15, 12, 0, tzinfo=UTC)
    assert inv.ledger()[0].at.utcoffset() == dt.timedelta(0)


def test_a_huge_int_coordinate_through_the_inventory_is_an_invalid_location(inv):
    with unchanged(inv), pytest.raises(InvalidLocation):
        inv.create_warehouse("ams", "Amsterdam", latitude=10**400, longitude=4.9)
