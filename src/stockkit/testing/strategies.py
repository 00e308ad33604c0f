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
spaces once stripped, and without control, format or surrogate characters.
"""

from __future__ import annotations

import decimal
import fractions
import math

import numpy as np
from hypothesis import strategies as st

from stockkit.validation import MAX_CODE_LENGTH, MAX_QUANTITY

__all__ = ["MAX_GOOD_CODE_LENGTH", "bad_codes", "bad_quantities", "codes", "quantities"]

#: The longest code :func:`codes` draws. stockkit accepts up to
#: :data:`~stockkit.validation.MAX_CODE_LENGTH` characters; shorter ones keep examples
#: readable.
MAX_GOOD_CODE_LENGTH = 40

# Letters, marks, numbers, punctuation and symbols, plus the plain space inside a code:
# what str.isprintable() accepts. Other separators (no-break space, line separator, ...)
# are stripped or unprintable, control/format/surrogate/private/unassigned code points
# ("C*") are refused or unprintable.
_PRINTABLE_CATEGORIES = ("L", "M", "N", "P", "S")


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
    return (
        st.text(characters, min_size=1, max_size=max_size)
        .map(str.strip)
        .filter(bool)
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
