"""Hypothesis strategies for stockkit's arguments, good and bad.

Use them to test your own code that calls stockkit: feed :func:`quantities` and
:func:`codes` where stockkit must accept the value, :func:`bad_quantities` and
:func:`bad_codes` where it must refuse it with
:class:`~stockkit.errors.InvalidQuantity` or :class:`~stockkit.errors.InvalidCode`::

    from hypothesis import given
    from stockkit.testing import strategies as sks

    @given(sks.bad_quantities())
    def test_my_import_refuses_bad_quantities(q):
        with pytest.raises(stockkit.errors.ValidationError):
            my_import(sku="TEE", on_hand=q)

The strategies describe the rules of :mod:`stockkit.validation`: a quantity is an ``int``
(not a ``bool``) from 1 to :data:`~stockkit.validation.MAX_QUANTITY`; a code is a string
of at most :data:`~stockkit.validation.MAX_CODE_LENGTH` characters, without surrounding
spaces once stripped, and without control, format or surrogate characters; a time is an
aware :class:`datetime.datetime` that UTC can represent; a date is a
:class:`datetime.date` that is not a datetime; a duration is a positive
:class:`datetime.timedelta`.

:data:`SQL_LIKE_CODES` are valid codes that break storage code which pastes text into
SQL or into ``LIKE`` patterns; :func:`codes` draws them now and then, and
:func:`bad_codes` draws them with a control character inside.
"""

from __future__ import annotations

import datetime as dt
import decimal
import fractions
import math

import numpy as np
from hypothesis import strategies as st

from stockkit.validation import MAX_CODE_LENGTH, MAX_QUANTITY

__all__ = [
    "MAX_GOOD_CODE_LENGTH",
    "SQL_LIKE_CODES",
    "bad_codes",
    "bad_dates",
    "bad_datetimes",
    "bad_durations",
    "bad_quantities",
    "codes",
    "quantities",
]

#: The longest code :func:`codes` draws. stockkit accepts up to
#: :data:`~stockkit.validation.MAX_CODE_LENGTH` characters; shorter ones keep examples
#: readable.
MAX_GOOD_CODE_LENGTH = 40

# Letters, marks, numbers, punctuation and symbols, plus the plain space inside a code:
# what str.isprintable() accepts. Other separators (no-break space, line separator, ...)
# are stripped or unprintable, control/format/surrogate/private/unassigned code points
# ("C*") are refused or unprintable.
_PRINTABLE_CATEGORIES = ("L", "M", "N", "P", "S")

#: Valid codes that look like SQL or like ``LIKE`` patterns: a store must keep them as
#: plain text (bound parameters, escaped wildcards), never run or match them.
SQL_LIKE_CODES = (
    "'; DROP TABLE levels; --",
    "1 OR 1=1",
    "1' OR '1'='1",
    "O'Brien",
    '"quoted"',
    "a\\b",
    "100%",
    "_",
    "%",
    "[ams]",
    "ams); DELETE FROM ledger; --",
    "?",
    ":name",
    "%s",
    "$1",
    "*/ SELECT 1 /*",
)


def quantities(*, max_value: int = MAX_QUANTITY) -> st.SearchStrategy[int]:
    """Valid quantities: ``int`` from 1 to ``max_value`` (at most
    :data:`~stockkit.validation.MAX_QUANTITY`, the default).

    Small values come up often, and so does the largest one::

        @given(quantity=quantities(max_value=1000))
        def test_receiving_adds_on_hand(quantity): ...
    """
    if not 1 <= max_value <= MAX_QUANTITY:
        raise ValueError(f"max_value must be between 1 and {MAX_QUANTITY}, got {max_value}")
    return st.one_of(
        st.integers(min_value=1, max_value=min(max_value, 100)),
        st.integers(min_value=1, max_value=max_value),
        st.just(max_value),
    )


def bad_quantities() -> st.SearchStrategy[object]:
    """Values no quantity argument accepts as a positive whole number of units.

    ``bool``; ``float`` (whole ones such as ``3.0`` too, NaN and the infinities) and
    other non-integral numbers (``Decimal``, ``Fraction``, ``complex``, numpy floats and
    bools); zero; negative ``int``; ``int`` above
    :data:`~stockkit.validation.MAX_QUANTITY` (up to and well beyond what a signed 64-bit
    integer holds, on both sides); strings; ``None``.

    Some of these are valid for arguments with other rules: ``0`` for ``set_level``'s
    absolute levels, negative ``int`` for ``adjust``'s delta, ``None`` for an optional
    quantity. Filter those out where they apply.
    """
    return st.one_of(
        st.booleans(),
        st.sampled_from([3.0, 1.0, 0.0, -0.0, 0.5, math.nan, math.inf, -math.inf, 1e300, float(2**63)]),
        st.floats(),
        st.integers(min_value=1, max_value=10**6).map(float),
        st.sampled_from([0, -1, -(2**62), MAX_QUANTITY + 1, 2**63 - 1, 2**63, -(2**63), 2**64, 2**64 + 1, 10**30]),
        st.integers(max_value=-1),
        st.integers(min_value=MAX_QUANTITY + 1),
        st.integers(min_value=MAX_QUANTITY + 1, max_value=2**64).map(lambda n: n if n % 2 else -n),
        st.sampled_from(
            [
                decimal.Decimal(3),
                decimal.Decimal("NaN"),
                fractions.Fraction(3),
                fractions.Fraction(1, 2),
                3 + 0j,
                np.float64(3.0),
                np.bool_(True),
            ]
        ),
        st.sampled_from(["3", "", "1e3", "ten", " 5 "]),
        st.text(max_size=5),
        st.none(),
    )


def codes(*, max_size: int = MAX_GOOD_CODE_LENGTH) -> st.SearchStrategy[str]:
    """Valid codes: printable text of 1 to ``max_size`` characters (40 by default, at
    most :data:`~stockkit.validation.MAX_CODE_LENGTH`), with no control characters and
    nothing to strip at either end, so stockkit stores them exactly as given::

        @given(code=codes())
        def test_any_code_round_trips(code):
            inv.create_warehouse(code, "Name")
            assert inv.get_warehouse(code).code == code
    """
    if not 1 <= max_size <= MAX_CODE_LENGTH:
        raise ValueError(f"max_size must be between 1 and {MAX_CODE_LENGTH}, got {max_size}")
    characters = st.characters(categories=_PRINTABLE_CATEGORIES, include_characters=" ")
    return st.one_of(
        st.text(characters, min_size=1, max_size=max_size).map(str.strip).filter(bool),
        st.sampled_from([c for c in SQL_LIKE_CODES if len(c) <= max_size] or ["%"]),
    )


def bad_codes() -> st.SearchStrategy[object]:
    """Values no code argument accepts: the empty string, whitespace only, non-strings
    (``None``, numbers, bytes, lists), text with a control, format or surrogate character
    inside, and text longer than :data:`~stockkit.validation.MAX_CODE_LENGTH` once
    stripped.

    ``None`` is valid where a code is optional (an idempotency key, an actor, a generated
    id): filter it out there.
    """
    good = st.text(st.characters(categories=("L", "N")), min_size=1, max_size=8)
    control = st.one_of(
        st.characters(categories=("Cc", "Cf")),
        st.sampled_from(["\x00", "\n", "\t", "\x1b", "\x7f", "\u200b", "\ufeff", "\ud800"]),
    )
    return st.one_of(
        st.just(""),
        st.text(st.sampled_from(" \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f\x85\xa0\u2028\u3000"), min_size=1, max_size=6),
        st.builds(lambda a, c, b: a + c + b, good, control, good),
        st.text(st.characters(categories=("L", "N")), min_size=MAX_CODE_LENGTH + 1, max_size=MAX_CODE_LENGTH + 60),
        st.just("x" * (MAX_CODE_LENGTH + 1)),
        st.builds(lambda code, c: code[:1] + c + (code[1:] or "x"), st.sampled_from(SQL_LIKE_CODES), control),
        st.sampled_from(["ams\x00", "\x00", "ams'\x00; DROP TABLE levels; --", "1 OR 1=1\n--"]),
        st.one_of(
            st.none(),
            st.integers(),
            st.floats(allow_nan=False),
            st.booleans(),
            st.binary(min_size=1, max_size=5),
            st.just(b"ams"),
            st.lists(st.just("ams"), max_size=2),
            st.just(("ams",)),
        ),
    )


class _NoOffset(dt.tzinfo):
    """A time zone that does not know its offset: a datetime carrying it is naive."""

    def utcoffset(self, when: dt.datetime | None) -> None:
        return None

    def dst(self, when: dt.datetime | None) -> None:
        return None

    def tzname(self, when: dt.datetime | None) -> None:
        return None


def _not_a_time() -> st.SearchStrategy[object]:
    """Values of the wrong type for any date or time argument."""
    return st.one_of(
        st.sampled_from(["2024-01-20", "2024-01-20T12:00:00Z", "", "tomorrow"]),
        st.integers(min_value=-(2**40), max_value=2**40),
        st.floats(),
        st.booleans(),
        st.just(b"2024-01-20"),
        st.just((2024, 1, 20)),
    )


def bad_datetimes() -> st.SearchStrategy[object]:
    """Values no time argument (``since``, ``until``, a product's ``display_date``,
    ``prune_ledger``'s cutoff) accepts: naive datetimes (also one whose ``tzinfo`` gives no
    offset), aware datetimes UTC cannot represent (``datetime.max`` west of UTC,
    ``datetime.min`` east of it), dates, durations, strings, numbers and ``None``.

    ``None`` is valid where the time is optional: filter it out there.
    """
    west = dt.timezone(-dt.timedelta(hours=14))
    east = dt.timezone(dt.timedelta(hours=14))
    return st.one_of(
        st.datetimes(),
        st.just(dt.datetime(2024, 1, 20, 12, tzinfo=_NoOffset())),
        st.just(dt.datetime.max.replace(tzinfo=west)),
        st.just(dt.datetime.min.replace(tzinfo=east)),
        st.dates(),
        st.timedeltas(),
        _not_a_time(),
        st.none(),
    )


def bad_dates() -> st.SearchStrategy[object]:
    """Values no calendar-date argument (a replenishment's ``expected_on``) accepts:
    datetimes (naive and aware: pass ``.date()``), durations, strings, numbers and
    ``None``."""
    return st.one_of(
        st.datetimes(),
        st.datetimes(timezones=st.just(dt.UTC)),
        st.timedeltas(),
        _not_a_time(),
        st.none(),
    )


def bad_durations() -> st.SearchStrategy[object]:
    """Values no positive duration (a hold's ``ttl``) accepts: zero and negative
    :class:`~datetime.timedelta`, numbers of seconds or minutes, strings, datetimes and
    ``None``.

    Zero is a valid age for :meth:`~stockkit.Inventory.prune_ledger`: filter it out
    there. Durations too long for the argument (a hold of more than a year) are the
    caller's to add.
    """
    return st.one_of(
        st.just(dt.timedelta(0)),
        st.timedeltas(max_value=-dt.timedelta(microseconds=1)),
        st.just(dt.timedelta.min),
        st.datetimes(),
        st.dates(),
        _not_a_time(),
        st.none(),
    )
