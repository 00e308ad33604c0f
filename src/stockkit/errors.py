"""Every error stockkit raises.

All of them derive from :class:`StockkitError`, so shop code can catch the whole family
in one ``except`` clause, or a precise subclass when it wants to react to one failure.
A call that raises leaves the inventory exactly as it was before the call.
"""

from __future__ import annotations

__all__ = [
    "StockkitError",
    "ValidationError",
    "InvalidQuantity",
    "InvalidCode",
    "InvalidLocation",
    "InvalidDate",
    "InvalidArray",
    "NotFound",
    "UnknownWarehouse",
    "UnknownChannel",
    "UnknownProduct",
    "UnknownSku",
    "UnknownOrder",
    "UnknownOrderLine",
    "UnknownShipment",
    "UnknownTransfer",
    "UnknownReplenishment",
    "DuplicateCode",
    "WarehouseWithoutLocation",
    "WarehouseNotEmpty",
    "ChannelWithoutWarehouses",
    "InsufficientStock",
    "OrderLineRejected",
    "NotPurchasable",
    "BelowMinimumQuantity",
    "AboveMaximumQuantity",
    "QuantityNotAllowed",
    "NotAMultiple",
    "UnknownEstimate",
    "InvalidStateTransition",
    "HoldExpired",
    "IdempotencyConflict",
    "VersionConflict",
    "ImportFailed",
    "UnknownBackend",
    "PluginError",
    "UnknownPluginKey",
    "PluginFailureWarning",
    "TransactionConflict",
    "StoreUnavailable",
]


class StockkitError(Exception):
    """Base class of every error stockkit raises."""


class ValidationError(StockkitError, ValueError):
    """An argument is malformed; nothing was read or changed."""


class InvalidQuantity(ValidationError):
    """A quantity is not a whole number in the accepted range (bool, float, NaN, negative,
    zero where a positive number is needed, or beyond what a 64-bit integer holds)."""


class InvalidCode(ValidationError):
    """A code or reference (warehouse, channel, SKU, order, ...) is empty, too long, not a
    string or contains control characters."""


class InvalidLocation(ValidationError):
    """Coordinates or a country code are out of range or malformed."""


class InvalidDate(ValidationError):
    """A date or time is of the wrong type, or a time carries no time zone."""


class InvalidArray(ValidationError):
    """An array given to the allocation engine has the wrong shape, type or length, an
    index out of range, or duplicate keys; the message names the argument and how to fix
    it."""


class NotFound(StockkitError, LookupError):
    """Something named by its code or id does not exist."""


class UnknownWarehouse(NotFound):
    """No warehouse has this code."""


class UnknownChannel(NotFound):
    """No channel has this code."""


class UnknownProduct(NotFound):
    """No product has this code."""


class UnknownSku(NotFound):
    """The product has no SKU with this code."""


class UnknownOrder(NotFound):
    """No order has this id."""


class UnknownOrderLine(NotFound):
    """The order has no line with this id."""


class UnknownShipment(NotFound):
    """No shipment has this id."""


class UnknownTransfer(NotFound):
    """No transfer has this id."""


class UnknownReplenishment(NotFound):
    """No replenishment has this id."""


class UnknownEstimate(NotFound):
    """No availability estimate has this key."""


class DuplicateCode(StockkitError):
    """Something with this code or id exists already; codes are unique."""


class WarehouseWithoutLocation(StockkitError):
    """An active warehouse needs a location: set latitude and longitude first."""


class WarehouseNotEmpty(StockkitError):
    """The warehouse still holds stock, bookings, incoming stock or transfers in transit;
    deactivate it instead, or delete it with ``force=True``."""


class ChannelWithoutWarehouses(StockkitError):
    """The channel has no linked active warehouse, so it cannot take orders."""


class InsufficientStock(StockkitError):
    """The stock cannot cover the request without overselling or breaking bookings and
    safety stock.

    Attributes:
        sku: the SKU code that is short.
        requested: the quantity asked for.
        available: the quantity that could have been given.
        warehouse: the warehouse that is short, or ``None`` when the shortage is over a
            channel's warehouses.
    """

    def __init__(
        self,
        message: str,
        *,
        sku: str | None = None,
        requested: int | None = None,
        available: int | None = None,
        warehouse: str | None = None,
    ) -> None:
        super().__init__(message)
        self.sku = sku
        self.requested = requested
        self.available = available
        self.warehouse = warehouse


class OrderLineRejected(StockkitError):
    """An order line breaks a rule of its product's inventory configuration; nothing of
    the order was booked. The message is written for the shopper.

    The rules are checked in this order and the first failure is raised:
    :class:`NotPurchasable`, :class:`BelowMinimumQuantity`,
    :class:`AboveMaximumQuantity`, :class:`QuantityNotAllowed`, :class:`NotAMultiple`,
    then availability (:class:`InsufficientStock`).

    Attributes:
        sku: the SKU code of the line.
        quantity: the quantity asked for.
        line_id: the order line's id.
    """

    def __init__(self, message: str, *, sku: str, quantity: int, line_id: str | None = None, **limit: object) -> None:
        super().__init__(message)
        self.sku = sku
        self.quantity = quantity
        self.line_id = line_id
        for name, value in limit.items():  # the broken rule's limit: minimum, maximum, allowed or multiple
            setattr(self, name, value)


class NotPurchasable(OrderLineRejected):
    """The SKU cannot be bought: its product is not approved (draft, scheduled or
    expired) or the SKU is unpublished or not purchasable."""


class BelowMinimumQuantity(OrderLineRejected):
    """The quantity is below the product's minimum order quantity.

    Attributes:
        minimum: the smallest quantity accepted.
    """

    minimum: int


class AboveMaximumQuantity(OrderLineRejected):
    """The quantity is above the product's maximum order quantity.

    Attributes:
        maximum: the largest quantity accepted.
    """

    maximum: int


class QuantityNotAllowed(OrderLineRejected):
    """The product accepts only some quantities and this is not one of them.

    Attributes:
        allowed: the quantities accepted, in increasing order.
    """

    allowed: tuple[int, ...]


class NotAMultiple(OrderLineRejected):
    """The quantity is not a multiple of the product's multiple order quantity.

    Attributes:
        multiple: the number the quantity must be a multiple of.
    """

    multiple: int


class InvalidStateTransition(StockkitError):
    """The operation does not apply to the object's current state (receiving a transfer
    twice, cancelling a cancelled shipment, shipping an unconfirmed hold, ...)."""


class HoldExpired(InvalidStateTransition):
    """The hold expired before it was confirmed; place the order again."""


class IdempotencyConflict(StockkitError):
    """The idempotency key was used before with different arguments; use a new key."""


class VersionConflict(StockkitError):
    """The level changed since it was read (its version is not the expected one); read it
    again and retry."""


class ImportFailed(ValidationError):
    """A CSV import found bad rows; nothing was imported.

    Attributes:
        problems: ``(line_number, message)`` pairs, one per bad row.
    """

    def __init__(self, problems: list[tuple[int, str]]) -> None:
        self.problems = problems
        shown = "; ".join(f"line {n}: {msg}" for n, msg in problems[:10])
        more = f" (and {len(problems) - 10} more)" if len(problems) > 10 else ""
        super().__init__(f"CSV import failed, nothing was imported: {shown}{more}")


class UnknownBackend(StockkitError):
    """No storage backend is registered for the URL's scheme."""


class PluginError(StockkitError):
    """A plugin could not be loaded or is misconfigured."""


class UnknownPluginKey(PluginError):
    """A configuration names a low-stock action or an inventory engine by a key that no
    registered plugin provides; install (or stop blocking) the plugin, or use a known key.

    Attributes:
        kind: what the key should name (``"low-stock action"``, ``"inventory engine"``).
        key: the unknown key.
        known: the keys that are registered.
    """

    def __init__(self, kind: str, key: str, known: list[str]) -> None:
        shown = ", ".join(repr(k) for k in known) or "none"
        super().__init__(
            f"no plugin provides the {kind} {key!r} (known: {shown}); install or unblock the plugin "
            f"that provides it, or choose a known key"
        )
        self.kind = kind
        self.key = key
        self.known = known


class PluginFailureWarning(UserWarning):
    """A plugin raised while it ran outside any transaction (a low-stock action, a stock
    event listener, an availability estimator). The change that triggered it stands; the
    failure is reported with this warning and to the ``stockkit_plugin_failed`` hook.

    Attributes:
        failure: the :class:`stockkit.events.PluginFailure` that says which plugin failed
            on what.
    """

    def __init__(self, failure: object) -> None:
        super().__init__(str(failure))
        self.failure = failure


class TransactionConflict(StockkitError):
    """Concurrent transactions kept colliding (serialization failure, deadlock, lock or
    busy timeout) and the bounded retries ran out; nothing was changed. Retry later.

    Storage backends raise it for a transaction that is safe to run again from the start;
    the inventory retries such a transaction a few times, with jittered back-off, before
    letting it reach the caller."""


class StoreUnavailable(StockkitError):
    """The store cannot be reached or opened (database down, file unreadable, schema
    too old); nothing was changed."""
