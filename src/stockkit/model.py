"""The domain's value objects: warehouses, channels, products, levels, orders, ledger entries.

They are frozen ``attrs`` classes with no I/O: the inventory service builds them, the
storage backends store them, and shop code reads them. Use :func:`attrs.evolve` for a
changed copy. Validators guard only each type's own invariants; argument checking with
friendly messages happens in the service, before anything is stored.
"""

from __future__ import annotations

import datetime as dt
import enum

import attrs

__all__ = [
    "Warehouse",
    "Channel",
    "ChannelLink",
    "ProductStatus",
    "InventoryConfig",
    "Product",
    "Sku",
    "Level",
    "StockSummary",
    "OrderLine",
    "Order",
    "Booking",
    "Placement",
    "Shipment",
    "ShipmentStatus",
    "Transfer",
    "TransferStatus",
    "Replenishment",
    "ReplenishmentStatus",
    "LedgerKind",
    "LedgerEntry",
    "Discrepancy",
    "VerifyReport",
    "AvailabilityEstimate",
    "StockEventKind",
    "StockEvent",
    "Incoming",
    "Estimate",
    "Availability",
]


@attrs.frozen
class Warehouse:
    """A physical site that holds stock and from which orders are fulfilled.

    A warehouse counts for availability only while ``active``; an active warehouse
    always has a location (``latitude`` and ``longitude``).
    """

    code: str
    name: str
    description: str = ""
    active: bool = False
    street1: str = ""
    street2: str = ""
    street3: str = ""
    city: str = ""
    postal_code: str = ""
    region_code: str = ""
    country_code: str = ""
    latitude: float | None = None
    longitude: float | None = None

    @property
    def has_location(self) -> bool:
        """Whether both coordinates are set."""
        return self.latitude is not None and self.longitude is not None


@attrs.frozen
class Channel:
    """A sales channel (web store, marketplace, B2B portal) served by linked warehouses."""

    code: str
    name: str


@attrs.frozen
class ChannelLink:
    """A warehouse serving a channel; lower ``priority`` is drawn on first."""

    channel: str
    warehouse: str
    priority: int = 0


class ProductStatus(enum.StrEnum):
    """Where a product is in its life: only ``APPROVED`` products can be bought."""

    DRAFT = "draft"
    APPROVED = "approved"
    SCHEDULED = "scheduled"
    EXPIRED = "expired"


def _non_negative(instance: object, attribute: attrs.Attribute, value: int) -> None:  # type: ignore[type-arg]
    if value < 0:
        raise ValueError(f"{attribute.name} must be zero or more, got {value}")


@attrs.frozen
class InventoryConfig:
    """A product's inventory configuration, inherited by all its SKUs.

    The defaults are Liferay Commerce's. ``max_order_quantity`` 0 means no limit; a
    non-empty ``allowed_order_quantities`` lists the only quantities accepted.
    """

    engine: str = "default"
    low_stock_threshold: int = attrs.field(default=0, validator=_non_negative)
    low_stock_action: str | None = None
    display_availability: bool = False
    display_stock_quantity: bool = False
    allow_back_orders: bool = False
    min_order_quantity: int = attrs.field(default=1, validator=_non_negative)
    max_order_quantity: int = attrs.field(default=10000, validator=_non_negative)
    allowed_order_quantities: tuple[int, ...] = attrs.field(default=(), converter=tuple)
    multiple_order_quantity: int = attrs.field(default=1, validator=_non_negative)
    availability_estimate: str | None = None


@attrs.frozen
class Product:
    """A catalogue item with a status and one inventory configuration."""

    code: str
    name: str
    status: ProductStatus = ProductStatus.DRAFT
    display_date: dt.datetime | None = None
    expiration_date: dt.datetime | None = None
    config: InventoryConfig = attrs.field(factory=InventoryConfig)


@attrs.frozen
class Sku:
    """A purchasable unit of a product. Stock is kept per SKU ``code``, shared by every
    product that uses the code."""

    product: str
    code: str
    published: bool = True
    purchasable: bool = True


@attrs.frozen
class Level:
    """The stock of one SKU in one warehouse.

    ``booked`` counts open bookings and unexpired holds; ``available`` is
    ``on_hand - safety - booked``; ``incoming`` (open replenishments) is informative and
    never part of ``available``. ``version`` grows with every change, for optimistic
    concurrency (``expected_version`` on level updates).
    """

    sku: str
    warehouse: str
    on_hand: int = 0
    safety: int = 0
    booked: int = 0
    incoming: int = 0
    version: int = 0

    @property
    def available(self) -> int:
        """Units that can still be promised: ``on_hand - safety - booked``."""
        return self.on_hand - self.safety - self.booked


@attrs.frozen
class StockSummary:
    """The stock of one SKU summed over a set of warehouses (company-wide: every active
    warehouse; channel-scoped: the channel's linked active warehouses)."""

    sku: str
    on_hand: int = 0
    safety: int = 0
    booked: int = 0
    incoming: int = 0
    levels: tuple[Level, ...] = ()
    """The per-warehouse levels that were summed."""

    @property
    def available(self) -> int:
        """Units that can still be promised over these warehouses."""
        return self.on_hand - self.safety - self.booked


@attrs.frozen
class OrderLine:
    """One line of an order: ``quantity`` units of ``sku``. ``line_id`` is the shop's
    reference for the line, unique within the order. ``cancelled`` is set once the line
    (or its whole order) has been released."""

    line_id: str
    sku: str
    quantity: int
    cancelled: bool = False


@attrs.frozen
class Order:
    """An order placed on a channel. ``expires_at`` is set while the order is an
    unconfirmed hold."""

    order_id: str
    channel: str
    lines: tuple[OrderLine, ...]
    placed_at: dt.datetime
    expires_at: dt.datetime | None = None

    def line(self, line_id: str) -> OrderLine | None:
        """The line with this id, or ``None``."""
        return next((line for line in self.lines if line.line_id == line_id), None)


@attrs.frozen
class Booking:
    """Units of an order line promised at one warehouse. A booking with ``expires_at`` is a
    hold: it counts for nothing from that moment on."""

    order_id: str
    line_id: str
    sku: str
    warehouse: str
    channel: str
    quantity: int
    expires_at: dt.datetime | None = None

    @property
    def is_hold(self) -> bool:
        """Whether this booking is an unconfirmed hold."""
        return self.expires_at is not None

    def expired(self, now: dt.datetime) -> bool:
        """Whether this is a hold whose time has come."""
        return self.expires_at is not None and self.expires_at <= now


@attrs.frozen
class Placement:
    """An order and where its lines were booked."""

    order: Order
    bookings: tuple[Booking, ...]

    def allocated(self, line_id: str) -> dict[str, int]:
        """Units of a line booked per warehouse code."""
        result: dict[str, int] = {}
        for booking in self.bookings:
            if booking.line_id == line_id:
                result[booking.warehouse] = result.get(booking.warehouse, 0) + booking.quantity
        return result


class ShipmentStatus(enum.StrEnum):
    """A shipment is ``SHIPPED`` until cancelled."""

    SHIPPED = "shipped"
    CANCELLED = "cancelled"


@attrs.frozen
class Shipment:
    """Units of an order line that left a warehouse."""

    shipment_id: str
    order_id: str
    line_id: str
    sku: str
    warehouse: str
    quantity: int
    shipped_at: dt.datetime
    status: ShipmentStatus = ShipmentStatus.SHIPPED


class TransferStatus(enum.StrEnum):
    """A transfer is ``IN_TRANSIT`` (its units belong to neither warehouse) until it is
    received at the destination or cancelled back to the source."""

    IN_TRANSIT = "in_transit"
    RECEIVED = "received"
    CANCELLED = "cancelled"


@attrs.frozen
class Transfer:
    """Units of a SKU moving from one warehouse to another."""

    transfer_id: str
    sku: str
    source: str
    destination: str
    quantity: int
    created_at: dt.datetime
    status: TransferStatus = TransferStatus.IN_TRANSIT
    closed_at: dt.datetime | None = None


class ReplenishmentStatus(enum.StrEnum):
    """A replenishment is ``OPEN`` until fully received or cancelled."""

    OPEN = "open"
    RECEIVED = "received"
    CANCELLED = "cancelled"


@attrs.frozen
class Replenishment:
    """Incoming stock: ``quantity`` units of a SKU expected at a warehouse on a date."""

    replenishment_id: str
    sku: str
    warehouse: str
    quantity: int
    expected_on: dt.date
    received: int = 0
    status: ReplenishmentStatus = ReplenishmentStatus.OPEN

    @property
    def open_quantity(self) -> int:
        """Units still expected: zero once received in full or cancelled."""
        if self.status is not ReplenishmentStatus.OPEN:
            return 0
        return self.quantity - self.received


class LedgerKind(enum.StrEnum):
    """What a ledger entry records."""

    SET = "set"
    """On hand or safety stock set to an absolute value."""
    ADJUSTED = "adjusted"
    """On hand changed by a signed delta with a reason."""
    IMPORTED = "imported"
    """A level set by a CSV import."""
    BOOKED = "booked"
    """Units promised to an order line."""
    HELD = "held"
    """Units held for an order line until an expiry time."""
    CONFIRMED = "confirmed"
    """A hold turned into a booking (no quantity changes)."""
    RELEASED = "released"
    """A booking or hold given back (order or line cancelled, allocation moved)."""
    EXPIRED = "expired"
    """An expired hold swept away."""
    CONSUMED = "consumed"
    """Units shipped: on hand and booked both go down."""
    RESTORED = "restored"
    """A shipment cancelled: units back on hand and booked again."""
    MOVED = "moved"
    """A transfer leg: out of the source, into the destination, or back on cancel."""
    EXPECTED = "expected"
    """A replenishment added: incoming goes up."""
    RECEIVED = "received"
    """A replenishment received: incoming down, on hand up."""
    CANCELLED = "cancelled"
    """A replenishment cancelled: incoming goes down."""
    REMOVED = "removed"
    """A level removed by a forced warehouse delete."""
    SNAPSHOT = "snapshot"
    """Older entries of a level folded into one by pruning."""


@attrs.frozen
class LedgerEntry:
    """One change in the append-only ledger.

    The four deltas say how the change moved the level's ``on_hand``, ``safety``,
    ``booked`` and ``incoming``; every level equals the sum of its entries' deltas.
    ``reference`` names the shipment, transfer or replenishment involved, if any.
    """

    seq: int
    kind: LedgerKind
    sku: str
    warehouse: str
    at: dt.datetime
    on_hand: int = 0
    safety: int = 0
    booked: int = 0
    incoming: int = 0
    reason: str = ""
    order_id: str | None = None
    line_id: str | None = None
    reference: str | None = None
    actor: str | None = None

    @property
    def quantity(self) -> int:
        """The change in one number: the first non-zero of on hand, booked, safety and
        incoming deltas."""
        return self.on_hand or self.booked or self.safety or self.incoming


@attrs.frozen
class Discrepancy:
    """A place where the stored state disagrees with what the ledger or the bookings add
    up to."""

    sku: str
    warehouse: str
    field: str
    stored: int
    expected: int
    detail: str = ""


@attrs.frozen
class VerifyReport:
    """The result of :meth:`stockkit.Inventory.verify`."""

    levels_checked: int
    entries_checked: int
    discrepancies: tuple[Discrepancy, ...] = ()

    @property
    def ok(self) -> bool:
        """Whether every level matches the ledger, its bookings and its replenishments."""
        return not self.discrepancies


@attrs.frozen
class AvailabilityEstimate:
    """A named estimate shown to shoppers while a product is out of stock ("3-5 days").

    ``key`` is what a product's configuration names; lists show lower ``priority`` first.
    """

    key: str
    label: str
    priority: int = 0


class StockEventKind(enum.StrEnum):
    """What happened to a SKU's company-wide available quantity."""

    LOW_STOCK = "low_stock"
    """It went from above the product's low stock threshold to at or below it."""
    OUT_OF_STOCK = "out_of_stock"
    """It went from above zero to zero or below."""
    BACK_IN_STOCK = "back_in_stock"
    """It went from at or below the low stock threshold to above it."""


@attrs.frozen
class StockEvent:
    """A crossing of a SKU of a product, caused by one committed change.

    ``before`` and ``after`` are the SKU's company-wide available quantity (every active
    warehouse, bookings and unexpired holds subtracted) just before and just after the
    change; ``threshold`` is the product's low stock threshold. ``action`` is the key of
    the low-stock action the product's rules name (on low-stock events only).
    """

    kind: StockEventKind
    product: str
    sku: str
    before: int
    after: int
    threshold: int
    at: dt.datetime
    action: str | None = None


@attrs.frozen
class Incoming:
    """The earliest open replenishment of a SKU: its expected date and the units still
    expected on that date (over every warehouse)."""

    expected_on: dt.date
    quantity: int


@attrs.frozen
class Estimate:
    """When ``quantity`` units of a SKU can be had in a channel.

    ``expected_on`` is a date when an estimator knows one (the built-in one: the
    earliest open replenishment that covers the quantity); otherwise ``label`` is the
    product's assigned estimate ("3-5 days"). ``source`` names the estimator.
    """

    sku: str
    quantity: int
    channel: str | None
    expected_on: dt.date | None = None
    label: str | None = None
    source: str = ""


@attrs.frozen
class Availability:
    """What a shop page may show about a SKU, in a channel or company-wide.

    ``label`` is ``"available"`` when ``available`` is above the low stock ``threshold``,
    else ``"unavailable"``; ``display_label`` and ``display_quantity`` are what the
    product's configuration lets shoppers see (``None`` when it hides them; the quantity
    shown is never below zero). ``estimate`` is set while the SKU is out of stock
    (``available`` at or below zero) and an estimator answers.
    """

    sku: str
    product: str | None
    channel: str | None
    available: int
    threshold: int
    label: str
    display_label: str | None
    display_quantity: int | None
    purchasable: bool
    back_orders: bool
    estimate: Estimate | None = None
    incoming: Incoming | None = None
