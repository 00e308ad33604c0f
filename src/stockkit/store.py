"""The storage port: what a backend must provide for the inventory service.

The service validates arguments, then runs every operation inside one
:meth:`Store.transaction`. The transaction object is the only way to read or write
state, and it is shaped for SQL backends:

- every write of a level goes through :meth:`Transaction.apply`, which applies a batch
  of :class:`Change` records with a guard evaluated by the store (a conditional update,
  never a read-check-write in Python) and appends the matching ledger entries, so a
  level can never drift from its ledger;
- reads that precede a write lock the rows they read (``SELECT ... FOR UPDATE`` in one
  canonical order on PostgreSQL);
- batch methods take and return many rows at once.

A transaction commits when its ``with`` block ends normally and rolls back entirely when
an exception leaves it. A backend raises :class:`~stockkit.errors.TransactionConflict`
for a transient collision with concurrent transactions (serialization failure, deadlock,
lock or busy timeout): the inventory then runs the whole transaction again. Backends register themselves through the
``stockkit_register_backends`` hook; the in-memory store in
:mod:`stockkit.backends.memory` is the reference implementation.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from typing import Protocol

import attrs

from stockkit.errors import DuplicateCode, InsufficientStock, InvalidQuantity, VersionConflict
from stockkit.model import (
    AvailabilityEstimate,
    Booking,
    Channel,
    ChannelLink,
    LedgerEntry,
    LedgerKind,
    Level,
    Order,
    Product,
    Replenishment,
    Shipment,
    Sku,
    Transfer,
    Warehouse,
)
from stockkit.validation import MAX_QUANTITY

__all__ = [
    "Change",
    "LedgerQuery",
    "LevelKey",
    "LevelTotals",
    "Store",
    "Transaction",
    "apply_to_level",
    "refuse_duplicate_orders",
]

#: A level's identity: ``(sku, warehouse)``.
LevelKey = tuple[str, str]


@attrs.frozen
class Change:
    """One change to a level, and the ledger entry that records it.

    The deltas are added to the level's columns. The store refuses the whole batch with
    :class:`~stockkit.errors.InvalidQuantity` when a column would exceed
    :data:`~stockkit.validation.MAX_QUANTITY`, with
    :class:`~stockkit.errors.InsufficientStock` when, after every change of the batch is
    applied, a column of a touched level is negative, or the level's available quantity
    (``on_hand - safety - booked``, holds expired at ``now`` not counted) is negative and
    the batch lowered it, unless a change on that level has ``allow_negative_available``
    (back orders). It refuses with :class:`~stockkit.errors.VersionConflict` when
    ``expected_version`` is set and the level's version before the batch differs.
    """

    kind: LedgerKind
    sku: str
    warehouse: str
    on_hand: int = 0
    safety: int = 0
    booked: int = 0
    incoming: int = 0
    reason: str = ""
    order_id: str | None = None
    line_id: str | None = None
    reference: str | None = None
    allow_negative_available: bool = False
    expected_version: int | None = None


@attrs.frozen
class LedgerQuery:
    """A filter over the ledger; entries come newest first."""

    sku: str | None = None
    warehouse: str | None = None
    kinds: frozenset[LedgerKind] | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    order_id: str | None = None
    limit: int | None = None


@attrs.frozen
class LevelTotals:
    """Sums of ledger deltas for one level, as :meth:`Transaction.ledger_totals` gives."""

    on_hand: int = 0
    safety: int = 0
    booked: int = 0
    incoming: int = 0
    entries: int = 0


class Transaction(Protocol):
    """Reads and writes inside one atomic transaction. See the module docstring."""

    # -- warehouses ---------------------------------------------------------------------
    def get_warehouse(self, code: str) -> Warehouse | None:
        """The warehouse with this code, or ``None``."""
    def insert_warehouse(self, warehouse: Warehouse) -> None:
        """Add a warehouse; raise :class:`~stockkit.errors.DuplicateCode` if the code exists."""
    def update_warehouse(self, warehouse: Warehouse) -> None:
        """Replace the stored warehouse with the same code."""
    def delete_warehouse(self, code: str) -> None:
        """Remove a warehouse, its channel links and its (all-zero) levels."""
    def list_warehouses(self, *, active: bool | None = None, search: str | None = None) -> list[Warehouse]:
        """Warehouses by code; ``search`` matches name, city or country code, ignoring case."""

    # -- channels -----------------------------------------------------------------------
    def get_channel(self, code: str) -> Channel | None:
        """The channel with this code, or ``None``."""
    def insert_channel(self, channel: Channel) -> None:
        """Add a channel; raise :class:`~stockkit.errors.DuplicateCode` if the code exists."""
    def update_channel(self, channel: Channel) -> None:
        """Replace the stored channel with the same code."""
    def list_channels(self) -> list[Channel]:
        """Channels by code."""
    def put_link(self, link: ChannelLink) -> None:
        """Link a warehouse to a channel, or change the link's priority."""
    def delete_link(self, channel: str, warehouse: str) -> bool:
        """Unlink; return whether a link existed."""
    def links(self, *, channel: str | None = None, warehouse: str | None = None) -> list[ChannelLink]:
        """Links ordered by channel, priority, then warehouse code."""

    # -- products and SKUs --------------------------------------------------------------
    def get_product(self, code: str) -> Product | None:
        """The product with this code, or ``None``."""
    def insert_product(self, product: Product) -> None:
        """Add a product; raise :class:`~stockkit.errors.DuplicateCode` if the code exists."""
    def update_product(self, product: Product) -> None:
        """Replace the stored product with the same code."""
    def list_products(self) -> list[Product]:
        """Products by code."""
    def get_sku(self, product: str, code: str) -> Sku | None:
        """The product's SKU with this code, or ``None``."""
    def insert_sku(self, sku: Sku) -> None:
        """Add a SKU; raise :class:`~stockkit.errors.DuplicateCode` if the product has it."""
    def update_sku(self, sku: Sku) -> None:
        """Replace the stored SKU with the same product and code."""
    def list_skus(self, *, product: str | None = None, code: str | None = None) -> list[Sku]:
        """SKUs by product then code."""
    def catalogue(self, codes: Iterable[str]) -> list[tuple[Sku, Product]]:
        """Every product SKU whose code is one of ``codes``, with its product, by SKU code
        then product code (one query however many codes)."""
    def advance_product_statuses(self, now: dt.datetime) -> int:
        """Move, set-based, every approved or scheduled product whose expiration date is at
        or before ``now`` to expired, then every scheduled product whose display date is at
        or before ``now`` to approved; return how many products moved. Running it again at
        the same time moves nothing."""
    def get_estimate(self, key: str) -> AvailabilityEstimate | None:
        """The availability estimate with this key, or ``None``."""
    def put_estimate(self, estimate: AvailabilityEstimate) -> None:
        """Insert or replace an availability estimate."""
    def list_estimates(self) -> list[AvailabilityEstimate]:
        """Availability estimates by priority, then key."""

    # -- levels and ledger --------------------------------------------------------------
    def get_levels(self, keys: Iterable[LevelKey]) -> dict[LevelKey, Level]:
        """The stored levels of these keys (missing ones are absent), locked until the
        transaction ends. ``booked`` includes holds that have expired but not been swept."""
    def levels(
        self,
        *,
        skus: Sequence[str] | None = None,
        warehouses: Sequence[str] | None = None,
        sku_contains: str | None = None,
    ) -> list[Level]:
        """Stored levels matching every filter given, ordered by SKU then warehouse."""
    def expired_holds_by_level(self, keys: Iterable[LevelKey] | None, now: dt.datetime) -> dict[LevelKey, int]:
        """Units of unswept holds expired at ``now`` per level (all levels for ``None``);
        levels without any are absent."""
    def apply(self, changes: Sequence[Change], *, at: dt.datetime, actor: str | None) -> list[Level]:
        """Apply a batch of changes under the guard described in :class:`Change` and
        append one ledger entry per change; return the touched levels after the batch, in
        order of first appearance. Nothing is applied when the guard refuses."""
    def delete_levels(self, keys: Iterable[LevelKey]) -> None:
        """Remove level rows (only ever all-zero ones)."""
    def ledger(self, query: LedgerQuery) -> list[LedgerEntry]:
        """Ledger entries matching the query, newest first."""
    def ledger_totals(self) -> dict[LevelKey, LevelTotals]:
        """Per level, the sums of all ledger deltas and the number of entries."""
    def prune_ledger(self, before: dt.datetime) -> int:
        """Fold every entry older than ``before`` into one ``snapshot`` entry per level
        (keeping the sequence number and time of the newest folded entry); return how
        many entries were folded."""

    # -- orders and bookings ------------------------------------------------------------
    def get_order(self, order_id: str) -> Order | None:
        """The order with this id, or ``None``."""
    def insert_orders(self, orders: Sequence[Order]) -> None:
        """Add orders in one batch (a wave's); raise :class:`~stockkit.errors.DuplicateCode`
        if an id exists or repeats, and then add none."""
    def existing_orders(self, order_ids: Sequence[str]) -> set[str]:
        """Those of ``order_ids`` that are stored, in one read."""
    def update_order(self, order: Order) -> None:
        """Replace the stored order with the same id."""
    def bookings(
        self, *, order_id: str | None = None, line_id: str | None = None, sku: str | None = None
    ) -> list[Booking]:
        """Bookings (holds included, expired or not) by order, line, then warehouse."""
    def put_bookings(self, bookings: Sequence[Booking]) -> None:
        """Insert or replace bookings, keyed by order, line and warehouse."""
    def delete_bookings(self, keys: Sequence[tuple[str, str, str]]) -> None:
        """Remove bookings by ``(order_id, line_id, warehouse)``."""
    def expired_holds(self, now: dt.datetime, limit: int) -> list[Booking]:
        """Up to ``limit`` holds expired at ``now``, oldest expiry first (on PostgreSQL,
        rows locked by another sweep are skipped)."""
    def booking_totals(self) -> dict[LevelKey, int]:
        """Per level, the sum of its bookings' quantities (holds included)."""

    # -- shipments, transfers, replenishments -------------------------------------------
    def get_shipment(self, shipment_id: str) -> Shipment | None:
        """The shipment with this id, or ``None``."""
    def put_shipment(self, shipment: Shipment) -> None:
        """Insert or replace a shipment."""
    def shipments(self, *, order_id: str | None = None) -> list[Shipment]:
        """Shipments by id."""
    def get_transfer(self, transfer_id: str) -> Transfer | None:
        """The transfer with this id, or ``None``."""
    def put_transfer(self, transfer: Transfer) -> None:
        """Insert or replace a transfer."""
    def transfers(self, *, warehouse: str | None = None, sku: str | None = None) -> list[Transfer]:
        """Transfers from or to ``warehouse`` and of ``sku``, by id."""
    def get_replenishment(self, replenishment_id: str) -> Replenishment | None:
        """The replenishment with this id, or ``None``."""
    def put_replenishment(self, replenishment: Replenishment) -> None:
        """Insert or replace a replenishment."""
    def replenishments(self, *, sku: str | None = None, warehouse: str | None = None) -> list[Replenishment]:
        """Replenishments by expected date then id."""
    def replenishment_totals(self) -> dict[LevelKey, int]:
        """Per level, the units still expected from open replenishments."""

    # -- idempotency and ids ------------------------------------------------------------
    def get_idempotency(self, key: str) -> tuple[str, str] | None:
        """``(fingerprint, result)`` recorded under the key, or ``None``. The key is
        reserved until the transaction ends: a concurrent transaction asking for the same
        key waits, then sees the record."""
    def put_idempotency(self, key: str, fingerprint: str, result: str) -> None:
        """Record a call's fingerprint and encoded result under its key."""
    def next_id(self, sequence: str) -> int:
        """The next number (1, 2, ...) of a named sequence, for generated ids."""


class Store(Protocol):
    """A storage backend: a factory of transactions."""

    def transaction(self, *, write: bool = True) -> AbstractContextManager[Transaction]:
        """Begin a transaction; it commits at the end of the ``with`` block and rolls back
        if an exception leaves the block. ``write=False`` promises that the transaction
        only reads, which lets a backend take fewer locks."""
    def close(self) -> None:
        """Release connections and files; the store is not used afterwards."""


def apply_to_level(before: Level, changes: Sequence[Change], expired_held: int) -> Level:
    """Return the level after a batch of changes to it, or raise the error the guard of
    :class:`Change` prescribes.

    ``expired_held`` is the number of units of expired, unswept holds at the level. Every
    backend judges a batch by this one function (the memory store applies its result, SQL
    stores use it to explain why their conditional update matched no row).
    """
    for change in changes:
        if change.expected_version is not None and change.expected_version != before.version:
            raise VersionConflict(
                f"level of {before.sku} at {before.warehouse} is at version {before.version}, "
                f"not the expected {change.expected_version}: read it again and retry"
            )
    after = attrs.evolve(
        before,
        on_hand=before.on_hand + sum(c.on_hand for c in changes),
        safety=before.safety + sum(c.safety for c in changes),
        booked=before.booked + sum(c.booked for c in changes),
        incoming=before.incoming + sum(c.incoming for c in changes),
        version=before.version + 1,
    )
    for column in ("on_hand", "safety", "booked", "incoming"):
        old, new = getattr(before, column), getattr(after, column)
        if new > MAX_QUANTITY:
            raise InvalidQuantity(
                f"{after.sku} at {after.warehouse}: {column} would become {new}, above the largest "
                f"quantity stockkit holds ({MAX_QUANTITY})"
            )
        if new < 0:
            raise InsufficientStock(
                f"{after.sku} at {after.warehouse}: {column} would become {new}; it is {old}",
                sku=after.sku, warehouse=after.warehouse, requested=old - new, available=old,
            )
    lowered = after.available < before.available
    if lowered and after.available + expired_held < 0 and not any(c.allow_negative_available for c in changes):
        raise InsufficientStock(
            f"not enough stock of {after.sku} at {after.warehouse}: "
            f"{before.available + expired_held} available, the change needs {before.available - after.available}",
            sku=after.sku,
            warehouse=after.warehouse,
            requested=before.available - after.available,
            available=before.available + expired_held,
        )
    return after


def refuse_duplicate_orders(order_ids: Sequence[str], stored: set[str]) -> None:
    """For backends adding a batch of orders: raise :class:`~stockkit.errors.DuplicateCode`
    naming the first of ``order_ids`` that is ``stored`` already or repeats in the batch."""
    seen: set[str] = set()
    for order_id in order_ids:
        if order_id in stored or order_id in seen:
            raise DuplicateCode(f"order {order_id!r} exists already or twice in the batch; order ids are unique")
        seen.add(order_id)
