"""A stateful hypothesis test of the whole stock life cycle, for any storage backend.

:func:`inventory_state_machine` returns a :class:`~hypothesis.stateful.RuleBasedStateMachine`
that drives random sequences of every stock operation (levels, orders, holds, the clock,
sweeps, releases, shipments, transfers, replenishments, warehouse activation, deletion and
re-creation, channel links, ledger pruning, idempotent repeats) and of the catalogue
(product status and dates, publishing, the status sweep, SKU flags, inventory
configurations with order rules, back orders and low-stock actions, availability
estimates) against a real
:class:`stockkit.Inventory` and against :class:`InventoryModel`, a plain-Python model of
what DOMAIN.md says stockkit does. After every step it checks that the two agree and that
the inventory keeps its promises::

    import stockkit
    from stockkit.testing import inventory_state_machine

    InventoryMachine = inventory_state_machine(
        lambda clock: stockkit.open("memory://", clock=clock, autoload_plugins=False)
    )
    TestInventory = InventoryMachine.TestCase   # collected by pytest

Each operation runs first on a copy of the model. When the model refuses it (it raises
:class:`Refused` naming the stockkit error the inventory must raise), the inventory must
raise that error and change nothing at all; when the model accepts it, the inventory must
succeed with the result the model predicts, and the copy becomes the model.

The checks after every step (the ``@invariant`` methods):

- no column of any level is negative (``available`` neither), and
  ``available == on_hand - safety - booked`` for
  every level and every summary (company-wide and per channel);
- every level equals the model (``booked`` without expired holds);
- per level, the ledger's deltas add up to the stored ``on_hand``, ``safety``, ``incoming``,
  and ``booked`` plus the units of expired holds not yet swept;
- bookings (expired ones too), orders, shipments, transfers, replenishments, products,
  SKU flags and availability estimates equal the model, and :meth:`stockkit.Inventory.verify` reports no discrepancy;
- available is negative only for SKUs that were back-ordered.

After every successful operation the stock events heard so far must alternate, per
product and SKU, between low stock and back in stock (a threshold change starts afresh),
and the low-stock action ``"record"`` (registered by the
machine) must have run exactly once per downward crossing of a product's threshold by
its SKU's company-wide available quantity, as the model computes it, and never for a
refused call or an idempotent repeat; the built-in ``"unpublish"`` must have unpublished
the SKU.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any, ClassVar

import attrs
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

import stockkit
from stockkit import errors
from stockkit.inventory import Inventory
from stockkit.model import InventoryConfig, OrderLine
from stockkit.testing.clock import FakeClock
from stockkit.validation import MAX_QUANTITY

__all__ = [
    "CHANNELS",
    "PRODUCTS",
    "SKUS",
    "WAREHOUSES",
    "InventoryModel",
    "InventoryStateMachine",
    "Refused",
    "inventory_state_machine",
]

#: The SKU codes the machine trades in.
SKUS = ("CAP", "MUG", "TEE-M", "TEE-S")
#: The catalogue: products and the SKU codes they list. ``CAP`` is stock only (no product
#: lists it), so no catalogue rule applies to it.
PRODUCTS: dict[str, tuple[str, ...]] = {"mug": ("MUG",), "tee": ("TEE-M", "TEE-S")}
#: The low-stock action the machine registers: it records each run.
RECORD = "record"
#: The keys of the availability estimates the machine stores (products are assigned
#: them, and sometimes one not stored yet, which must be refused).
ESTIMATES = ("3-5d", "week")
#: The warehouses the setup creates: ``ams`` and ``ber`` active, ``cph`` inactive at first;
#: all three have a location, so rules can toggle any of them.
WAREHOUSES = ("ams", "ber", "cph")
#: A warehouse code nothing has; calls naming it must raise ``UnknownWarehouse``.
UNKNOWN_WAREHOUSE = "nowhere"
#: The channels and their warehouse links with priorities at the start. Both channels
#: share ``ams`` and ``ber``; ``market``'s tie is broken by warehouse code.
CHANNELS: dict[str, dict[str, int]] = {
    "web": {"cph": 0, "ams": 1, "ber": 2},
    "market": {"ber": 0, "ams": 0},
}
_LOCATIONS = {"ams": (52.37, 4.90), "ber": (52.52, 13.40), "cph": (55.68, 12.57)}

Key = tuple[str, str]
"""A level: ``(sku, warehouse)``."""
BookingKey = tuple[str, str, str]
"""A booking: ``(order_id, line_id, warehouse)``."""


class Refused(Exception):
    """The model's verdict that an operation must fail with ``error``, changing nothing."""

    def __init__(self, error: type[errors.StockkitError], why: str) -> None:
        super().__init__(f"{error.__name__}: {why}")
        self.error = error
        self.why = why


# -- the model -------------------------------------------------------------------------------


@attrs.define
class ModelProduct:
    """A product of :data:`PRODUCTS`: its status and dates, its configuration, and its
    SKUs' ``published`` and ``purchasable`` flags."""

    skus: tuple[str, ...]
    status: str = "approved"
    display_date: dt.datetime | None = None
    expiration_date: dt.datetime | None = None
    config: InventoryConfig = attrs.Factory(InventoryConfig)
    published: dict[str, bool] = attrs.Factory(dict)
    purchasable: dict[str, bool] = attrs.Factory(dict)

    def status_at(self, now: dt.datetime) -> str:
        """The status at ``now``: expired from the expiration date (approved or scheduled
        products), approved from the display date (scheduled ones)."""
        if self.status in ("approved", "scheduled") and self.expiration_date is not None \
                and self.expiration_date <= now:
            return "expired"
        if self.status == "scheduled" and self.display_date is not None and self.display_date <= now:
            return "approved"
        return self.status


@attrs.define
class ModelBooking:
    """Units of an order line promised at one warehouse; a hold while ``expires_at`` is set."""

    sku: str
    channel: str
    quantity: int
    expires_at: dt.datetime | None = None


@attrs.define
class ModelOrder:
    """An order: its channel, its lines (``line_id -> (sku, quantity)``), the lines
    released since (``cancelled``) and, while it is an unconfirmed hold, when the hold
    expires."""

    channel: str
    lines: dict[str, tuple[str, int]]
    placed_at: dt.datetime
    expires_at: dt.datetime | None = None
    cancelled: set[str] = attrs.Factory(set)


@attrs.define
class ModelShipment:
    """Units of an order line that left a warehouse."""

    order_id: str
    line_id: str
    sku: str
    warehouse: str
    quantity: int
    shipped_at: dt.datetime
    cancelled: bool = False


@attrs.define
class ModelTransfer:
    """Units on their way from ``source`` to ``destination``; ``status`` is
    ``"in_transit"``, ``"received"`` or ``"cancelled"``."""

    sku: str
    source: str
    destination: str
    quantity: int
    created_at: dt.datetime
    status: str = "in_transit"
    closed_at: dt.datetime | None = None


@attrs.define
class ModelReplenishment:
    """Incoming units; ``status`` is ``"open"``, ``"received"`` or ``"cancelled"``."""

    sku: str
    warehouse: str
    quantity: int
    expected_on: dt.date
    received: int = 0
    status: str = "open"

    @property
    def open_quantity(self) -> int:
        """Units still expected."""
        return self.quantity - self.received if self.status == "open" else 0


@attrs.define
class InventoryModel:
    """What an inventory must contain, in plain dictionaries, and what each operation does
    to it.

    Every operation method either changes the model and returns what the inventory's call
    must return (or the parts of it the model can know), or raises :class:`Refused`
    *before changing anything*. Checks come in the inventory's order: arguments, then
    existence, then state, then stock.

    ``on_hand``, ``safety`` and ``incoming`` are stored per level; ``booked`` is not
    stored: it is the sum of the level's bookings that are not expired holds.
    """

    now: dt.datetime
    active: dict[str, bool]
    links: dict[str, dict[str, int]]
    on_hand: dict[Key, int] = attrs.Factory(dict)
    safety: dict[Key, int] = attrs.Factory(dict)
    incoming: dict[Key, int] = attrs.Factory(dict)
    bookings: dict[BookingKey, ModelBooking] = attrs.Factory(dict)
    orders: dict[str, ModelOrder] = attrs.Factory(dict)
    shipments: dict[str, ModelShipment] = attrs.Factory(dict)
    transfers: dict[str, ModelTransfer] = attrs.Factory(dict)
    replenishments: dict[str, ModelReplenishment] = attrs.Factory(dict)
    products: dict[str, ModelProduct] = attrs.Factory(dict)
    #: Availability estimates: key -> (label, priority).
    estimates: dict[str, tuple[str, int]] = attrs.Factory(dict)
    #: SKUs that were booked beyond stock (back orders): only their available may be negative.
    back_ordered: set[str] = attrs.Factory(set)

    # -- what the model knows ---------------------------------------------------------
    def expired(self, booking: ModelBooking) -> bool:
        """Whether a booking is a hold whose time has come (it then counts for nothing)."""
        return booking.expires_at is not None and booking.expires_at <= self.now

    def booked(self, key: Key) -> int:
        """Units promised at a level: its bookings, expired holds not counted."""
        return sum(b.quantity for (_, _, w), b in self.bookings.items()
                   if w == key[1] and b.sku == key[0] and not self.expired(b))

    def expired_unswept(self, key: Key) -> int:
        """Units of a level's expired holds that no sweep has removed yet."""
        return sum(b.quantity for (_, _, w), b in self.bookings.items()
                   if (b.sku, w) == key and self.expired(b))

    def available(self, key: Key) -> int:
        """``on_hand - safety - booked`` of a level."""
        return self.on_hand.get(key, 0) - self.safety.get(key, 0) - self.booked(key)

    def level(self, key: Key) -> tuple[int, int, int, int]:
        """``(on_hand, safety, booked, incoming)`` of a level; zeros if it never had stock."""
        return (self.on_hand.get(key, 0), self.safety.get(key, 0), self.booked(key), self.incoming.get(key, 0))

    def keys(self) -> set[Key]:
        """Every level that has or had something."""
        return {*self.on_hand, *self.safety, *self.incoming, *((b.sku, w) for (_, _, w), b in self.bookings.items())}

    def route(self, channel: str) -> list[str]:
        """The channel's active warehouses in allocation order: link priority, then code."""
        links = self.links[channel]
        return sorted((w for w in links if self.active[w]), key=lambda w: (links[w], w))

    def company_available(self, sku: str) -> int:
        """A SKU's available quantity over every active warehouse."""
        return sum(self.available((sku, w)) for w, active in self.active.items() if active)

    def product_of(self, sku: str) -> tuple[str, ModelProduct] | None:
        """The product listing a SKU code, or ``None`` for a stock-only code."""
        return next(((code, p) for code, p in self.products.items() if sku in p.skus), None)

    def line_units(self, order_id: str, line_id: str) -> dict[str, int]:
        """An order line's booked units per warehouse."""
        return {w: b.quantity for (o, ln, w), b in self.bookings.items() if (o, ln) == (order_id, line_id)}

    # -- the one way levels change --------------------------------------------------------
    def _change(
        self,
        *,
        on_hand: dict[Key, int] | None = None,
        safety: dict[Key, int] | None = None,
        incoming: dict[Key, int] | None = None,
        bookings: dict[BookingKey, ModelBooking | None] | None = None,
        allow_negative: frozenset[str] = frozenset(),
    ) -> None:
        """Add deltas to level columns and write (or, with ``None``, delete) bookings, all
        or nothing, under the stock rules:

        - no column (on hand, safety, incoming, bookings incl. expired holds) below zero,
          else ``InsufficientStock``;
        - no on hand, safety or incoming above ``MAX_QUANTITY`` (a 64-bit column must hold
          the sum of two levels), else ``InvalidQuantity``;
        - a change that lowers a level's available (expired holds not counted) may not
          take it below zero, else ``InsufficientStock``, unless the level's SKU is in
          ``allow_negative`` (a back order).
        """
        on_hand, safety, incoming, bookings = on_hand or {}, safety or {}, incoming or {}, bookings or {}
        after = copy.copy(self)
        after.on_hand = {**self.on_hand}
        after.safety = {**self.safety}
        after.incoming = {**self.incoming}
        after.bookings = {**self.bookings}
        for column, deltas in (("on_hand", on_hand), ("safety", safety), ("incoming", incoming)):
            table = getattr(after, column)
            for key, delta in deltas.items():
                table[key] = table.get(key, 0) + delta
        touched = {*on_hand, *safety, *incoming}
        for bkey, booking in bookings.items():
            old = after.bookings.pop(bkey, None)
            if old is not None:
                touched.add((old.sku, bkey[2]))
            if booking is not None and booking.quantity:
                after.bookings[bkey] = booking
                touched.add((booking.sku, bkey[2]))
        for key in sorted(touched):
            stored_booked = after.booked(key) + after.expired_unswept(key)
            columns = {"on_hand": after.on_hand.get(key, 0), "safety": after.safety.get(key, 0),
                       "incoming": after.incoming.get(key, 0), "booked": stored_booked}
            for column, value in columns.items():
                if value < 0:
                    raise Refused(errors.InsufficientStock, f"{column} of {key} would become {value}")
                if value > MAX_QUANTITY:
                    raise Refused(errors.InvalidQuantity, f"{column} of {key} would exceed {MAX_QUANTITY}")
            if after.available(key) < self.available(key) and after.available(key) < 0 \
                    and key[0] not in allow_negative:
                raise Refused(errors.InsufficientStock, f"available of {key} would become {after.available(key)}")
        self.on_hand, self.safety, self.incoming, self.bookings = (
            after.on_hand, after.safety, after.incoming, after.bookings)

    # -- argument and existence checks ----------------------------------------------------
    @staticmethod
    def _quantity(value: int, what: str = "quantity") -> None:
        if not 1 <= value <= MAX_QUANTITY:
            raise Refused(errors.InvalidQuantity, f"{what} {value} is not in 1..{MAX_QUANTITY}")

    def _warehouse(self, code: str) -> None:
        if code not in self.active:
            raise Refused(errors.UnknownWarehouse, f"no warehouse {code!r}")

    def _order(self, order_id: str) -> ModelOrder:
        if order_id not in self.orders:
            raise Refused(errors.UnknownOrder, f"no order {order_id!r}")
        return self.orders[order_id]

    # -- operations -----------------------------------------------------------------------
    def set_level(self, sku: str, warehouse: str, on_hand: int | None, safety: int | None) -> Key:
        """Set on hand and/or safety to absolute values."""
        for value, what in ((on_hand, "on_hand"), (safety, "safety")):
            if value is not None and not 0 <= value <= MAX_QUANTITY:
                raise Refused(errors.InvalidQuantity, f"{what} {value}")
        self._warehouse(warehouse)
        key = (sku, warehouse)
        self._change(
            on_hand={key: on_hand - self.on_hand.get(key, 0)} if on_hand is not None else {},
            safety={key: safety - self.safety.get(key, 0)} if safety is not None else {},
        )
        return key

    def adjust(self, sku: str, warehouse: str, delta: int) -> Key:
        """Change on hand by a signed, non-zero delta."""
        if delta == 0 or abs(delta) > MAX_QUANTITY:
            raise Refused(errors.InvalidQuantity, f"delta {delta}")
        self._warehouse(warehouse)
        self._change(on_hand={(sku, warehouse): delta})
        return (sku, warehouse)

    def set_active(self, warehouse: str, active: bool) -> None:
        """Activate or deactivate a warehouse (all of the machine's have a location)."""
        self._warehouse(warehouse)
        self.active[warehouse] = active

    def create_warehouse(self, warehouse: str) -> None:
        """Create an inactive warehouse (with a location) that serves no channel."""
        if warehouse in self.active:
            raise Refused(errors.DuplicateCode, f"warehouse {warehouse!r} exists")
        self.active[warehouse] = False

    def delete_warehouse(self, warehouse: str, force: bool) -> None:
        """Delete a warehouse. Without ``force`` it must hold nothing: no stock, safety,
        incoming, bookings (expired holds too) nor transfers in transit from or to it.
        A forced delete releases its bookings, cancels its open replenishments and the
        transfers bound for it (their units go back on hand at the source) and removes its
        levels; transfers leaving it stay in transit. Order lines are not cancelled."""
        self._warehouse(warehouse)
        levels = [k for k in self.keys() if k[1] == warehouse]
        bookings = [k for k in self.bookings if k[2] == warehouse]
        replenishments = [r for r in self.replenishments.values() if r.warehouse == warehouse and r.open_quantity]
        moving = [t for t in self.transfers.values()
                  if t.status == "in_transit" and warehouse in (t.source, t.destination)]
        stocked = any(any(self.level(k)) for k in levels)
        if not force and (stocked or bookings or replenishments or moving):
            raise Refused(errors.WarehouseNotEmpty, f"{warehouse} holds something")
        returning = [t for t in moving if t.destination == warehouse]
        back_on_hand: dict[Key, int] = {}
        for t in returning:
            back_on_hand[(t.sku, t.source)] = back_on_hand.get((t.sku, t.source), 0) + t.quantity
        not_expected: dict[Key, int] = {}
        for r in replenishments:
            not_expected[(r.sku, warehouse)] = not_expected.get((r.sku, warehouse), 0) - r.open_quantity
        self._change(on_hand=back_on_hand, incoming=not_expected, bookings=dict.fromkeys(bookings))
        for t in returning:
            t.status, t.closed_at = "cancelled", self.now
        for r in replenishments:
            r.status = "cancelled"
        for key in levels:
            for table in (self.on_hand, self.safety, self.incoming):
                table.pop(key, None)
        for links in self.links.values():
            links.pop(warehouse, None)
        del self.active[warehouse]

    def link(self, channel: str, warehouse: str, priority: int) -> None:
        """Link a warehouse to a channel, or change the link's priority."""
        self._warehouse(warehouse)
        self.links[channel][warehouse] = priority

    def unlink(self, channel: str, warehouse: str) -> bool:
        """Remove a link; return whether there was one."""
        self._warehouse(warehouse)
        return self.links[channel].pop(warehouse, None) is not None

    def place(
        self, order_id: str, channel: str, lines: dict[str, tuple[str, int]], ttl: dt.timedelta | None
    ) -> dict[str, dict[str, int]]:
        """Book (or, with ``ttl``, hold) every line or none; return the allocation
        ``line_id -> {warehouse: units}``.

        Each line draws, in order, on the channel's active linked warehouses by (link
        priority, code), taking what each can still give and splitting over several.
        """
        if ttl is not None and ttl <= dt.timedelta(0):
            raise Refused(errors.ValidationError, f"ttl {ttl}")
        for line_id, (_, quantity) in lines.items():
            self._quantity(quantity, f"line {line_id}'s quantity")
        if channel not in self.links:
            raise Refused(errors.UnknownChannel, f"no channel {channel!r}")
        if order_id in self.orders:
            raise Refused(errors.DuplicateCode, f"order {order_id!r} exists")
        route = self.route(channel)
        if not route:
            raise Refused(errors.ChannelWithoutWarehouses, f"{channel} has no active warehouse")
        back_orders = self.check_rules(lines)
        can_give = {(sku, w): max(self.available((sku, w)), 0) for sku, _ in lines.values() for w in route}
        allocation: dict[str, dict[str, int]] = {}
        for line_id, (sku, quantity) in lines.items():
            need, taken = quantity, {}
            for warehouse in route:
                give = min(can_give[(sku, warehouse)], need)
                if give:
                    taken[warehouse] = give
                    can_give[(sku, warehouse)] -= give
                    need -= give
            if need and sku not in back_orders:
                raise Refused(errors.InsufficientStock, f"line {line_id}: {need} of {sku} short")
            if need:  # a back order: the rest is booked at the channel's first warehouse
                taken[route[0]] = taken.get(route[0], 0) + need
            allocation[line_id] = taken
        expires = None if ttl is None else self.now + ttl
        self._change(bookings={
            (order_id, line_id, w): ModelBooking(lines[line_id][0], channel, units, expires)
            for line_id, taken in allocation.items() for w, units in taken.items()
        }, allow_negative=frozenset(back_orders))
        self.back_ordered |= back_orders
        self.orders[order_id] = ModelOrder(channel, dict(lines), self.now, expires)
        return allocation

    def check_rules(self, lines: dict[str, tuple[str, int]]) -> set[str]:
        """Check each line of a catalogue SKU against its product's rules, in DOMAIN order;
        return the SKUs whose product allows back orders."""
        back_orders = set()
        for sku, quantity in lines.values():
            found = self.product_of(sku)
            if found is None:
                continue
            product, config = found[1], found[1].config
            if product.status_at(self.now) != "approved" or not product.published[sku] \
                    or not product.purchasable[sku]:
                raise Refused(errors.NotPurchasable, f"{sku} cannot be bought")
            if quantity < config.min_order_quantity:
                raise Refused(errors.BelowMinimumQuantity, f"{quantity} of {sku}")
            if config.max_order_quantity and quantity > config.max_order_quantity:
                raise Refused(errors.AboveMaximumQuantity, f"{quantity} of {sku}")
            if config.allowed_order_quantities and quantity not in config.allowed_order_quantities:
                raise Refused(errors.QuantityNotAllowed, f"{quantity} of {sku}")
            if quantity % config.multiple_order_quantity:
                raise Refused(errors.NotAMultiple, f"{quantity} of {sku}")
            if config.allow_back_orders:
                back_orders.add(sku)
        return back_orders

    def update_product(self, code: str, **changes: Any) -> None:
        """Change a product's status, dates or configuration; a configuration naming an
        availability estimate that is not stored is refused."""
        config = changes.get("config")
        if config is not None and config.availability_estimate is not None \
                and config.availability_estimate not in self.estimates:
            raise Refused(errors.UnknownEstimate, f"no estimate {config.availability_estimate!r}")
        for name, value in changes.items():
            setattr(self.products[code], name, value)

    def publish(self, code: str) -> str:
        """Publish a product: scheduled while its display date is ahead, else approved;
        an expired one is refused. Return the new status."""
        product = self.products[code]
        if product.expiration_date is not None and product.expiration_date <= self.now:
            raise Refused(errors.InvalidStateTransition, f"{code} has expired")
        future = product.display_date is not None and product.display_date > self.now
        product.status = "scheduled" if future else "approved"
        return product.status

    def sweep_statuses(self) -> int:
        """Write down the moves the dates made; return how many products moved."""
        moved = 0
        for product in self.products.values():
            status = product.status_at(self.now)
            if status != product.status:
                product.status = status
                moved += 1
        return moved

    def low_stock_runs(self, before: InventoryModel) -> list[tuple[str, str, int, int, str | None]]:
        """The low-stock crossings from ``before`` to this model: ``(product, sku, before,
        after, action)``, by SKU."""
        runs = []
        for sku in sorted(s for product in self.products.values() for s in product.skus):
            code, product = self.product_of(sku)  # type: ignore[misc]
            old, new = before.company_available(sku), self.company_available(sku)
            if old > product.config.low_stock_threshold >= new:
                runs.append((code, sku, old, new, product.config.low_stock_action))
        return runs

    def confirm_hold(self, order_id: str) -> None:
        """Turn an unexpired hold into firm bookings."""
        order = self._order(order_id)
        if order.expires_at is None:
            raise Refused(errors.InvalidStateTransition, f"{order_id} is not a hold")
        if order.expires_at <= self.now:
            raise Refused(errors.HoldExpired, f"{order_id} expired at {order.expires_at}")
        for (o, _, _), booking in self.bookings.items():
            if o == order_id:
                booking.expires_at = None
        order.expires_at = None

    def release(self, order_id: str, line_id: str | None) -> dict[BookingKey, ModelBooking]:
        """Cancel an order or one line: remove its bookings (expired holds too), mark the
        line(s) cancelled and return the removed bookings."""
        order = self._order(order_id)
        if line_id is not None and line_id not in order.lines:
            raise Refused(errors.UnknownOrderLine, f"{order_id} has no line {line_id!r}")
        released = {k: b for k, b in self.bookings.items()
                    if k[0] == order_id and (line_id is None or k[1] == line_id)}
        self._change(bookings=dict.fromkeys(released))
        order.cancelled |= set(order.lines) if line_id is None else {line_id}
        return released

    def sweep(self) -> int:
        """Remove every expired hold; return how many bookings were removed."""
        expired = [k for k, b in self.bookings.items() if self.expired(b)]
        self._change(bookings=dict.fromkeys(expired))
        return len(expired)

    def ship(self, order_id: str, line_id: str, warehouse: str, quantity: int, shipment_id: str | None) -> ModelShipment:
        """Consume ``quantity`` units of a confirmed order line at ``warehouse``.

        Units booked elsewhere move to ``warehouse`` first, taken from the line's other
        warehouses least preferred first (by the channel's current links; unlinked
        warehouses are the least preferred); the move must not take ``warehouse``'s
        available below zero, nor the shipment its on hand.
        """
        self._quantity(quantity)
        order = self._order(order_id)
        if line_id not in order.lines:
            raise Refused(errors.UnknownOrderLine, f"{order_id} has no line {line_id!r}")
        self._warehouse(warehouse)
        if order.expires_at is not None:
            if order.expires_at <= self.now:
                raise Refused(errors.HoldExpired, f"{order_id} is an expired hold")
            raise Refused(errors.InvalidStateTransition, f"{order_id} is an unconfirmed hold")
        if shipment_id is not None and shipment_id in self.shipments:
            raise Refused(errors.DuplicateCode, f"shipment {shipment_id!r} exists")
        units = self.line_units(order_id, line_id)
        if quantity > sum(units.values()):
            raise Refused(errors.InvalidQuantity, f"{quantity} > {sum(units.values())} open units")
        sku = order.lines[line_id][0]
        new_units = dict(units)
        move = quantity - units.get(warehouse, 0)
        if move > 0:
            links = self.links[order.channel]
            preference = {w: (links[w], w) if w in links else (2**31, w) for w in units}
            left = move
            for donor in sorted((w for w in units if w != warehouse), key=preference.__getitem__, reverse=True):
                give = min(new_units[donor], left)
                new_units[donor] -= give
                left -= give
            new_units[warehouse] = units.get(warehouse, 0) + move
        new_units[warehouse] -= quantity
        channel = order.channel
        self._change(
            on_hand={(sku, warehouse): -quantity},
            bookings={(order_id, line_id, w): ModelBooking(sku, channel, q) for w, q in new_units.items()},
        )
        return ModelShipment(order_id, line_id, sku, warehouse, quantity, self.now)

    def cancel_shipment(self, shipment_id: str) -> ModelShipment:
        """Put a shipment's units back on hand and, unless its line has been cancelled
        since, book them for the line again."""
        if shipment_id not in self.shipments:
            raise Refused(errors.UnknownShipment, f"no shipment {shipment_id!r}")
        shipment = self.shipments[shipment_id]
        if shipment.cancelled:
            raise Refused(errors.InvalidStateTransition, f"{shipment_id} is cancelled already")
        # units cannot go back on hand at a warehouse that has been deleted since (as
        # receiving a transfer or a replenishment there cannot)
        self._warehouse(shipment.warehouse)
        order = self.orders[shipment.order_id]
        bkey = (shipment.order_id, shipment.line_id, shipment.warehouse)
        units = self.bookings[bkey].quantity if bkey in self.bookings else 0
        rebook = {} if shipment.line_id in order.cancelled else {
            bkey: ModelBooking(shipment.sku, order.channel, units + shipment.quantity)}
        self._change(on_hand={(shipment.sku, shipment.warehouse): shipment.quantity}, bookings=rebook)
        shipment.cancelled = True
        return shipment

    def transfer(self, sku: str, source: str, destination: str, quantity: int, transfer_id: str | None) -> ModelTransfer:
        """Take units out of the source now; they belong to neither warehouse until closed."""
        if source == destination:
            raise Refused(errors.ValidationError, "a transfer needs two warehouses")
        self._quantity(quantity)
        self._warehouse(source)
        self._warehouse(destination)
        if transfer_id is not None and transfer_id in self.transfers:
            raise Refused(errors.DuplicateCode, f"transfer {transfer_id!r} exists")
        self._change(on_hand={(sku, source): -quantity})
        return ModelTransfer(sku, source, destination, quantity, self.now)

    def close_transfer(self, transfer_id: str, status: str) -> ModelTransfer:
        """Receive a transfer at its destination or cancel it back to its source."""
        if transfer_id not in self.transfers:
            raise Refused(errors.UnknownTransfer, f"no transfer {transfer_id!r}")
        transfer = self.transfers[transfer_id]
        if transfer.status != "in_transit":
            raise Refused(errors.InvalidStateTransition, f"{transfer_id} is {transfer.status}")
        arrival = transfer.destination if status == "received" else transfer.source
        self._warehouse(arrival)
        self._change(on_hand={(transfer.sku, arrival): transfer.quantity})
        transfer.status, transfer.closed_at = status, self.now
        return transfer

    def add_replenishment(
        self, sku: str, warehouse: str, quantity: int, expected_on: dt.date, replenishment_id: str | None
    ) -> ModelReplenishment:
        """Expect units at a warehouse: incoming goes up."""
        self._quantity(quantity)
        self._warehouse(warehouse)
        if replenishment_id is not None and replenishment_id in self.replenishments:
            raise Refused(errors.DuplicateCode, f"replenishment {replenishment_id!r} exists")
        self._change(incoming={(sku, warehouse): quantity})
        return ModelReplenishment(sku, warehouse, quantity, expected_on)

    def _open_replenishment(self, replenishment_id: str) -> ModelReplenishment:
        if replenishment_id not in self.replenishments:
            raise Refused(errors.UnknownReplenishment, f"no replenishment {replenishment_id!r}")
        repl = self.replenishments[replenishment_id]
        if repl.status != "open":
            raise Refused(errors.InvalidStateTransition, f"{replenishment_id} is {repl.status}")
        return repl

    def receive_replenishment(self, replenishment_id: str, quantity: int | None) -> ModelReplenishment:
        """Turn incoming units into on-hand ones: all still expected, or ``quantity``."""
        if quantity is not None:
            self._quantity(quantity)
        repl = self._open_replenishment(replenishment_id)
        take = repl.open_quantity if quantity is None else quantity
        if take > repl.open_quantity:
            raise Refused(errors.InvalidQuantity, f"{take} > {repl.open_quantity} expected")
        self._warehouse(repl.warehouse)
        key = (repl.sku, repl.warehouse)
        self._change(on_hand={key: take}, incoming={key: -take})
        repl.received += take
        if repl.received == repl.quantity:
            repl.status = "received"
        return repl

    def cancel_replenishment(self, replenishment_id: str) -> ModelReplenishment:
        """Stop expecting what is left of a replenishment."""
        repl = self._open_replenishment(replenishment_id)
        self._change(incoming={(repl.sku, repl.warehouse): -repl.open_quantity})
        repl.status = "cancelled"
        return repl


def _refuse(error: type[errors.StockkitError], why: str) -> None:
    raise Refused(error, why)


# -- comparable views of what the inventory returns ------------------------------------------


def _level_row(level: Any) -> tuple[int, int, int, int]:
    return (level.on_hand, level.safety, level.booked, level.incoming)


def _booking_rows(bookings: Iterable[Any]) -> set[tuple[Any, ...]]:
    return {(b.order_id, b.line_id, b.warehouse, b.sku, b.channel, b.quantity, b.expires_at) for b in bookings}


def _model_booking_rows(bookings: dict[BookingKey, ModelBooking]) -> set[tuple[Any, ...]]:
    return {(o, ln, w, b.sku, b.channel, b.quantity, b.expires_at) for (o, ln, w), b in bookings.items()}


@attrs.frozen
class _KeyedCall:
    """A call that succeeded with an idempotency key, to be repeated."""

    key: str
    description: str
    call: Callable[[str | None], Any] = attrs.field(repr=False, eq=False)
    result: Any = attrs.field(repr=False, eq=False)


# -- strategies for the rules' arguments ------------------------------------------------------


def _mostly(usual: st.SearchStrategy[Any], unusual: st.SearchStrategy[Any], one_in: int = 8) -> st.SearchStrategy[Any]:
    """``usual`` values, and ``unusual`` ones about once in ``one_in`` draws
    (``st.one_of`` would pick each branch equally often)."""
    return st.integers(0, one_in - 1).flatmap(lambda n: unusual if n == 0 else usual)


_skus = st.sampled_from(SKUS)
# mostly known warehouses, sometimes one that does not exist
_warehouses = st.sampled_from([*WAREHOUSES * 3, UNKNOWN_WAREHOUSE])
_channels = st.sampled_from([*list(CHANNELS) * 4, "nochannel"])
# mostly small, sometimes absurd: 0 and MAX_QUANTITY + 1 are refused by validation,
# MAX_QUANTITY is valid but no stock covers it
_quantities = _mostly(st.integers(1, 6), st.sampled_from([0, MAX_QUANTITY, MAX_QUANTITY + 1]), one_in=10)
_minutes = st.sampled_from([1, 5, 10, 15, 30, 60])


class _LowStockRecorder:
    """The plugin offering the low-stock action ``"record"``, which records each run, and
    listening to stock events: per product and SKU, low stock and back in stock must
    alternate (exact crossings, hold expiries included) until the product's threshold
    changes (:meth:`forget`). A listener cannot fail the test (its exceptions are
    reported, not raised), so it notes what is wrong in ``wrong``."""

    def __init__(self) -> None:
        self.runs: list[tuple[str, str, int, int, str | None]] = []
        self.low: dict[tuple[str, str], bool] = {}
        self.wrong: list[str] = []

    @stockkit.hookimpl
    def stockkit_stock_event(self, event: stockkit.StockEvent) -> None:
        kind = event.kind.value
        if kind == "out_of_stock":
            return
        key, low = (event.product, event.sku), kind == "low_stock"
        if self.low.get(key) is low:
            self.wrong.append(f"{kind} of {key} {event.before} -> {event.after} twice in a row")
        self.low[key] = low

    def forget(self, product: str) -> None:
        """The product's threshold may have changed: its next events start afresh."""
        self.low = {k: v for k, v in self.low.items() if k[0] != product}

    @stockkit.hookimpl
    def stockkit_register_low_stock_actions(self, register: Any) -> None:
        register(RECORD, self.record, label="Record the run")

    def record(self, inventory: Inventory, event: stockkit.StockEvent) -> None:
        self.runs.append((event.product, event.sku, event.before, event.after, event.action))


# the configurations the machine gives products: mostly plain, sometimes strict
_configs = st.builds(
    InventoryConfig,
    low_stock_threshold=st.integers(0, 6),
    low_stock_action=st.sampled_from([RECORD, RECORD, "unpublish", None]),
    allow_back_orders=st.booleans(),
    min_order_quantity=_mostly(st.just(1), st.integers(1, 3), one_in=4),
    max_order_quantity=_mostly(st.just(10000), st.sampled_from([0, 4]), one_in=4),
    allowed_order_quantities=_mostly(st.just(()), st.just((2, 4, 6)), one_in=5),
    multiple_order_quantity=_mostly(st.just(1), st.just(2), one_in=5),
    availability_estimate=_mostly(st.none(), st.sampled_from(ESTIMATES), one_in=3),
)
_offsets = st.sampled_from([None, None, -10, 0, 5, 30])
"""Minutes from now of a product date (``None``: no date)."""


class InventoryStateMachine(RuleBasedStateMachine):
    """Random sequences of every stock operation, checked against :class:`InventoryModel`.

    Do not use this class directly: :func:`inventory_state_machine` makes a subclass that
    knows how to open an inventory.
    """

    open_inventory: ClassVar[Callable[[FakeClock], Inventory]]

    def __init__(self) -> None:
        super().__init__()
        self.clock = FakeClock()
        self.inv = type(self).open_inventory(self.clock)
        self.model = InventoryModel(
            now=self.clock(), active=dict.fromkeys(WAREHOUSES, False), links={c: {} for c in CHANNELS}
        )
        self.keyed: list[_KeyedCall] = []
        self.counter = 0
        self.ready = False
        self.recorder = _LowStockRecorder()
        self.inv.plugins.register(self.recorder)

    def teardown(self) -> None:
        self.inv.close()

    # -- plumbing ---------------------------------------------------------------------------
    def _next(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    def snapshot(self) -> tuple[Any, ...]:
        """Everything the inventory shows, to prove that a failed call changed nothing."""
        inv = self.inv
        return (
            inv.search_skus(""),
            inv.ledger(),
            inv.bookings(include_expired=True),
            inv.replenishments(open_only=False),
            inv.transfers(),
            inv.shipments(),
            inv.warehouses(),
            [inv.channel_links(c) for c in CHANNELS],
            [inv.get_order(o) for o in sorted(self.model.orders)],
            inv.products(),
            inv.skus(),
            inv.availability_estimates(),
        )

    def run(
        self,
        description: str,
        model_step: Callable[[InventoryModel], Any],
        call: Callable[[str | None], Any],
        *,
        keyed: bool = False,
    ) -> tuple[Any, Any] | None:
        """Run one operation on a copy of the model, then on the inventory (with a new
        idempotency key if ``keyed``).

        Return ``(what the model returned, what the inventory returned)`` when both
        succeed (the copy then becomes the model), ``None`` when both refuse with the same
        error and the inventory changed nothing; fail otherwise.
        """
        key = self._next("key-") if keyed else None
        description = f"{description} [idempotency_key={key!r}]" if keyed else description
        trial = copy.deepcopy(self.model)
        heard = len(self.recorder.runs)
        try:
            expected = model_step(trial)
        except Refused as refusal:
            before = self.snapshot()
            try:
                result = call(key)
            except errors.StockkitError as exc:
                if not isinstance(exc, refusal.error):
                    raise AssertionError(  # noqa: TRY004 - the test fails, no argument had a wrong type
                        f"{description}: expected {refusal.error.__name__} ({refusal.why}), "
                        f"got {type(exc).__name__}: {exc}"
                    ) from exc
                after = self.snapshot()
                assert after == before, f"{description} raised {type(exc).__name__} but changed the inventory"
                return None
            raise AssertionError(
                f"{description}: expected {refusal.error.__name__} ({refusal.why}), but it returned {result!r}"
            ) from None
        try:
            result = call(key)
        except errors.StockkitError as exc:
            raise AssertionError(
                f"{description}: the model expected success, got {type(exc).__name__}: {exc}"
            ) from exc
        self._check_low_stock_actions(description, trial, heard)
        self.model = trial
        if key is not None:
            self.keyed.append(_KeyedCall(key, description, call, result))
        return expected, result

    def _check_low_stock_actions(self, description: str, trial: InventoryModel, heard: int) -> None:
        """The low-stock actions ran once per downward crossing the model sees, and the
        built-in "unpublish" unpublished the SKU (which the trial model then does too)."""
        crossings = trial.low_stock_runs(self.model)
        expected = [run for run in crossings if run[4] == RECORD]
        got = self.recorder.runs[heard:]
        assert not self.recorder.wrong, f"{description}: stock events {self.recorder.wrong}"
        assert got == expected, f"{description}: the low-stock action ran for {got}, the model expects {expected}"
        for code, sku, _, _, action in crossings:
            if action == "unpublish":
                trial.products[code].published[sku] = False

    def _check_level(self, description: str, level: Any, key: Key) -> None:
        assert (level.sku, level.warehouse) == key, description
        assert _level_row(level) == self.model.level(key), (
            f"{description} returned {_level_row(level)}, the model has {self.model.level(key)}"
        )

    def _pick(self, data: st.DataObject, existing: Iterable[str], unknown: str) -> str:
        """An existing id (most of the time) or one that does not exist."""
        known = sorted(existing)
        return data.draw(st.sampled_from([*known * 4, unknown]) if known else st.just(unknown))

    def _choose_id(self, data: st.DataObject, own: str, generated: str, taken: Iterable[str]) -> str | None:
        """The id to pass for a new shipment, transfer or replenishment: mostly ``None``
        (the inventory generates one); sometimes a new id of the caller's, one that is taken
        (it must be refused), or one shaped like the generated ids (``generated`` + n):
        choosing that must not stop the inventory from generating fresh ids later."""
        known = sorted(taken)
        choice = data.draw(st.integers(0, 7))
        if choice == 0:
            return self._next(own)
        if choice == 1 and known:
            return data.draw(st.sampled_from(known))
        if choice == 2:  # likely the next generated one, or the one after
            return f"{generated}{len(known) + data.draw(st.integers(0, 2))}"
        return None

    # -- setup ----------------------------------------------------------------------------
    @initialize(
        stock=st.lists(st.integers(0, 15), min_size=len(SKUS) * len(WAREHOUSES),
                       max_size=len(SKUS) * len(WAREHOUSES)),
        safety=st.dictionaries(st.tuples(_skus, st.sampled_from(WAREHOUSES)), st.integers(1, 2), max_size=2),
    )
    def setup(self, stock: list[int], safety: dict[Key, int]) -> None:
        """Three warehouses (ams and ber active, cph inactive), two channels sharing ams
        and ber, and some stock."""
        inv = self.inv
        for code, skus in PRODUCTS.items():
            inv.create_product(code, code.title(), status="approved")
            self.model.products[code] = ModelProduct(skus, published=dict.fromkeys(skus, True),
                                                     purchasable=dict.fromkeys(skus, True))
            for sku in skus:
                inv.add_sku(code, sku)
        for code in WAREHOUSES:
            lat, lon = _LOCATIONS[code]
            inv.create_warehouse(code, code.upper(), latitude=lat, longitude=lon, active=code != "cph")
            self.model.active[code] = code != "cph"
        for channel, links in CHANNELS.items():
            inv.create_channel(channel, channel.title())
            for warehouse, priority in links.items():
                inv.link_warehouse(channel, warehouse, priority=priority)
                self.model.links[channel][warehouse] = priority
        levels = [(sku, warehouse) for sku in SKUS for warehouse in WAREHOUSES]
        for (sku, warehouse), on_hand in zip(levels, stock):
            if on_hand:
                spare = safety.get((sku, warehouse)) if on_hand >= 2 else None
                self._set_level(sku, warehouse, on_hand, spare, keyed=False)
        self.ready = True

    # -- levels ---------------------------------------------------------------------------
    def _set_level(self, sku: str, warehouse: str, on_hand: int | None, safety: int | None, *, keyed: bool) -> None:
        done = self.run(
            f"set_level({sku!r}, {warehouse!r}, on_hand={on_hand}, safety={safety})",
            lambda m: m.set_level(sku, warehouse, on_hand, safety),
            lambda k: self.inv.set_level(sku, warehouse, on_hand=on_hand, safety=safety, reason="count",
                                         idempotency_key=k),
            keyed=keyed,
        )
        if done:
            self._check_level("set_level", done[1], done[0])

    @rule(
        sku=_skus, warehouse=_warehouses,
        on_hand=_mostly(st.one_of(st.none(), st.integers(0, 15)), st.sampled_from([MAX_QUANTITY, MAX_QUANTITY + 1])),
        safety=st.one_of(st.none(), st.integers(0, 3)),
        keyed=st.booleans(),
    )
    def set_level(self, sku: str, warehouse: str, on_hand: int | None, safety: int | None, keyed: bool) -> None:
        if on_hand is None and safety is None:
            on_hand = 0
        self._set_level(sku, warehouse, on_hand, safety, keyed=keyed)

    @rule(
        sku=_skus, warehouse=_warehouses,
        delta=_mostly(st.integers(-8, 8), st.sampled_from([MAX_QUANTITY, -MAX_QUANTITY, MAX_QUANTITY + 1])),
        keyed=st.booleans(),
    )
    def adjust(self, sku: str, warehouse: str, delta: int, keyed: bool) -> None:
        done = self.run(
            f"adjust({sku!r}, {warehouse!r}, {delta})",
            lambda m: m.adjust(sku, warehouse, delta),
            lambda k: self.inv.adjust(sku, warehouse, delta, "count", idempotency_key=k),
            keyed=keyed,
        )
        if done:
            self._check_level("adjust", done[1], done[0])

    # -- warehouses and channels ------------------------------------------------------------
    @rule(warehouse=st.sampled_from(["cph", "cph", "ams", "ber", UNKNOWN_WAREHOUSE]), active=st.booleans(),
          keyed=st.booleans())
    def set_active(self, warehouse: str, active: bool, keyed: bool) -> None:
        method = self.inv.activate_warehouse if active else self.inv.deactivate_warehouse
        done = self.run(
            f"{method.__name__}({warehouse!r})",
            lambda m: m.set_active(warehouse, active),
            lambda k: method(warehouse, idempotency_key=k),
            keyed=keyed,
        )
        if done:
            assert done[1].code == warehouse and done[1].active is active

    @precondition(lambda self: len(self.model.active) == len(WAREHOUSES))  # one gone at a time
    @rule(warehouse=_warehouses, force=st.booleans(), keyed=st.booleans())
    def delete_warehouse(self, warehouse: str, force: bool, keyed: bool) -> None:
        """Delete a warehouse: refused while it holds anything, unless forced."""
        self.run(
            f"delete_warehouse({warehouse!r}, force={force})",
            lambda m: m.delete_warehouse(warehouse, force),
            lambda k: self.inv.delete_warehouse(warehouse, force=force, idempotency_key=k),
            keyed=keyed,
        )

    @precondition(lambda self: len(self.model.active) < len(WAREHOUSES))
    @rule(warehouse=st.sampled_from(WAREHOUSES), keyed=st.booleans())
    def create_warehouse(self, warehouse: str, keyed: bool) -> None:
        """Create a deleted warehouse again (inactive, linked to no channel)."""
        lat, lon = _LOCATIONS[warehouse]
        done = self.run(
            f"create_warehouse({warehouse!r})",
            lambda m: m.create_warehouse(warehouse),
            lambda k: self.inv.create_warehouse(warehouse, "Again", latitude=lat, longitude=lon, idempotency_key=k),
            keyed=keyed,
        )
        if done:
            assert (done[1].code, done[1].active) == (warehouse, False)

    @rule(channel=st.sampled_from(sorted(CHANNELS)), warehouse=_warehouses,
          priority=st.one_of(st.none(), st.integers(-1, 3)), keyed=st.booleans())
    def relink(self, channel: str, warehouse: str, priority: int | None, keyed: bool) -> None:
        """Link a warehouse with a new priority, or (``priority=None``) unlink it."""
        if priority is None:
            done = self.run(
                f"unlink_warehouse({channel!r}, {warehouse!r})",
                lambda m: m.unlink(channel, warehouse),
                lambda k: self.inv.unlink_warehouse(channel, warehouse, idempotency_key=k),
                keyed=keyed,
            )
            if done:
                assert done[1] is done[0], f"unlink_warehouse returned {done[1]}, the model says {done[0]}"
        else:
            done = self.run(
                f"link_warehouse({channel!r}, {warehouse!r}, priority={priority})",
                lambda m: m.link(channel, warehouse, priority),
                lambda k: self.inv.link_warehouse(channel, warehouse, priority=priority, idempotency_key=k),
                keyed=keyed,
            )
            if done:
                assert (done[1].channel, done[1].warehouse, done[1].priority) == (channel, warehouse, priority)

    # -- the catalogue --------------------------------------------------------------------
    @rule(product=st.sampled_from(sorted(PRODUCTS)),
          status=st.sampled_from(["approved", "approved", "draft", "scheduled", "expired"]),
          display=_offsets, expiration=_offsets, keyed=st.booleans())
    def change_status(self, product: str, status: str, display: int | None, expiration: int | None,
                      keyed: bool) -> None:
        """Set a product's status and dates (minutes from now)."""
        now = self.model.now
        dates = {name: None if minutes is None else now + dt.timedelta(minutes=minutes)
                 for name, minutes in (("display_date", display), ("expiration_date", expiration))}
        done = self.run(
            f"update_product({product!r}, status={status!r}, {dates})",
            lambda m: m.update_product(product, status=status, **dates),
            lambda k: self.inv.update_product(product, status=status, idempotency_key=k, **dates),
            keyed=keyed,
        )
        if done:
            assert done[1].status.value == status

    @rule(product=st.sampled_from(sorted(PRODUCTS)), publish=st.booleans(), keyed=st.booleans())
    def publish(self, product: str, publish: bool, keyed: bool) -> None:
        """Publish (approved or scheduled) or unpublish (draft) a product."""
        if publish:
            done = self.run(f"publish_product({product!r})", lambda m: m.publish(product),
                            lambda k: self.inv.publish_product(product, idempotency_key=k), keyed=keyed)
        else:
            done = self.run(f"unpublish_product({product!r})",
                            lambda m: m.update_product(product, status="draft") or "draft",
                            lambda k: self.inv.unpublish_product(product, idempotency_key=k), keyed=keyed)
        if done:
            assert done[1].status.value == done[0]

    @rule()
    def sweep_product_statuses(self) -> None:
        done = self.run("sweep_product_statuses()", lambda m: m.sweep_statuses(),
                        lambda k: self.inv.sweep_product_statuses())
        assert done is not None and done[1] == done[0], f"moved {done and done[1]}, the model expected {done and done[0]}"

    @rule(data=st.data(), published=st.booleans(), purchasable=st.booleans(), keyed=st.booleans())
    def set_sku_flags(self, data: st.DataObject, published: bool, purchasable: bool, keyed: bool) -> None:
        product = data.draw(st.sampled_from(sorted(PRODUCTS)))
        sku = data.draw(st.sampled_from(PRODUCTS[product]))

        def model_step(m: InventoryModel) -> None:
            m.products[product].published[sku] = published
            m.products[product].purchasable[sku] = purchasable

        self.run(f"update_sku({product!r}, {sku!r}, published={published}, purchasable={purchasable})",
                 model_step,
                 lambda k: self.inv.update_sku(product, sku, published=published, purchasable=purchasable,
                                               idempotency_key=k),
                 keyed=keyed)

    @rule(product=st.sampled_from(sorted(PRODUCTS)), config=_configs, keyed=st.booleans())
    def configure(self, product: str, config: InventoryConfig, keyed: bool) -> None:
        """Change a product's inventory configuration (a threshold change alone is no
        crossing)."""
        if self.run(f"update_product({product!r}, config={config})",
                    lambda m: m.update_product(product, config=config),
                    lambda k: self.inv.update_product(product, config=config, idempotency_key=k),
                    keyed=keyed):
            self.recorder.forget(product)

    @rule(key=st.sampled_from(ESTIMATES), label=st.sampled_from(["3-5 days", "a week"]),
          priority=st.integers(0, 2), keyed=st.booleans())
    def put_estimate(self, key: str, label: str, priority: int, keyed: bool) -> None:
        """Create or change a named availability estimate."""

        def model_step(m: InventoryModel) -> tuple[str, str, int]:
            m.estimates[key] = (label, priority)
            return key, label, priority

        done = self.run(f"put_availability_estimate({key!r}, {label!r}, priority={priority})", model_step,
                        lambda k: self.inv.put_availability_estimate(key, label, priority=priority,
                                                                     idempotency_key=k),
                        keyed=keyed)
        if done:
            assert (done[1].key, done[1].label, done[1].priority) == done[0]

    # -- orders and holds -----------------------------------------------------------------
    def _place(self, data: st.DataObject, channel: str, ttl: dt.timedelta | None, keyed: bool) -> None:
        order_id = self._next("o-")
        if self.model.orders and data.draw(st.integers(0, 9)) == 0:
            order_id = data.draw(st.sampled_from(sorted(self.model.orders)))  # a duplicate
        quantities = _mostly(st.integers(1, 6), st.sampled_from([0, MAX_QUANTITY, MAX_QUANTITY + 1]), one_in=20)
        pairs = data.draw(st.lists(st.tuples(_skus, quantities), min_size=1, max_size=3))
        named = data.draw(st.booleans())
        if named:  # OrderLine objects with the shop's own line ids
            lines: list[Any] = [OrderLine(f"L{n}", sku, q) for n, (sku, q) in enumerate(pairs, start=1)]
            model_lines = {line.line_id: (line.sku, line.quantity) for line in lines}
        else:  # (sku, quantity) pairs: line ids "1", "2", ...
            lines = pairs
            model_lines = {str(n): pair for n, pair in enumerate(pairs, start=1)}
        method = self.inv.place_order if ttl is None else self.inv.hold
        options: dict[str, Any] = {} if ttl is None else {"ttl": ttl}
        done = self.run(
            f"{method.__name__}({order_id!r}, {channel!r}, {lines!r}{f', ttl={ttl!r}' if ttl is not None else ''})",
            lambda m: m.place(order_id, channel, model_lines, ttl),
            lambda k: method(order_id, channel, lines, idempotency_key=k, **options),
            keyed=keyed,
        )
        if done is None:
            return
        allocation, placement = done
        expires = None if ttl is None else self.model.now + ttl
        order = placement.order
        assert (order.order_id, order.channel, order.placed_at, order.expires_at) == (
            order_id, channel, self.model.now, expires)
        assert {ln.line_id: (ln.sku, ln.quantity) for ln in order.lines} == model_lines
        for line_id in model_lines:
            assert placement.allocated(line_id) == allocation[line_id], (
                f"{method.__name__} {order_id} line {line_id} was allocated {placement.allocated(line_id)}, "
                f"the model allocates {allocation[line_id]} (route {self.model.route(channel)})"
            )
        assert all(b.expires_at == expires and b.channel == channel for b in placement.bookings)

    @rule(data=st.data(), channel=_channels, keyed=st.booleans())
    def place_order(self, data: st.DataObject, channel: str, keyed: bool) -> None:
        self._place(data, channel, None, keyed)

    @rule(data=st.data(), channel=_channels, ttl=_mostly(_minutes, st.sampled_from([0, -5]), one_in=12),
          keyed=st.booleans())
    def hold(self, data: st.DataObject, channel: str, ttl: int, keyed: bool) -> None:
        self._place(data, channel, dt.timedelta(minutes=ttl), keyed)

    @precondition(lambda self: self.model.orders)
    @rule(data=st.data(), keyed=st.booleans())
    def confirm_hold(self, data: st.DataObject, keyed: bool) -> None:
        holds = [o for o, order in self.model.orders.items() if order.expires_at is not None]
        order_id = self._pick(data, holds or self.model.orders, "no-such-order")
        done = self.run(
            f"confirm_hold({order_id!r})",
            lambda m: m.confirm_hold(order_id),
            lambda k: self.inv.confirm_hold(order_id, idempotency_key=k),
            keyed=keyed,
        )
        if done:
            placement = done[1]
            assert placement.order.expires_at is None
            assert _booking_rows(placement.bookings) == _model_booking_rows(
                {k: b for k, b in self.model.bookings.items() if k[0] == order_id})

    @rule(minutes=st.sampled_from([1, 4, 5, 10, 15, 30, 45]))
    def advance_clock(self, minutes: int) -> None:
        """Let time pass, so holds expire."""
        self.model.now = self.clock.advance(dt.timedelta(minutes=minutes))

    @rule(batch_size=st.integers(1, 4))
    def sweep_expired_holds(self, batch_size: int) -> None:
        done = self.run(
            f"sweep_expired_holds(batch_size={batch_size})",
            lambda m: m.sweep(),
            lambda k: self.inv.sweep_expired_holds(batch_size=batch_size),
        )
        assert done is not None and done[1] == done[0], f"swept {done and done[1]}, the model expected {done and done[0]}"

    @precondition(lambda self: self.model.orders)
    @rule(data=st.data(), keyed=st.booleans())
    def release(self, data: st.DataObject, keyed: bool) -> None:
        """Cancel an order or one of its lines."""
        order_id = self._pick(data, self.model.orders, "no-such-order")
        line_id = None
        if order_id in self.model.orders and data.draw(st.booleans()):
            line_id = data.draw(st.sampled_from([*sorted(self.model.orders[order_id].lines), "no-such-line"]))
        done = self.run(
            f"release({order_id!r}, {line_id!r})",
            lambda m: m.release(order_id, line_id),
            lambda k: self.inv.release(order_id, line_id, reason="cancelled", idempotency_key=k),
            keyed=keyed,
        )
        if done:
            assert _booking_rows(done[1]) == _model_booking_rows(done[0]), "release returned other bookings"

    # -- shipments ----------------------------------------------------------------------
    @precondition(lambda self: self.model.orders)
    @rule(data=st.data(), keyed=st.booleans())
    def ship(self, data: st.DataObject, keyed: bool) -> None:
        """Ship part of an order line, usually from where it is booked, sometimes from
        another warehouse (the booking then moves there)."""
        m = self.model
        # lines of confirmed orders with units booked: those can ship
        open_lines = sorted({(o, ln) for (o, ln, _) in m.bookings if m.orders[o].expires_at is None})
        if open_lines and data.draw(st.integers(0, 5)):
            order_id, line_id = data.draw(st.sampled_from(open_lines))
        else:  # anything: a hold, a cancelled or unknown line, an unknown order
            order_id = self._pick(data, m.orders, "no-such-order")
            lines = sorted(m.orders[order_id].lines) if order_id in m.orders else ["1"]
            line_id = data.draw(st.sampled_from([*lines, *lines, "no-such-line"]))
        units = m.line_units(order_id, line_id)
        booked_at = st.sampled_from(sorted(units)) if units else _warehouses
        warehouse = data.draw(_mostly(booked_at, _warehouses, one_in=3))  # sometimes another one
        most = max(sum(units.values()), 1)
        quantity = data.draw(_mostly(st.integers(1, most), st.sampled_from([most + 1, 0, MAX_QUANTITY + 1])))
        shipment_id = self._choose_id(data, "ship-", "S-", m.shipments)
        done = self.run(
            f"ship({order_id!r}, {line_id!r}, {warehouse!r}, {quantity}, shipment_id={shipment_id!r})",
            lambda mm: mm.ship(order_id, line_id, warehouse, quantity, shipment_id),
            lambda k: self.inv.ship(order_id, line_id, warehouse, quantity, shipment_id=shipment_id,
                                    idempotency_key=k),
            keyed=keyed,
        )
        if done is None:
            return
        expected, shipment = done
        assert shipment_id is None or shipment.shipment_id == shipment_id
        assert shipment.shipment_id not in self.model.shipments, f"shipment id {shipment.shipment_id} reused"
        assert (shipment.order_id, shipment.line_id, shipment.sku, shipment.warehouse, shipment.quantity,
                shipment.shipped_at, shipment.status.value) == (
            expected.order_id, expected.line_id, expected.sku, expected.warehouse, expected.quantity,
            expected.shipped_at, "shipped")
        self.model.shipments[shipment.shipment_id] = expected

    @precondition(lambda self: self.model.shipments)
    @rule(data=st.data(), keyed=st.booleans())
    def cancel_shipment(self, data: st.DataObject, keyed: bool) -> None:
        shipped = [sid for sid, shipment in self.model.shipments.items() if not shipment.cancelled]
        shipment_id = self._pick(data, shipped or self.model.shipments, "no-such-shipment")
        done = self.run(
            f"cancel_shipment({shipment_id!r})",
            lambda m: m.cancel_shipment(shipment_id),
            lambda k: self.inv.cancel_shipment(shipment_id, idempotency_key=k),
            keyed=keyed,
        )
        if done:
            assert done[1].shipment_id == shipment_id and done[1].status.value == "cancelled"

    # -- transfers ------------------------------------------------------------------------
    @rule(data=st.data(), sku=_skus, source=_warehouses, destination=_warehouses, quantity=_quantities,
          keyed=st.booleans())
    def transfer(self, data: st.DataObject, sku: str, source: str, destination: str, quantity: int,
                 keyed: bool) -> None:
        transfer_id = self._choose_id(data, "tr-", "T-", self.model.transfers)
        done = self.run(
            f"transfer({sku!r}, {source!r}, {destination!r}, {quantity}, transfer_id={transfer_id!r})",
            lambda m: m.transfer(sku, source, destination, quantity, transfer_id),
            lambda k: self.inv.transfer(sku, source, destination, quantity, transfer_id=transfer_id,
                                        idempotency_key=k),
            keyed=keyed,
        )
        if done is None:
            return
        expected, transfer = done
        assert transfer_id is None or transfer.transfer_id == transfer_id
        assert transfer.transfer_id not in self.model.transfers, f"transfer id {transfer.transfer_id} reused"
        assert (transfer.sku, transfer.source, transfer.destination, transfer.quantity, transfer.created_at,
                transfer.status.value) == (sku, source, destination, quantity, self.model.now, "in_transit")
        self.model.transfers[transfer.transfer_id] = expected

    @precondition(lambda self: self.model.transfers)
    @rule(data=st.data(), receive=st.booleans(), keyed=st.booleans())
    def close_transfer(self, data: st.DataObject, receive: bool, keyed: bool) -> None:
        """Receive a transfer at its destination, or cancel it back to its source."""
        moving = [t for t, tr in self.model.transfers.items() if tr.status == "in_transit"]
        transfer_id = self._pick(data, moving or self.model.transfers, "no-such-transfer")
        status = "received" if receive else "cancelled"
        method = self.inv.receive_transfer if receive else self.inv.cancel_transfer
        done = self.run(
            f"{method.__name__}({transfer_id!r})",
            lambda m: m.close_transfer(transfer_id, status),
            lambda k: method(transfer_id, idempotency_key=k),
            keyed=keyed,
        )
        if done:
            assert (done[1].transfer_id, done[1].status.value, done[1].closed_at) == (
                transfer_id, status, self.model.now)

    # -- replenishments ------------------------------------------------------------------
    @rule(data=st.data(), sku=_skus, warehouse=_warehouses, quantity=_quantities,
          days=st.integers(0, 30), keyed=st.booleans())
    def add_replenishment(self, data: st.DataObject, sku: str, warehouse: str, quantity: int, days: int,
                          keyed: bool) -> None:
        expected_on = self.model.now.date() + dt.timedelta(days=days)
        rid = self._choose_id(data, "rep-", "R-", self.model.replenishments)
        done = self.run(
            f"add_replenishment({sku!r}, {warehouse!r}, {quantity}, {expected_on}, replenishment_id={rid!r})",
            lambda m: m.add_replenishment(sku, warehouse, quantity, expected_on, rid),
            lambda k: self.inv.add_replenishment(sku, warehouse, quantity, expected_on, replenishment_id=rid,
                                                 idempotency_key=k),
            keyed=keyed,
        )
        if done is None:
            return
        expected, repl = done
        assert rid is None or repl.replenishment_id == rid
        assert repl.replenishment_id not in self.model.replenishments
        assert (repl.sku, repl.warehouse, repl.quantity, repl.expected_on, repl.received, repl.status.value) == (
            sku, warehouse, quantity, expected_on, 0, "open")
        self.model.replenishments[repl.replenishment_id] = expected

    @precondition(lambda self: self.model.replenishments)
    @rule(data=st.data(), keyed=st.booleans())
    def receive_replenishment(self, data: st.DataObject, keyed: bool) -> None:
        """Receive all that is still expected, or part of it (sometimes more than that)."""
        open_ones = [r for r, repl in self.model.replenishments.items() if repl.status == "open"]
        rid = self._pick(data, open_ones or self.model.replenishments, "no-such-replenishment")
        left = self.model.replenishments[rid].open_quantity if rid in self.model.replenishments else 1
        quantity = data.draw(st.one_of(st.none(), st.integers(1, max(left, 1) + 1)))
        done = self.run(
            f"receive_replenishment({rid!r}, {quantity})",
            lambda m: m.receive_replenishment(rid, quantity),
            lambda k: self.inv.receive_replenishment(rid, quantity, idempotency_key=k),
            keyed=keyed,
        )
        if done:
            expected, repl = done
            assert (repl.replenishment_id, repl.received, repl.status.value) == (rid, expected.received,
                                                                                 expected.status)

    @precondition(lambda self: self.model.replenishments)
    @rule(data=st.data(), keyed=st.booleans())
    def cancel_replenishment(self, data: st.DataObject, keyed: bool) -> None:
        rid = self._pick(data, self.model.replenishments, "no-such-replenishment")
        done = self.run(
            f"cancel_replenishment({rid!r})",
            lambda m: m.cancel_replenishment(rid),
            lambda k: self.inv.cancel_replenishment(rid, idempotency_key=k),
            keyed=keyed,
        )
        if done:
            assert (done[1].replenishment_id, done[1].status.value) == (rid, "cancelled")

    # -- the ledger -----------------------------------------------------------------------
    @rule(minutes=st.sampled_from([0, 5, 30, 120]), keyed=st.booleans())
    def prune_ledger(self, minutes: int, keyed: bool) -> None:
        """Fold the entries older than a time into one snapshot entry per level; it
        returns how many entries (snapshots not counted) it folded. Levels must still add
        up (see the invariants)."""
        entries = self.inv.ledger()
        cutoff = self.model.now - dt.timedelta(minutes=minutes)
        old: dict[Key, list[Any]] = {}
        for entry in entries:
            if entry.at < cutoff:
                old.setdefault((entry.sku, entry.warehouse), []).append(entry)
        # a level whose old entries are all snapshots has nothing new to fold
        folding = {key: found for key, found in old.items() if any(e.kind.value != "snapshot" for e in found)}
        folded = sum(e.kind.value != "snapshot" for found in folding.values() for e in found)
        done = self.run(
            f"prune_ledger(timedelta(minutes={minutes}))",
            lambda m: folded,
            lambda k: self.inv.prune_ledger(dt.timedelta(minutes=minutes), idempotency_key=k),
            keyed=keyed,
        )
        assert done is not None
        assert done[1] == folded, f"prune_ledger folded {done[1]}, not {folded}"
        after = self.inv.ledger()
        assert len(after) == len(entries) - sum(map(len, folding.values())) + len(folding)
        for key in folding:
            snapshot = [e for e in after if (e.sku, e.warehouse) == key and e.at < cutoff]
            assert len(snapshot) == 1 and snapshot[0].kind.value == "snapshot", f"pruning left {snapshot}"

    # -- idempotency ------------------------------------------------------------------------
    @precondition(lambda self: self.keyed)
    @rule(data=st.data())
    def repeat_with_the_same_key(self, data: st.DataObject) -> None:
        """A repeated call with the same idempotency key returns the first result and
        changes nothing, whatever happened since."""
        record = data.draw(st.sampled_from(self.keyed))
        before = self.snapshot()
        heard = len(self.recorder.runs)
        result = record.call(record.key)
        assert result == record.result, f"repeating {record.description} returned {result!r}, first {record.result!r}"
        assert self.snapshot() == before, f"repeating {record.description} changed the inventory"
        assert len(self.recorder.runs) == heard, f"repeating {record.description} ran a low-stock action again"

    @precondition(lambda self: self.keyed)
    @rule(data=st.data())
    def reuse_a_key_for_another_call(self, data: st.DataObject) -> None:
        """The same key with other arguments (or for another operation) is refused."""
        record = data.draw(st.sampled_from(self.keyed))
        other = data.draw(st.sampled_from([
            ("adjust", lambda k: self.inv.adjust("MUG", "ams", 1, "conflicting call", idempotency_key=k)),
            ("set_level", lambda k: self.inv.set_level("CAP", "ber", on_hand=1, reason="conflicting call",
                                                       idempotency_key=k)),
            ("release", lambda k: self.inv.release("never-placed", idempotency_key=k)),
            ("place_order", lambda k: self.inv.place_order("never-placed", "web", [("MUG", 1)],
                                                           idempotency_key=k)),
            ("activate_warehouse", lambda k: self.inv.activate_warehouse(UNKNOWN_WAREHOUSE, idempotency_key=k)),
        ]))
        self.run(
            f"{other[0]}(...) reusing the key of {record.description}",
            lambda m: _refuse(errors.IdempotencyConflict, f"key {record.key!r} was used before"),
            lambda k: other[1](record.key),
        )

    # Hypothesis picks among the enabled rules uniformly, and an alias is one more entry:
    # these give the order life cycle, where the stock rules meet, twice the turns.
    place_order_again = place_order
    hold_again = hold
    ship_again = ship
    cancel_shipment_again = cancel_shipment

    # -- the checks after every step ----------------------------------------------------------
    @precondition(lambda self: self.ready)
    @invariant()
    def levels_match_the_model(self) -> None:
        """No negative column; available is on hand - safety - booked; every level and
        every summary equals the model's."""
        m = self.model
        summaries = self.inv.search_skus("")
        seen: dict[Key, tuple[int, int, int, int]] = {}
        for summary in summaries:
            active = [lv for lv in summary.levels if m.active.get(lv.warehouse)]
            for lv in summary.levels:
                key = (lv.sku, lv.warehouse)
                assert lv.sku == summary.sku and key not in seen
                assert min(_level_row(lv)) >= 0, f"negative column in {lv}"
                assert lv.available >= 0 or lv.sku in m.back_ordered, f"negative available without back orders: {lv}"
                assert lv.available == lv.on_hand - lv.safety - lv.booked
                seen[key] = _level_row(lv)
            assert _level_row(summary) == tuple(map(sum, zip((0, 0, 0, 0), *map(_level_row, active)))), summary
            assert summary.available == summary.on_hand - summary.safety - summary.booked
        expected = {key: m.level(key) for key in m.keys() | set(seen)
                    | {(sku, w) for sku in SKUS for w in WAREHOUSES}}
        for key in sorted(expected):
            assert seen.get(key, (0, 0, 0, 0)) == expected[key], (
                f"level {key} is (on_hand, safety, booked, incoming) = {seen.get(key, (0, 0, 0, 0))}, "
                f"the model has {expected[key]}"
            )

        def total(sku: str, warehouses: Iterable[str]) -> tuple[int, ...]:
            return tuple(sum(column) for column in zip((0, 0, 0, 0), *(expected[(sku, w)] for w in warehouses)))

        for sku in SKUS:
            for warehouse in sorted(m.active):
                level = self.inv.level(sku, warehouse)
                assert _level_row(level) == expected[(sku, warehouse)], f"level({sku!r}, {warehouse!r}) is {level}"
                assert level.available == level.on_hand - level.safety - level.booked
            company = self.inv.stock(sku)
            assert _level_row(company) == total(sku, [w for w, active in m.active.items() if active]), f"stock({sku!r})"
            for channel in CHANNELS:
                scoped = self.inv.stock(sku, channel=channel)
                route = m.route(channel)
                assert _level_row(scoped) == total(sku, route), (
                    f"stock({sku!r}, channel={channel!r}) is {_level_row(scoped)} over route {route}")
                assert scoped.available == scoped.on_hand - scoped.safety - scoped.booked

    @precondition(lambda self: self.ready)
    @invariant()
    def the_ledger_adds_up(self) -> None:
        """Per level, the ledger's deltas sum to the stored columns (booked: with the
        expired holds no sweep has removed yet), and verify() finds nothing."""
        m = self.model
        sums: dict[Key, list[int]] = {}
        for entry in self.inv.ledger():
            row = sums.setdefault((entry.sku, entry.warehouse), [0, 0, 0, 0])
            for i, delta in enumerate((entry.on_hand, entry.safety, entry.booked, entry.incoming)):
                row[i] += delta
        for key in sorted(m.keys() | set(sums)):
            on_hand, safety, booked, incoming = m.level(key)
            stored = [on_hand, safety, booked + m.expired_unswept(key), incoming]
            assert sums.get(key, [0, 0, 0, 0]) == stored, (
                f"the ledger of {key} adds up to {sums.get(key)}, the stored level is {stored}"
            )
        report = self.inv.verify()
        assert report.ok, f"verify() found {report.discrepancies}"

    @precondition(lambda self: self.ready)
    @invariant()
    def records_match_the_model(self) -> None:
        """Bookings, orders, shipments, transfers and replenishments are the model's."""
        m, inv = self.model, self.inv
        assert _booking_rows(inv.bookings(include_expired=True)) == _model_booking_rows(m.bookings)
        assert _booking_rows(inv.bookings()) == _model_booking_rows(
            {k: b for k, b in m.bookings.items() if not m.expired(b)})
        for order_id, order in m.orders.items():
            got = inv.get_order(order_id).order
            assert (got.channel, got.placed_at, got.expires_at) == (order.channel, order.placed_at, order.expires_at)
            assert {ln.line_id: (ln.sku, ln.quantity, ln.cancelled) for ln in got.lines} == {
                ln: (sku, q, ln in order.cancelled) for ln, (sku, q) in order.lines.items()}, f"order {order_id}"
        assert {s.shipment_id: (s.order_id, s.line_id, s.sku, s.warehouse, s.quantity, s.status.value)
                for s in inv.shipments()} == {
            sid: (s.order_id, s.line_id, s.sku, s.warehouse, s.quantity, "cancelled" if s.cancelled else "shipped")
            for sid, s in m.shipments.items()}
        assert {t.transfer_id: (t.sku, t.source, t.destination, t.quantity, t.status.value)
                for t in inv.transfers()} == {
            tid: (t.sku, t.source, t.destination, t.quantity, t.status) for tid, t in m.transfers.items()}
        assert {r.replenishment_id: (r.sku, r.warehouse, r.quantity, r.received, r.status.value)
                for r in inv.replenishments(open_only=False)} == {
            rid: (r.sku, r.warehouse, r.quantity, r.received, r.status) for rid, r in m.replenishments.items()}
        assert {p.code: (p.status.value, p.display_date, p.expiration_date, p.config) for p in inv.products()} == {
            code: (p.status, p.display_date, p.expiration_date, p.config) for code, p in m.products.items()}
        assert {(s.product, s.code): (s.published, s.purchasable) for s in inv.skus()} == {
            (code, sku): (p.published[sku], p.purchasable[sku]) for code, p in m.products.items() for sku in p.skus}
        with inv.store.transaction(write=False) as tx:  # the port's catalogue read, which every change uses
            listed = [(sku.code, product.code, sku.published, sku.purchasable, product.config)
                      for sku, product in tx.catalogue([*SKUS, "NOTHING"])]
        assert listed == sorted(
            (sku, code, p.published[sku], p.purchasable[sku], p.config)
            for code, p in m.products.items() for sku in p.skus), f"Transaction.catalogue gave {listed}"
        estimates = inv.availability_estimates()
        assert [(e.key, e.label, e.priority) for e in estimates] == sorted(
            ((k, label, priority) for k, (label, priority) in m.estimates.items()), key=lambda e: (e[2], e[0]))
        for e in estimates:
            assert inv.get_availability_estimate(e.key) == e


def inventory_state_machine(
    open_inventory: Callable[[FakeClock], Inventory],
) -> type[InventoryStateMachine]:
    """Return a new :class:`InventoryStateMachine` subclass whose every run opens a fresh,
    empty inventory with ``open_inventory(clock)`` (and closes it at the end).

    ``clock`` is the run's :class:`~stockkit.testing.FakeClock`; the inventory must read
    the time from it. Use the subclass's ``TestCase`` as a test, with the settings you
    need::

        from hypothesis import settings

        Machine = inventory_state_machine(lambda clock: stockkit.open("sqlite://", clock=clock))
        TestSqlite = Machine.TestCase
        TestSqlite.settings = settings(max_examples=50, stateful_step_count=40, deadline=None)
    """
    return type(
        "InventoryStateMachine",
        (InventoryStateMachine,),
        {"open_inventory": staticmethod(open_inventory), "__module__": InventoryStateMachine.__module__},
    )
