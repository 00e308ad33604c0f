"""Checks applied to every argument before an operation touches the store.

Each function returns the value in its canonical form or raises a precise
:class:`~stockkit.errors.ValidationError`; none of them reads or writes anything.
"""

from __future__ import annotations

import datetime as dt
import numbers
import unicodedata

from stockkit.errors import (
    InvalidCode,
    InvalidDate,
    InvalidLocation,
    InvalidQuantity,
    ValidationError,
)

__all__ = [
    "MAX_QUANTITY",
    "MAX_CODE_LENGTH",
    "check_quantity",
    "check_delta",
    "check_code",
    "check_optional_code",
    "check_text",
    "check_latitude",
    "check_longitude",
    "check_country_code",
    "check_datetime",
    "check_date",
    "check_priority",
]

#: The largest quantity stockkit accepts: what a signed 64-bit integer holds, halved so
#: that sums of two levels never overflow a database column.
MAX_QUANTITY = 2**62
#: The longest code (warehouse, channel, SKU, order, ...) stockkit accepts.
MAX_CODE_LENGTH = 200
_MAX_TEXT_LENGTH = 10_000


def _is_integer(value: object) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def check_quantity(value: object, what: str = "quantity", *, allow_zero: bool = False) -> int:
    """Return ``value`` as an ``int`` if it is a whole number of units.

    Zero is refused unless ``allow_zero``; negative numbers, bools, floats (even whole
    ones), NaN and values above :data:`MAX_QUANTITY` always are.

    >>> check_quantity(3)
    3
    """
    if not _is_integer(value):
        raise InvalidQuantity(
            f"{what} must be a whole number of units (an int), got {value!r} "
            f"of type {type(value).__name__}"
        )
    number = int(value)  # type: ignore[call-overload]
    lowest = 0 if allow_zero else 1
    if number < lowest:
        need = "zero or more" if allow_zero else "at least 1"
        raise InvalidQuantity(f"{what} must be {need}, got {number}")
    if number > MAX_QUANTITY:
        raise InvalidQuantity(f"{what} must be at most {MAX_QUANTITY}, got {number}")
    return number


def check_delta(value: object, what: str = "delta") -> int:
    """Return a signed, non-zero whole number of units as an ``int``."""
    if not _is_integer(value):
        raise InvalidQuantity(
            f"{what} must be a whole number of units (an int), got {value!r} "
            f"of type {type(value).__name__}"
        )
    number = int(value)  # type: ignore[call-overload]
    if number == 0:
        raise InvalidQuantity(f"{what} must not be zero")
    if abs(number) > MAX_QUANTITY:
        raise InvalidQuantity(f"{what} must be between -{MAX_QUANTITY} and {MAX_QUANTITY}, got {number}")
    return number


def check_code(value: object, what: str = "code") -> str:
    """Return a code stripped of surrounding spaces.

    A code is a non-empty string of at most :data:`MAX_CODE_LENGTH` characters with no
    control characters.
    """
    if not isinstance(value, str):
        raise InvalidCode(f"{what} must be a string, got {value!r} of type {type(value).__name__}")
    code = value.strip()
    if not code:
        raise InvalidCode(f"{what} must not be empty")
    if len(code) > MAX_CODE_LENGTH:
        raise InvalidCode(f"{what} must be at most {MAX_CODE_LENGTH} characters, got {len(code)}")
    if any(unicodedata.category(ch) in ("Cc", "Cs", "Cf") for ch in code):
        raise InvalidCode(f"{what} must not contain control characters: {code!r}")
    return code


def check_optional_code(value: object, what: str = "code") -> str | None:
    """Like :func:`check_code` but ``None`` passes through."""
    return None if value is None else check_code(value, what)


def check_text(value: object, what: str = "text", *, required: bool = False) -> str:
    """Return free text (a name, a reason, an address line) stripped of surrounding spaces."""
    if not isinstance(value, str):
        raise ValidationError(f"{what} must be a string, got {value!r} of type {type(value).__name__}")
    text = value.strip()
    if required and not text:
        raise ValidationError(f"{what} is required and must not be empty")
    if len(text) > _MAX_TEXT_LENGTH:
        raise ValidationError(f"{what} must be at most {_MAX_TEXT_LENGTH} characters")
    if "\x00" in text:
        raise ValidationError(f"{what} must not contain NUL characters")
    return text


def _check_coordinate(value: object, what: str, limit: float) -> float | None:
    if value is None:
        return None
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise InvalidLocation(f"{what} must be a number, got {value!r}")
    try:
        number = float(value)
    except OverflowError:
        raise InvalidLocation(f"{what} must be between -{limit:g} and {limit:g}, got {value!r}") from None
    if not -limit <= number <= limit:  # also refuses NaN
        raise InvalidLocation(f"{what} must be between -{limit:g} and {limit:g}, got {value!r}")
    return number


def check_latitude(value: object) -> float | None:
    """Return a latitude in degrees, in [-90, 90], or ``None``."""
    return _check_coordinate(value, "latitude", 90.0)


def check_longitude(value: object) -> float | None:
    """Return a longitude in degrees, in [-180, 180], or ``None``."""
    return _check_coordinate(value, "longitude", 180.0)


def check_country_code(value: object) -> str:
    """Return an ISO 3166 alpha-2 country code in upper case, or ``""`` for none."""
    if value is None or value == "":
        return ""
    if not isinstance(value, str) or len(value.strip()) != 2 or not value.strip().isascii() \
            or not value.strip().isalpha():
        raise InvalidLocation(f"country code must be two ISO 3166 letters such as 'US', got {value!r}")
    return value.strip().upper()


def check_datetime(value: object, what: str = "time") -> dt.datetime:
    """Return an aware :class:`datetime.datetime` converted to UTC."""
    if not isinstance(value, dt.datetime):
        raise InvalidDate(f"{what} must be a datetime, got {value!r}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidDate(f"{what} must carry a time zone (for example datetime.timezone.utc), got {value!r}")
    try:
        return value.astimezone(dt.timezone.utc)
    except OverflowError:
        raise InvalidDate(f"{what} is outside the range a UTC time can hold: {value!r}") from None


def check_date(value: object, what: str = "date") -> dt.date:
    """Return a :class:`datetime.date` (a datetime is refused: pass ``.date()``)."""
    if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
        raise InvalidDate(f"{what} must be a datetime.date, got {value!r}")
    return value


def check_priority(value: object, what: str = "priority") -> int:
    """Return a priority: a whole number, possibly negative (lower comes first)."""
    if not _is_integer(value):
        raise InvalidQuantity(f"{what} must be an int, got {value!r}")
    number = int(value)  # type: ignore[call-overload]
    if not -(2**31) <= number <= 2**31 - 1:
        raise InvalidQuantity(f"{what} must fit in 32 bits, got {number}")
    return number
