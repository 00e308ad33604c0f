"""What the SQL backends share: one transaction class written once for SQLite and
PostgreSQL.

Statements use ``?`` placeholders; a dialect converts them and supplies the few pieces of
SQL that differ (how a list is passed, how rows are locked, how a time is stored). The
backends subclass :class:`SQLTransaction` for the operations whose best SQL differs: the
guarded level update, row locking, the expiry sweep and pruning.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from stockkit.backends.sql_rows import (
    BOOKING_COLUMNS,
    LEDGER_COLUMNS,
    LEVEL_COLUMNS,
    ORDER_COLUMNS,
    PRODUCT_COLUMNS,
    REPLENISHMENT_COLUMNS,
    SHIPMENT_COLUMNS,
    TRANSFER_COLUMNS,
    WAREHOUSE_COLUMNS,
    RowReader,
    config_json,
    lines_json,
)
from stockkit.errors import DuplicateCode, StockkitError
from stockkit.model import (
    AvailabilityEstimate,
    Booking,
    Channel,
    ChannelLink,
    LedgerEntry,
    Level,
    Order,
    Product,
    Replenishment,
    Shipment,
    Sku,
    Transfer,
    Warehouse,
)
from stockkit.store import Change, LedgerQuery, LevelKey, LevelTotals, apply_to_level, refuse_duplicate_orders

__all__ = ["SQLTransaction", "group_changes"]


def group_changes(changes: Sequence[Change]) -> dict[LevelKey, list[Change]]:
    """Changes per level, levels in canonical (sorted) order so that row locks are always
    taken in the same order and concurrent transactions cannot deadlock on them."""
    grouped: dict[LevelKey, list[Change]] = {}
    for change in changes:
        grouped.setdefault((change.sku, change.warehouse), []).append(change)
    return dict(sorted(grouped.items()))


class SQLTransaction:
    """The parts of :class:`stockkit.store.Transaction` that are the same SQL on every
    engine. Subclasses set :attr:`rows` and implement the abstract hooks below."""

    rows: RowReader

    def __init__(self, connection: Any, *, write: bool) -> None:
        self._c = connection
        self._write = write

    # -- dialect hooks ------------------------------------------------------------------
    def _execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """Run one statement written with ``?`` placeholders; return the cursor."""
        raise NotImplementedError

    def _executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """Run one statement for many parameter rows."""
        raise NotImplementedError

    def _time(self, value: dt.datetime | None) -> Any:
        """A time as the engine stores it."""
        raise NotImplementedError

    def _date(self, value: dt.date) -> Any:
        """A date as the engine stores it."""
        raise NotImplementedError

    def _in_list(self, column: str, values: Sequence[str]) -> tuple[str, list[Any]]:
        """SQL that is true when ``column`` is one of ``values``, with its parameters."""
        raise NotImplementedError

    def _is_unique_violation(self, error: Exception) -> bool:
        """Whether a driver error is a primary-key or unique violation."""
        raise NotImplementedError

    # -- helpers ------------------------------------------------------------------------
    def _one(self, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None:
        return self._execute(sql, params).fetchone()  # type: ignore[no-any-return]

    def _all(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self._execute(sql, params).fetchall()  # type: ignore[no-any-return]

    def _insert(self, sql: str, params: Sequence[Any], what: str, key: object) -> None:
        try:
            self._execute(sql, params)
        except Exception as exc:
            if self._is_unique_violation(exc):
                raise DuplicateCode(f"a {what} with code {key!r} exists already; codes are unique") from None
            raise

    # -- warehouses ---------------------------------------------------------------------
    def get_warehouse(self, code: str) -> Warehouse | None:
        row = self._one(f"SELECT {WAREHOUSE_COLUMNS} FROM warehouses WHERE code = ?", (code,))
        return None if row is None else self.rows.warehouse(row)

    @staticmethod
    def _warehouse_values(w: Warehouse) -> tuple[Any, ...]:
        return (w.code, w.name, w.description, w.active, w.street1, w.street2, w.street3, w.city,
                w.postal_code, w.region_code, w.country_code, w.latitude, w.longitude)

    def insert_warehouse(self, warehouse: Warehouse) -> None:
        self._insert(f"INSERT INTO warehouses ({WAREHOUSE_COLUMNS}) VALUES ({', '.join('?' * 13)})",
                     self._warehouse_values(warehouse), "warehouse", warehouse.code)

    def update_warehouse(self, warehouse: Warehouse) -> None:
        self._execute(
            "UPDATE warehouses SET name = ?, description = ?, active = ?, street1 = ?, street2 = ?, street3 = ?, "
            "city = ?, postal_code = ?, region_code = ?, country_code = ?, latitude = ?, longitude = ? "
            "WHERE code = ?",
            (*self._warehouse_values(warehouse)[1:], warehouse.code),
        )

    def delete_warehouse(self, code: str) -> None:
        self._execute("DELETE FROM channel_links WHERE warehouse = ?", (code,))
        self._execute("DELETE FROM levels WHERE warehouse = ?", (code,))
        self._execute("DELETE FROM warehouses WHERE code = ?", (code,))

    def list_warehouses(self, *, active: bool | None = None, search: str | None = None) -> list[Warehouse]:
        sql = f"SELECT {WAREHOUSE_COLUMNS} FROM warehouses"
        params: list[Any] = []
        if active is not None:
            sql += " WHERE active = ?"
            params.append(active)
        found = [self.rows.warehouse(r) for r in self._all(sql + " ORDER BY code", params)]
        if search:
            needle = search.casefold()
            found = [w for w in found if needle in w.name.casefold() or needle in w.city.casefold()
                     or needle == w.country_code.casefold()]
        return found

    # -- channels -----------------------------------------------------------------------
    def get_channel(self, code: str) -> Channel | None:
        row = self._one("SELECT code, name FROM channels WHERE code = ?", (code,))
        return None if row is None else Channel(*row)

    def insert_channel(self, channel: Channel) -> None:
        self._insert("INSERT INTO channels (code, name) VALUES (?, ?)", (channel.code, channel.name),
                     "channel", channel.code)

    def update_channel(self, channel: Channel) -> None:
        self._execute("UPDATE channels SET name = ? WHERE code = ?", (channel.name, channel.code))

    def list_channels(self) -> list[Channel]:
        return [Channel(*r) for r in self._all("SELECT code, name FROM channels ORDER BY code")]

    def put_link(self, link: ChannelLink) -> None:
        self._execute(
            "INSERT INTO channel_links (channel, warehouse, priority) VALUES (?, ?, ?) "
            "ON CONFLICT (channel, warehouse) DO UPDATE SET priority = excluded.priority",
            (link.channel, link.warehouse, link.priority),
        )

    def delete_link(self, channel: str, warehouse: str) -> bool:
        cursor = self._execute("DELETE FROM channel_links WHERE channel = ? AND warehouse = ?", (channel, warehouse))
        return bool(cursor.rowcount > 0)

    def links(self, *, channel: str | None = None, warehouse: str | None = None) -> list[ChannelLink]:
        sql, params = "SELECT channel, warehouse, priority FROM channel_links WHERE 1 = 1", []
        for column, value in (("channel", channel), ("warehouse", warehouse)):
            if value is not None:
                sql += f" AND {column} = ?"
                params.append(value)
        return [ChannelLink(*r) for r in self._all(sql + " ORDER BY channel, priority, warehouse", params)]

    # -- products and SKUs --------------------------------------------------------------
    def _product_values(self, p: Product) -> tuple[Any, ...]:
        return (p.name, p.status.value, self._time(p.display_date), self._time(p.expiration_date),
                config_json(p.config), p.code)

    def get_product(self, code: str) -> Product | None:
        row = self._one(f"SELECT {PRODUCT_COLUMNS} FROM products WHERE code = ?", (code,))
        return None if row is None else self.rows.product(row)

    def insert_product(self, product: Product) -> None:
        self._insert("INSERT INTO products (name, status, display_date, expiration_date, config, code) "
                     "VALUES (?, ?, ?, ?, ?, ?)", self._product_values(product), "product", product.code)

    def update_product(self, product: Product) -> None:
        self._execute("UPDATE products SET name = ?, status = ?, display_date = ?, expiration_date = ?, config = ? "
                      "WHERE code = ?", self._product_values(product))

    def list_products(self) -> list[Product]:
        return [self.rows.product(r) for r in self._all(f"SELECT {PRODUCT_COLUMNS} FROM products ORDER BY code")]

    def get_sku(self, product: str, code: str) -> Sku | None:
        found = self.list_skus(product=product, code=code)
        return found[0] if found else None

    def insert_sku(self, sku: Sku) -> None:
        self._insert("INSERT INTO skus (product, code, published, purchasable) VALUES (?, ?, ?, ?)",
                     (sku.product, sku.code, sku.published, sku.purchasable), "SKU", sku.code)

    def update_sku(self, sku: Sku) -> None:
        self._execute("UPDATE skus SET published = ?, purchasable = ? WHERE product = ? AND code = ?",
                      (sku.published, sku.purchasable, sku.product, sku.code))

    def list_skus(self, *, product: str | None = None, code: str | None = None) -> list[Sku]:
        sql, params = "SELECT product, code, published, purchasable FROM skus WHERE 1 = 1", []
        for column, value in (("product", product), ("code", code)):
            if value is not None:
                sql += f" AND {column} = ?"
                params.append(value)
        rows = self._all(sql + " ORDER BY product, code", params)
        return [Sku(r[0], r[1], bool(r[2]), bool(r[3])) for r in rows]

    def catalogue(self, codes: Iterable[str]) -> list[tuple[Sku, Product]]:
        wanted = sorted(set(codes))
        if not wanted:
            return []
        condition, params = self._in_list("s.code", wanted)
        columns = ", ".join(f"p.{c.strip()}" for c in PRODUCT_COLUMNS.split(","))
        rows = self._all(f"SELECT s.product, s.code, s.published, s.purchasable, {columns} FROM skus s "
                         f"JOIN products p ON p.code = s.product WHERE {condition} ORDER BY s.code, s.product", params)
        return [(Sku(r[0], r[1], bool(r[2]), bool(r[3])), self.rows.product(r[4:])) for r in rows]

    def advance_product_statuses(self, now: dt.datetime) -> int:
        # Expire first, so that a scheduled product past both dates ends expired.
        at = self._time(now)
        expired = self._execute("UPDATE products SET status = 'expired' WHERE status IN ('approved', 'scheduled') "
                                "AND expiration_date <= ?", (at,)).rowcount
        shown = self._execute("UPDATE products SET status = 'approved' WHERE status = 'scheduled' "
                              "AND display_date <= ?", (at,)).rowcount
        return int(expired) + int(shown)

    def get_estimate(self, key: str) -> AvailabilityEstimate | None:
        row = self._one("SELECT key, label, priority FROM availability_estimates WHERE key = ?", (key,))
        return None if row is None else AvailabilityEstimate(*row)

    def put_estimate(self, estimate: AvailabilityEstimate) -> None:
        self._execute("DELETE FROM availability_estimates WHERE key = ?", (estimate.key,))
        self._execute("INSERT INTO availability_estimates (key, label, priority) VALUES (?, ?, ?)",
                      (estimate.key, estimate.label, estimate.priority))

    def list_estimates(self) -> list[AvailabilityEstimate]:
        rows = self._all("SELECT key, label, priority FROM availability_estimates ORDER BY priority, key")
        return [AvailabilityEstimate(*r) for r in rows]

    # -- levels and ledger --------------------------------------------------------------
    def levels(
        self,
        *,
        skus: Sequence[str] | None = None,
        warehouses: Sequence[str] | None = None,
        sku_contains: str | None = None,
    ) -> list[Level]:
        sql, params = f"SELECT {LEVEL_COLUMNS} FROM levels WHERE 1 = 1", []
        for column, values in (("sku", skus), ("warehouse", warehouses)):
            if values is not None:
                fragment, extra = self._in_list(column, list(values))
                sql += f" AND {fragment}"
                params.extend(extra)
        found = [Level(*r) for r in self._all(sql + " ORDER BY sku, warehouse", params)]
        if sku_contains is not None:
            needle = sku_contains.casefold()
            found = [lv for lv in found if needle in lv.sku.casefold()]
        return found

    def _explain_refusal(self, key: LevelKey, group: list[Change], at: dt.datetime) -> None:
        """Raise the error the guard prescribes for a conditional update that matched no
        row (the transaction then rolls back)."""
        before = self.get_levels([key]).get(key) or Level(*key)
        apply_to_level(before, group, self.expired_holds_by_level([key], at).get(key, 0))
        raise StockkitError(f"the guarded update of {key[0]} at {key[1]} was refused for no known reason")

    def get_levels(self, keys: Iterable[LevelKey]) -> dict[LevelKey, Level]:
        raise NotImplementedError

    def expired_holds_by_level(self, keys: Iterable[LevelKey] | None, now: dt.datetime) -> dict[LevelKey, int]:
        raise NotImplementedError

    def _append_ledger(self, changes: Sequence[Change], at: dt.datetime, actor: str | None) -> None:
        self._executemany(
            "INSERT INTO ledger (kind, sku, warehouse, at, on_hand, safety, booked, incoming, reason, order_id, "
            "line_id, reference, actor) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(c.kind.value, c.sku, c.warehouse, self._time(at), c.on_hand, c.safety, c.booked, c.incoming, c.reason,
              c.order_id, c.line_id, c.reference, actor) for c in changes],
        )

    def delete_levels(self, keys: Iterable[LevelKey]) -> None:
        self._executemany("DELETE FROM levels WHERE sku = ? AND warehouse = ?", list(keys))

    def ledger(self, query: LedgerQuery) -> list[LedgerEntry]:
        sql, params = f"SELECT {LEDGER_COLUMNS} FROM ledger WHERE 1 = 1", []
        for column, value in (("sku", query.sku), ("warehouse", query.warehouse), ("order_id", query.order_id)):
            if value is not None:
                sql += f" AND {column} = ?"
                params.append(value)
        if query.kinds is not None:
            fragment, extra = self._in_list("kind", sorted(k.value for k in query.kinds))
            sql += f" AND {fragment}"
            params.extend(extra)
        if query.since is not None:
            sql += " AND at >= ?"
            params.append(self._time(query.since))
        if query.until is not None:
            sql += " AND at < ?"
            params.append(self._time(query.until))
        sql += " ORDER BY seq DESC"
        if query.limit is not None:
            sql += " LIMIT ?"
            params.append(query.limit)
        return [self.rows.entry(r) for r in self._all(sql, params)]

    def ledger_totals(self) -> dict[LevelKey, LevelTotals]:
        rows = self._all("SELECT sku, warehouse, sum(on_hand), sum(safety), sum(booked), sum(incoming), count(*) "
                         "FROM ledger GROUP BY sku, warehouse")
        return {(r[0], r[1]): LevelTotals(*(int(v) for v in r[2:])) for r in rows}

    def _fold_ledger(self, before: dt.datetime) -> int:
        """Replace entries older than ``before`` by one snapshot per level; the caller has
        allowed the deletion for this transaction."""
        cutoff = self._time(before)
        # levels whose only old entry is a snapshot already have nothing to fold
        folding = "(sku, warehouse) IN (SELECT sku, warehouse FROM ledger WHERE at < ? AND kind <> 'snapshot')"
        folded = self._all(
            "SELECT sku, warehouse, max(seq), max(at), sum(on_hand), sum(safety), sum(booked), sum(incoming), "
            f"sum(CASE WHEN kind <> 'snapshot' THEN 1 ELSE 0 END) FROM ledger WHERE at < ? AND {folding} "
            "GROUP BY sku, warehouse",
            (cutoff, cutoff),
        )
        if not folded:
            return 0
        self._execute(f"DELETE FROM ledger WHERE at < ? AND {folding}", (cutoff, cutoff))
        self._executemany(
            f"INSERT INTO ledger ({LEDGER_COLUMNS}) VALUES (?, 'snapshot', ?, ?, ?, ?, ?, ?, ?, "
            "'older entries folded by pruning', NULL, NULL, NULL, NULL)",
            [(seq, sku, wh, at, oh, sf, bk, inc) for sku, wh, seq, at, oh, sf, bk, inc, _ in folded],
        )
        return sum(int(r[8]) for r in folded)

    # -- orders and bookings ------------------------------------------------------------
    def get_order(self, order_id: str) -> Order | None:
        row = self._one(f"SELECT {ORDER_COLUMNS} FROM orders WHERE order_id = ?", (order_id,))
        return None if row is None else self.rows.order(row)

    def insert_orders(self, orders: Sequence[Order]) -> None:
        ids = [o.order_id for o in orders]
        refuse_duplicate_orders(ids, self.existing_orders(ids))
        try:
            self._executemany(f"INSERT INTO orders ({ORDER_COLUMNS}) VALUES (?, ?, ?, ?, ?)",
                              [(o.order_id, o.channel, lines_json(o), self._time(o.placed_at),
                                self._time(o.expires_at)) for o in orders])
        except Exception as exc:
            # another transaction added one of them since the check
            if self._is_unique_violation(exc):
                raise DuplicateCode(f"another transaction added an order of this batch (of {len(ids)}, first "
                                    f"{ids[0]!r}) meanwhile; order ids are unique") from None
            raise

    def existing_orders(self, order_ids: Sequence[str]) -> set[str]:
        if not order_ids:
            return set()
        where, params = self._in_list("order_id", list(order_ids))
        return {row[0] for row in self._all(f"SELECT order_id FROM orders WHERE {where}", params)}

    def update_order(self, order: Order) -> None:
        self._execute("UPDATE orders SET channel = ?, lines = ?, placed_at = ?, expires_at = ? WHERE order_id = ?",
                      (order.channel, lines_json(order), self._time(order.placed_at), self._time(order.expires_at),
                       order.order_id))

    def bookings(
        self, *, order_id: str | None = None, line_id: str | None = None, sku: str | None = None
    ) -> list[Booking]:
        sql, params = f"SELECT {BOOKING_COLUMNS} FROM bookings WHERE 1 = 1", []
        for column, value in (("order_id", order_id), ("line_id", line_id), ("sku", sku)):
            if value is not None:
                sql += f" AND {column} = ?"
                params.append(value)
        return [self.rows.booking(r) for r in self._all(sql + " ORDER BY order_id, line_id, warehouse", params)]

    def put_bookings(self, bookings: Sequence[Booking]) -> None:
        self._executemany(
            f"INSERT INTO bookings ({BOOKING_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (order_id, line_id, warehouse) DO UPDATE SET sku = excluded.sku, "
            "channel = excluded.channel, quantity = excluded.quantity, expires_at = excluded.expires_at",
            [(b.order_id, b.line_id, b.warehouse, b.sku, b.channel, b.quantity, self._time(b.expires_at))
             for b in bookings],
        )

    def delete_bookings(self, keys: Sequence[tuple[str, str, str]]) -> None:
        self._executemany("DELETE FROM bookings WHERE order_id = ? AND line_id = ? AND warehouse = ?", list(keys))

    def booking_totals(self) -> dict[LevelKey, int]:
        rows = self._all("SELECT sku, warehouse, sum(quantity) FROM bookings GROUP BY sku, warehouse")
        return {(r[0], r[1]): int(r[2]) for r in rows}

    # -- shipments, transfers, replenishments -------------------------------------------
    def get_shipment(self, shipment_id: str) -> Shipment | None:
        row = self._one(f"SELECT {SHIPMENT_COLUMNS} FROM shipments WHERE shipment_id = ?", (shipment_id,))
        return None if row is None else self.rows.shipment(row)

    def put_shipment(self, shipment: Shipment) -> None:
        s = shipment
        self._execute(
            f"INSERT INTO shipments ({SHIPMENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (shipment_id) DO UPDATE SET status = excluded.status",
            (s.shipment_id, s.order_id, s.line_id, s.sku, s.warehouse, s.quantity, self._time(s.shipped_at),
             s.status.value),
        )

    def shipments(self, *, order_id: str | None = None) -> list[Shipment]:
        sql, params = f"SELECT {SHIPMENT_COLUMNS} FROM shipments", []
        if order_id is not None:
            sql += " WHERE order_id = ?"
            params.append(order_id)
        return [self.rows.shipment(r) for r in self._all(sql + " ORDER BY shipment_id", params)]

    def get_transfer(self, transfer_id: str) -> Transfer | None:
        row = self._one(f"SELECT {TRANSFER_COLUMNS} FROM transfers WHERE transfer_id = ?", (transfer_id,))
        return None if row is None else self.rows.transfer(row)

    def put_transfer(self, transfer: Transfer) -> None:
        t = transfer
        self._execute(
            f"INSERT INTO transfers ({TRANSFER_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (transfer_id) DO UPDATE SET status = excluded.status, closed_at = excluded.closed_at",
            (t.transfer_id, t.sku, t.source, t.destination, t.quantity, self._time(t.created_at), t.status.value,
             self._time(t.closed_at)),
        )

    def transfers(self, *, warehouse: str | None = None, sku: str | None = None) -> list[Transfer]:
        sql, params = f"SELECT {TRANSFER_COLUMNS} FROM transfers WHERE 1 = 1", []
        if warehouse is not None:
            sql += " AND (source = ? OR destination = ?)"
            params += [warehouse, warehouse]
        if sku is not None:
            sql += " AND sku = ?"
            params.append(sku)
        return [self.rows.transfer(r) for r in self._all(sql + " ORDER BY transfer_id", params)]

    def get_replenishment(self, replenishment_id: str) -> Replenishment | None:
        row = self._one(f"SELECT {REPLENISHMENT_COLUMNS} FROM replenishments WHERE replenishment_id = ?",
                        (replenishment_id,))
        return None if row is None else self.rows.replenishment(row)

    def put_replenishment(self, replenishment: Replenishment) -> None:
        r = replenishment
        self._execute(
            f"INSERT INTO replenishments ({REPLENISHMENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (replenishment_id) DO UPDATE SET received = excluded.received, status = excluded.status",
            (r.replenishment_id, r.sku, r.warehouse, r.quantity, self._date(r.expected_on), r.received,
             r.status.value),
        )

    def replenishments(self, *, sku: str | None = None, warehouse: str | None = None) -> list[Replenishment]:
        sql, params = f"SELECT {REPLENISHMENT_COLUMNS} FROM replenishments WHERE 1 = 1", []
        for column, value in (("sku", sku), ("warehouse", warehouse)):
            if value is not None:
                sql += f" AND {column} = ?"
                params.append(value)
        rows = self._all(sql + " ORDER BY expected_on, replenishment_id", params)
        return [self.rows.replenishment(r) for r in rows]

    def replenishment_totals(self) -> dict[LevelKey, int]:
        rows = self._all("SELECT sku, warehouse, sum(quantity - received) FROM replenishments "
                         "WHERE status = 'open' GROUP BY sku, warehouse")
        return {(r[0], r[1]): int(r[2]) for r in rows if r[2]}

    # -- idempotency and ids ------------------------------------------------------------
    def get_idempotency(self, key: str) -> tuple[str, str] | None:
        row = self._one("SELECT fingerprint, result FROM idempotency WHERE key = ?", (key,))
        return None if row is None else (row[0], row[1])

    def put_idempotency(self, key: str, fingerprint: str, result: str) -> None:
        self._insert("INSERT INTO idempotency (key, fingerprint, result) VALUES (?, ?, ?)",
                     (key, fingerprint, result), "idempotency record", key)

    def next_id(self, sequence: str) -> int:
        row = self._one(
            "INSERT INTO sequences (name, value) VALUES (?, 1) "
            "ON CONFLICT (name) DO UPDATE SET value = sequences.value + 1 RETURNING value",
            (sequence,),
        )
        assert row is not None
        return int(row[0])
