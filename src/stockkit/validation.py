"""Checks applied to every argument before an operation touches the store.

Each function returns the value in its canonical form or raises a precise
:class:`~stockkit.errors.ValidationError`; none of them reads or writes anything.
"""

from __future__ import annotations

import datetime as dt
import numbers
import unicodedata
from collections.abc import Callable, Iterable
from typing import Any

from stockkit.errors import (
    InvalidCode,
    InvalidDate,
    InvalidLocation,
    InvalidQuantity,
    ValidationError,
)
from stockkit.model import InventoryConfig, OrderLine, ProductStatus

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
    "LineInput",
    "check_flag",
    "check_optional_version",
    "check_optional_datetime",
    "check_status",
    "check_config",
    "check_changes",
    "check_warehouse_fields",
    "check_lines",
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


# -- checks of composite arguments ---------------------------------------------------------
#: An order line as shop code may give it: an :class:`~stockkit.model.OrderLine`, or
#: ``(sku, quantity)`` (line ids are then numbered ``"1"``, ``"2"``, ...).
LineInput = OrderLine | tuple[str, int]

_WAREHOUSE_TEXT_FIELDS = ("description", "street1", "street2", "street3", "city", "postal_code", "region_code")


def check_flag(value: object, what: str) -> bool:
    """Return ``value`` if it is a bool (``1`` and ``"yes"`` are refused)."""
    if not isinstance(value, bool):
        raise ValidationError(f"{what} must be True or False, got {value!r}")
    return value


def check_optional_version(value: object) -> int | None:
    """Return an expected level version (a whole number from 0), or ``None``."""
    return None if value is None else check_quantity(value, "expected_version", allow_zero=True)


def check_optional_datetime(value: object, what: str) -> dt.datetime | None:
    """Like :func:`check_datetime`, but ``None`` passes through."""
    return None if value is None else check_datetime(value, what)


def check_status(value: object) -> ProductStatus:
    """Return a :class:`~stockkit.model.ProductStatus` from itself or its value."""
    try:
        return ProductStatus(value)
    except ValueError:
        raise ValidationError(
            f"status must be one of {', '.join(s.value for s in ProductStatus)}, got {value!r}"
        ) from None


def check_config(value: object) -> InventoryConfig:
    """Return an inventory configuration whose quantities and keys are valid."""
    if not isinstance(value, InventoryConfig):
        raise ValidationError(f"config must be a stockkit.InventoryConfig, got {value!r}")
    for name in ("low_stock_threshold", "min_order_quantity", "max_order_quantity", "multiple_order_quantity"):
        check_quantity(getattr(value, name), name, allow_zero=True)
    if value.multiple_order_quantity < 1:
        raise InvalidQuantity("multiple_order_quantity must be at least 1")
    for q in value.allowed_order_quantities:
        check_quantity(q, "an allowed order quantity")
    if value.max_order_quantity and value.min_order_quantity > value.max_order_quantity:
        raise InvalidQuantity(
            f"min_order_quantity {value.min_order_quantity} exceeds max_order_quantity {value.max_order_quantity}"
        )
    check_code(value.engine, "inventory engine")
    check_optional_code(value.low_stock_action, "low stock action")
    check_optional_code(value.availability_estimate, "availability estimate")
    return value


def check_changes(
    changes: dict[str, Any], checks: dict[str, Callable[[Any], Any]], what: str
) -> dict[str, Any]:
    """Check the fields an update names with ``checks`` (field name to check); refuse an
    empty update and fields that cannot be changed."""
    unknown = sorted(set(changes) - set(checks))
    if unknown:
        raise ValidationError(
            f"cannot change {', '.join(unknown)} of a {what}; changeable: {', '.join(sorted(checks))}"
        )
    if not changes:
        raise ValidationError(f"nothing to change: give at least one of {', '.join(sorted(checks))}")
    return {name: checks[name](value) for name, value in changes.items()}


def check_warehouse_fields(fields: dict[str, Any], *, required_name: bool) -> dict[str, Any]:
    """Check a warehouse's name, address and coordinates as given to create or update it."""
    checks: dict[str, Callable[[Any], Any]] = {
        "name": lambda v: check_text(v, "warehouse name", required=True),
        "country_code": check_country_code,
        "latitude": check_latitude,
        "longitude": check_longitude,
        **{f: (lambda v, f=f: check_text(v, f.replace("_", " "))) for f in _WAREHOUSE_TEXT_FIELDS},
    }
    values = check_changes(fields, checks, "warehouse")
    if required_name and "name" not in values:
        raise ValidationError("a warehouse needs a name")
    return values


def check_lines(lines: Iterable[LineInput]) -> tuple[OrderLine, ...]:
    """Return an order's lines as :class:`~stockkit.model.OrderLine` objects with unique
    ids; ``(sku, quantity)`` pairs are numbered from ``"1"``."""
    if isinstance(lines, (str, bytes)) or not isinstance(lines, Iterable):
        raise ValidationError(f"lines must be a list of OrderLine or (sku, quantity) pairs, got {lines!r}")
    checked: list[OrderLine] = []
    for number, line in enumerate(lines, start=1):
        if isinstance(line, OrderLine):
            line_id, sku, quantity = line.line_id, line.sku, line.quantity
        elif isinstance(line, tuple) and len(line) == 2:
            line_id, (sku, quantity) = str(number), line
        else:
            raise ValidationError(f"line {number} must be an OrderLine or a (sku, quantity) pair, got {line!r}")
        checked.append(OrderLine(
            check_code(line_id, f"line {number}'s id"),
            check_code(sku, f"line {number}'s SKU code"),
            check_quantity(quantity, f"line {number}'s quantity"),
        ))
    if not checked:
        raise ValidationError("an order needs at least one line")
    ids = [line.line_id for line in checked]
    if len(set(ids)) != len(ids):
        raise ValidationError(f"line ids must be unique within an order, got {ids}")
    return tuple(checked)
