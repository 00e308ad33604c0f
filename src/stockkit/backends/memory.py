"""The in-memory store, ``memory://``: the default backend and the reference
implementation of :mod:`stockkit.store`.

State lives in plain dictionaries guarded by one lock, so a transaction is serialised
against every other one in the process. Every write inside a transaction records how to
undo itself; an exception that leaves the transaction replays those records backwards,
so a failed operation leaves no trace.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

import attrs

from stockkit.errors import DuplicateCode
from stockkit.hookspecs import BackendFactory, hookimpl
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
    ProductStatus,
    Replenishment,
    Shipment,
    Sku,
    Transfer,
    Warehouse,
)
from stockkit.product_status import EXPIRING, status_at
from stockkit.store import Change, LedgerQuery, LevelKey, LevelTotals, apply_to_level, refuse_duplicate_orders

__all__ = ["MemoryStore", "MemoryTransaction", "stockkit_register_backends"]

_MISSING: Any = object()
K = TypeVar("K")
V = TypeVar("V")
BookingKey = tuple[str, str, str]


@attrs.define
class _Tables:
    warehouses: dict[str, Warehouse] = attrs.Factory(dict)
    channels: dict[str, Channel] = attrs.Factory(dict)
    links: dict[tuple[str, str], ChannelLink] = attrs.Factory(dict)
    products: dict[str, Product] = attrs.Factory(dict)
    skus: dict[tuple[str, str], Sku] = attrs.Factory(dict)
    # the products listing each SKU code, by code (tuples, replaced on write)
    products_by_sku: dict[str, tuple[str, ...]] = attrs.Factory(dict)
    # codes of the products a date may move on (the status sweep looks at these alone)
    dated_products: dict[str, None] = attrs.Factory(dict)
    estimates: dict[str, AvailabilityEstimate] = attrs.Factory(dict)
    levels: dict[LevelKey, Level] = attrs.Factory(dict)
    orders: dict[str, Order] = attrs.Factory(dict)
    # bookings per order, then per (line, warehouse); the inner dicts are replaced, never
    # mutated, so that undoing a write is restoring one reference
    bookings: dict[str, dict[tuple[str, str], Booking]] = attrs.Factory(dict)
    holds: dict[LevelKey, dict[BookingKey, Booking]] = attrs.Factory(dict)
    shipments: dict[str, Shipment] = attrs.Factory(dict)
    transfers: dict[str, Transfer] = attrs.Factory(dict)
    replenishments: dict[str, Replenishment] = attrs.Factory(dict)
    idempotency: dict[str, tuple[str, str]] = attrs.Factory(dict)
    sequences: dict[str, int] = attrs.Factory(dict)
    ledger: list[LedgerEntry] = attrs.Factory(list)


class MemoryStore:
    """A store that keeps everything in this process's memory (lost when it ends)."""

    def __init__(self) -> None:
        self._tables = _Tables()
        self._lock = threading.RLock()

    @contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[MemoryTransaction]:
        """Begin a transaction; see :class:`stockkit.store.Store`."""
        with self._lock:
            tx = MemoryTransaction(self._tables)
            try:
                yield tx
            except BaseException:
                tx.rollback()
                raise

    def close(self) -> None:
        """Nothing to release; the data goes with the object."""


class MemoryTransaction:
    """A transaction over :class:`MemoryStore`'s tables (see :class:`stockkit.store.Transaction`)."""

    def __init__(self, tables: _Tables) -> None:
        self._t = tables
        self._undo: list[Callable[[], None]] = []

    def rollback(self) -> None:
        """Undo every write of this transaction, newest first."""
        while self._undo:
            self._undo.pop()()

    # -- journaled writes ---------------------------------------------------------------
    def _set(self, table: dict[K, V], key: K, value: V) -> None:
        old = table.get(key, _MISSING)
        table[key] = value
        if old is _MISSING:
            self._undo.append(lambda: table.pop(key, None) and None)
        else:
            self._undo.append(lambda: table.__setitem__(key, old))

    def _delete(self, table: dict[K, V], key: K) -> None:
        old = table.pop(key, _MISSING)
        if old is not _MISSING:
            self._undo.append(lambda: table.__setitem__(key, old))

    def _insert(self, table: dict[K, V], key: K, value: V, what: str) -> None:
        if key in table:
            raise DuplicateCode(f"a {what} with code {key!r} exists already; codes are unique")
        self._set(table, key, value)

    # -- warehouses ---------------------------------------------------------------------
    def get_warehouse(self, code: str) -> Warehouse | None:
        return self._t.warehouses.get(code)

    def insert_warehouse(self, warehouse: Warehouse) -> None:
        self._insert(self._t.warehouses, warehouse.code, warehouse, "warehouse")

    def update_warehouse(self, warehouse: Warehouse) -> None:
        self._set(self._t.warehouses, warehouse.code, warehouse)

    def delete_warehouse(self, code: str) -> None:
        self._delete(self._t.warehouses, code)
        for key in [k for k in self._t.links if k[1] == code]:
            self._delete(self._t.links, key)
        self.delete_levels([k for k in self._t.levels if k[1] == code])

    def list_warehouses(self, *, active: bool | None = None, search: str | None = None) -> list[Warehouse]:
        needle = search.casefold() if search else None
        return [
            w
            for _, w in sorted(self._t.warehouses.items())
            if (active is None or w.active == active)
            and (
                needle is None
                or needle in w.name.casefold()
                or needle in w.city.casefold()
                or needle == w.country_code.casefold()
            )
        ]

    # -- channels -----------------------------------------------------------------------
    def get_channel(self, code: str) -> Channel | None:
        return self._t.channels.get(code)

    def insert_channel(self, channel: Channel) -> None:
        self._insert(self._t.channels, channel.code, channel, "channel")

    def update_channel(self, channel: Channel) -> None:
        self._set(self._t.channels, channel.code, channel)

    def list_channels(self) -> list[Channel]:
        return [c for _, c in sorted(self._t.channels.items())]

    def put_link(self, link: ChannelLink) -> None:
        self._set(self._t.links, (link.channel, link.warehouse), link)

    def delete_link(self, channel: str, warehouse: str) -> bool:
        existed = (channel, warehouse) in self._t.links
        self._delete(self._t.links, (channel, warehouse))
        return existed

    def links(self, *, channel: str | None = None, warehouse: str | None = None) -> list[ChannelLink]:
        found = [
            link
            for link in self._t.links.values()
            if (channel is None or link.channel == channel)
            and (warehouse is None or link.warehouse == warehouse)
        ]
        return sorted(found, key=lambda link: (link.channel, link.priority, link.warehouse))

    # -- products and SKUs --------------------------------------------------------------
    def get_product(self, code: str) -> Product | None:
        return self._t.products.get(code)

    def insert_product(self, product: Product) -> None:
        self._insert(self._t.products, product.code, product, "product")
        self._note_dates(product)

    def update_product(self, product: Product) -> None:
        self._set(self._t.products, product.code, product)
        self._note_dates(product)

    def _note_dates(self, product: Product) -> None:
        """Keep ``dated_products`` to the products whose dates may still move them."""
        movable = product.status in EXPIRING and (
            product.expiration_date is not None
            or (product.status is ProductStatus.SCHEDULED and product.display_date is not None))
        if movable:
            self._set(self._t.dated_products, product.code, None)
        else:
            self._delete(self._t.dated_products, product.code)

    def list_products(self) -> list[Product]:
        return [p for _, p in sorted(self._t.products.items())]

    def get_sku(self, product: str, code: str) -> Sku | None:
        return self._t.skus.get((product, code))

    def insert_sku(self, sku: Sku) -> None:
        self._insert(self._t.skus, (sku.product, sku.code), sku, "SKU")
        listing = self._t.products_by_sku.get(sku.code, ())
        self._set(self._t.products_by_sku, sku.code, tuple(sorted((*listing, sku.product))))

    def update_sku(self, sku: Sku) -> None:
        self._set(self._t.skus, (sku.product, sku.code), sku)

    def list_skus(self, *, product: str | None = None, code: str | None = None) -> list[Sku]:
        return [
            s
            for key, s in sorted(self._t.skus.items())
            if (product is None or s.product == product) and (code is None or s.code == code)
        ]

    def catalogue(self, codes: Iterable[str]) -> list[tuple[Sku, Product]]:
        found = []
        for code in sorted(set(codes)):
            for product in self._t.products_by_sku.get(code, ()):
                found.append((self._t.skus[(product, code)], self._t.products[product]))
        return found

    def advance_product_statuses(self, now: dt.datetime) -> int:
        moved = 0
        for code in list(self._t.dated_products):
            p = self._t.products[code]
            status = status_at(p, now)
            if status is not p.status:
                self.update_product(attrs.evolve(p, status=status))
                moved += 1
        return moved

    def get_estimate(self, key: str) -> AvailabilityEstimate | None:
        return self._t.estimates.get(key)

    def put_estimate(self, estimate: AvailabilityEstimate) -> None:
        self._set(self._t.estimates, estimate.key, estimate)

    def list_estimates(self) -> list[AvailabilityEstimate]:
        return sorted(self._t.estimates.values(), key=lambda e: (e.priority, e.key))

    # -- levels and ledger --------------------------------------------------------------
    def get_levels(self, keys: Iterable[LevelKey]) -> dict[LevelKey, Level]:
        levels = self._t.levels
        return {key: levels[key] for key in keys if key in levels}

    def levels(
        self,
        *,
        skus: Sequence[str] | None = None,
        warehouses: Sequence[str] | None = None,
        sku_contains: str | None = None,
    ) -> list[Level]:
        sku_set = set(skus) if skus is not None else None
        wh_set = set(warehouses) if warehouses is not None else None
        needle = sku_contains.casefold() if sku_contains is not None else None
        if sku_set is not None and wh_set is not None and len(sku_set) * len(wh_set) < len(self._t.levels):
            keys = sorted((s, w) for s in sku_set for w in wh_set if (s, w) in self._t.levels)
            found = [self._t.levels[k] for k in keys]
        else:
            found = [
                level
                for _, level in sorted(self._t.levels.items())
                if (sku_set is None or level.sku in sku_set)
                and (wh_set is None or level.warehouse in wh_set)
            ]
        if needle is not None:
            found = [level for level in found if needle in level.sku.casefold()]
        return found

    def expired_holds_by_level(self, keys: Iterable[LevelKey] | None, now: dt.datetime) -> dict[LevelKey, int]:
        holds = self._t.holds
        wanted = holds.keys() if keys is None else [k for k in keys if k in holds]
        result: dict[LevelKey, int] = {}
        for key in wanted:
            units = sum(b.quantity for b in holds[key].values() if b.expired(now))
            if units:
                result[key] = units
        return result

    def apply(self, changes: Sequence[Change], *, at: dt.datetime, actor: str | None) -> list[Level]:
        grouped: dict[LevelKey, list[Change]] = {}
        for change in changes:
            grouped.setdefault((change.sku, change.warehouse), []).append(change)
        updated: dict[LevelKey, Level] = {}
        for key, group in grouped.items():
            before = self._t.levels.get(key) or Level(sku=key[0], warehouse=key[1])
            expired = self.expired_holds_by_level([key], at).get(key, 0)
            after = apply_to_level(before, group, expired)
            updated[key] = after
        for key, level in updated.items():
            self._set(self._t.levels, key, level)
        for change in changes:
            self._append_entry(change, at, actor)
        return list(updated.values())

    def _append_entry(self, change: Change, at: dt.datetime, actor: str | None) -> None:
        entry = LedgerEntry(
            seq=self.next_id("ledger"),
            kind=change.kind,
            sku=change.sku,
            warehouse=change.warehouse,
            at=at,
            on_hand=change.on_hand,
            safety=change.safety,
            booked=change.booked,
            incoming=change.incoming,
            reason=change.reason,
            order_id=change.order_id,
            line_id=change.line_id,
            reference=change.reference,
            actor=actor,
        )
        ledger = self._t.ledger
        ledger.append(entry)
        self._undo.append(ledger.pop)

    def delete_levels(self, keys: Iterable[LevelKey]) -> None:
        for key in list(keys):
            self._delete(self._t.levels, key)

    def ledger(self, query: LedgerQuery) -> list[LedgerEntry]:
        found: list[LedgerEntry] = []
        for entry in reversed(self._t.ledger):
            if (
                (query.sku is None or entry.sku == query.sku)
                and (query.warehouse is None or entry.warehouse == query.warehouse)
                and (query.kinds is None or entry.kind in query.kinds)
                and (query.since is None or entry.at >= query.since)
                and (query.until is None or entry.at < query.until)
                and (query.order_id is None or entry.order_id == query.order_id)
            ):
                found.append(entry)
                if query.limit is not None and len(found) >= query.limit:
                    break
        return found

    def ledger_totals(self) -> dict[LevelKey, LevelTotals]:
        sums: dict[LevelKey, list[int]] = {}
        for e in self._t.ledger:
            row = sums.setdefault((e.sku, e.warehouse), [0, 0, 0, 0, 0])
            row[0] += e.on_hand
            row[1] += e.safety
            row[2] += e.booked
            row[3] += e.incoming
            row[4] += 1
        return {key: LevelTotals(*row) for key, row in sums.items()}

    def prune_ledger(self, before: dt.datetime) -> int:
        old = self._t.ledger
        older: dict[LevelKey, list[LedgerEntry]] = {}
        for entry in old:
            if entry.at < before:
                older.setdefault((entry.sku, entry.warehouse), []).append(entry)
        # a level whose only old entry is a snapshot already has nothing to fold
        folding = {key: entries for key, entries in older.items()
                   if any(e.kind is not LedgerKind.SNAPSHOT for e in entries)}
        if not folding:
            return 0
        snapshots = [
            LedgerEntry(
                seq=entries[-1].seq,
                kind=LedgerKind.SNAPSHOT,
                sku=key[0],
                warehouse=key[1],
                at=max(e.at for e in entries),
                on_hand=sum(e.on_hand for e in entries),
                safety=sum(e.safety for e in entries),
                booked=sum(e.booked for e in entries),
                incoming=sum(e.incoming for e in entries),
                reason="older entries folded by pruning",
            )
            for key, entries in folding.items()
        ]
        kept = [e for e in old if not (e.at < before and (e.sku, e.warehouse) in folding)]
        self._t.ledger = sorted([*snapshots, *kept], key=lambda e: e.seq)
        self._undo.append(lambda: setattr(self._t, "ledger", old))
        return sum(1 for entries in folding.values() for e in entries if e.kind is not LedgerKind.SNAPSHOT)

    # -- orders and bookings ------------------------------------------------------------
    def get_order(self, order_id: str) -> Order | None:
        return self._t.orders.get(order_id)

    def insert_orders(self, orders: Sequence[Order]) -> None:
        ids = [o.order_id for o in orders]
        refuse_duplicate_orders(ids, self.existing_orders(ids))
        for order in orders:
            self._set(self._t.orders, order.order_id, order)

    def existing_orders(self, order_ids: Sequence[str]) -> set[str]:
        return {i for i in order_ids if i in self._t.orders}

    def update_order(self, order: Order) -> None:
        self._set(self._t.orders, order.order_id, order)

    def bookings(
        self, *, order_id: str | None = None, line_id: str | None = None, sku: str | None = None
    ) -> list[Booking]:
        if order_id is not None:
            per_order = [self._t.bookings.get(order_id, {})]
        else:
            per_order = [self._t.bookings[o] for o in sorted(self._t.bookings)]
        found = [
            b
            for bookings in per_order
            for _, b in sorted(bookings.items())
            if (line_id is None or b.line_id == line_id) and (sku is None or b.sku == sku)
        ]
        return found

    def put_bookings(self, bookings: Sequence[Booking]) -> None:
        self._write_bookings([((b.order_id, b.line_id, b.warehouse), b) for b in bookings])

    def delete_bookings(self, keys: Sequence[BookingKey]) -> None:
        self._write_bookings([(key, None) for key in keys])

    def _write_bookings(self, writes: Sequence[tuple[BookingKey, Booking | None]]) -> None:
        """Store (or, for ``None``, remove) bookings, copying each touched order's and each
        touched level's dict once per call, however many bookings it has."""
        orders: dict[str, dict[tuple[str, str], Booking]] = {}
        holds: dict[LevelKey, dict[BookingKey, Booking]] = {}

        def holds_of(key: LevelKey) -> dict[BookingKey, Booking]:
            if key not in holds:
                holds[key] = dict(self._t.holds.get(key, {}))
            return holds[key]

        for (order_id, line_id, warehouse), booking in writes:
            if order_id not in orders:
                orders[order_id] = dict(self._t.bookings.get(order_id, {}))
            old = orders[order_id].pop((line_id, warehouse), None)
            if booking is not None:
                orders[order_id][(line_id, warehouse)] = booking
            if old is not None and old.is_hold:
                holds_of((old.sku, old.warehouse)).pop((order_id, line_id, warehouse), None)
            if booking is not None and booking.is_hold:
                holds_of((booking.sku, booking.warehouse))[(order_id, line_id, warehouse)] = booking
        for table, changed in ((self._t.bookings, orders), (self._t.holds, holds)):
            for key, value in changed.items():
                if value:
                    self._set(table, key, value)  # type: ignore[arg-type]
                else:
                    self._delete(table, key)  # type: ignore[arg-type]

    def expired_holds(self, now: dt.datetime, limit: int) -> list[Booking]:
        expired = [b for holds in self._t.holds.values() for b in holds.values() if b.expired(now)]
        expired.sort(key=lambda b: (b.expires_at, b.order_id, b.line_id, b.warehouse))
        return expired[:limit]

    def booking_totals(self) -> dict[LevelKey, int]:
        totals: dict[LevelKey, int] = {}
        for per_order in self._t.bookings.values():
            for b in per_order.values():
                key = (b.sku, b.warehouse)
                totals[key] = totals.get(key, 0) + b.quantity
        return totals

    # -- shipments, transfers, replenishments -------------------------------------------
    def get_shipment(self, shipment_id: str) -> Shipment | None:
        return self._t.shipments.get(shipment_id)

    def put_shipment(self, shipment: Shipment) -> None:
        self._set(self._t.shipments, shipment.shipment_id, shipment)

    def shipments(self, *, order_id: str | None = None) -> list[Shipment]:
        return [
            s for _, s in sorted(self._t.shipments.items()) if order_id is None or s.order_id == order_id
        ]

    def get_transfer(self, transfer_id: str) -> Transfer | None:
        return self._t.transfers.get(transfer_id)

    def put_transfer(self, transfer: Transfer) -> None:
        self._set(self._t.transfers, transfer.transfer_id, transfer)

    def transfers(self, *, warehouse: str | None = None, sku: str | None = None) -> list[Transfer]:
        return [
            t
            for _, t in sorted(self._t.transfers.items())
            if (warehouse is None or warehouse in (t.source, t.destination)) and (sku is None or t.sku == sku)
        ]

    def get_replenishment(self, replenishment_id: str) -> Replenishment | None:
        return self._t.replenishments.get(replenishment_id)

    def put_replenishment(self, replenishment: Replenishment) -> None:
        self._set(self._t.replenishments, replenishment.replenishment_id, replenishment)

    def replenishments(self, *, sku: str | None = None, warehouse: str | None = None) -> list[Replenishment]:
        found = [
            r
            for r in self._t.replenishments.values()
            if (sku is None or r.sku == sku) and (warehouse is None or r.warehouse == warehouse)
        ]
        return sorted(found, key=lambda r: (r.expected_on, r.replenishment_id))

    def replenishment_totals(self) -> dict[LevelKey, int]:
        totals: dict[LevelKey, int] = {}
        for r in self._t.replenishments.values():
            if r.open_quantity:
                key = (r.sku, r.warehouse)
                totals[key] = totals.get(key, 0) + r.open_quantity
        return totals

    # -- idempotency and ids ------------------------------------------------------------
    def get_idempotency(self, key: str) -> tuple[str, str] | None:
        return self._t.idempotency.get(key)

    def put_idempotency(self, key: str, fingerprint: str, result: str) -> None:
        self._insert(self._t.idempotency, key, (fingerprint, result), "idempotency record")

    def next_id(self, sequence: str) -> int:
        number = self._t.sequences.get(sequence, 0) + 1
        self._set(self._t.sequences, sequence, number)
        return number


@hookimpl
def stockkit_register_backends(register: Callable[[str, BackendFactory], None]) -> None:
    """Serve ``memory://`` with a new, empty :class:`MemoryStore`."""
    register("memory", lambda url: MemoryStore())
