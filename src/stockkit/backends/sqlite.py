"""The SQLite store, ``sqlite:///path/to/shop.db``: embedded and durable, shared safely by
several processes on one host.

Write transactions start with ``BEGIN IMMEDIATE`` (one writer at a time, waiting up to the
busy timeout), the journal is in WAL mode so readers never block the writer, and
``synchronous=FULL`` makes every commit durable before it returns. Level updates are
conditional (``UPDATE ... WHERE <guard>``) and CHECK constraints refuse negative stock
even for a buggy caller. The schema is created and migrated by the versioned files in
:mod:`stockkit.backends.migrations`.

URL forms: ``sqlite:///shop.db`` (relative path), ``sqlite:////var/lib/shop.db``
(absolute), ``sqlite:///:memory:`` (private, in memory). Query parameters:
``synchronous`` (``FULL``, ``NORMAL``, ``OFF``), ``busy_timeout`` (milliseconds) and
``migrate`` (``true``/``false``: whether opening migrates the schema).
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import threading
import urllib.parse
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import attrs

from stockkit.backends.migrations import latest_version, schema_files
from stockkit.errors import (
    DuplicateCode,
    StockkitError,
    StoreUnavailable,
    TransactionConflict,
    ValidationError,
)
from stockkit.hookspecs import BackendFactory, hookimpl
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
from stockkit.model import (
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
from stockkit.store import Change, LedgerQuery, LevelKey, LevelTotals, apply_to_level

__all__ = ["SQLiteStore", "SQLiteTransaction", "migrate", "parse_url", "stockkit_register_backends"]

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
_SYNCHRONOUS = ("FULL", "NORMAL", "OFF", "EXTRA")


def _micros(value: dt.datetime | None) -> int | None:
    """A time as integer microseconds since the epoch (exact and sortable)."""
    if value is None:
        return None
    return (value - _EPOCH) // dt.timedelta(microseconds=1)


def _time(value: int | None) -> dt.datetime | None:
    return None if value is None else _EPOCH + dt.timedelta(microseconds=value)


@attrs.frozen
class SQLiteOptions:
    """What a ``sqlite://`` URL asks for."""

    path: str
    synchronous: str = "FULL"
    busy_timeout_ms: int = 30_000
    migrate: bool = True


def parse_url(url: str) -> SQLiteOptions:
    """Read the path and options of a ``sqlite://`` URL."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme.lower() != "sqlite" or parts.netloc not in ("", "localhost"):
        raise ValidationError(f"a SQLite URL looks like sqlite:///shop.db or sqlite:////abs/shop.db, got {url!r}")
    path = urllib.parse.unquote(parts.path[1:] if parts.path.startswith("/") else parts.path)
    if not path:
        raise ValidationError(f"the SQLite URL {url!r} names no file; use sqlite:///shop.db")
    query = dict(urllib.parse.parse_qsl(parts.query, keep_blank_values=True))
    unknown = set(query) - {"synchronous", "busy_timeout", "migrate"}
    if unknown:
        raise ValidationError(f"unknown SQLite URL options {sorted(unknown)}; known: synchronous, busy_timeout, migrate")
    synchronous = query.get("synchronous", "FULL").upper()
    if synchronous not in _SYNCHRONOUS:
        raise ValidationError(f"synchronous must be one of {', '.join(_SYNCHRONOUS)}, got {synchronous!r}")
    timeout = query.get("busy_timeout", "30000")
    if not timeout.isdigit():
        raise ValidationError(f"busy_timeout must be milliseconds (a whole number), got {timeout!r}")
    migrate_flag = query.get("migrate", "true").lower()
    if migrate_flag not in ("true", "false"):
        raise ValidationError(f"migrate must be true or false, got {migrate_flag!r}")
    return SQLiteOptions(path, synchronous, int(timeout), migrate_flag == "true")


def _connect(options: SQLiteOptions) -> sqlite3.Connection:
    connection = sqlite3.connect(
        options.path, timeout=options.busy_timeout_ms / 1000, isolation_level=None, check_same_thread=False
    )
    connection.execute(f"PRAGMA busy_timeout = {options.busy_timeout_ms}")
    if options.path != ":memory:":
        connection.execute("PRAGMA journal_mode = WAL")
    connection.execute(f"PRAGMA synchronous = {options.synchronous}")
    connection.execute("PRAGMA foreign_keys = ON")
    return connection


def schema_version(connection: sqlite3.Connection) -> int:
    """The schema version recorded in the database (0 for an empty one)."""
    exists = connection.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'"
    ).fetchone()
    if not exists:
        return 0
    row = connection.execute("SELECT max(version) FROM schema_version").fetchone()
    return int(row[0] or 0)


def migrate(connection: sqlite3.Connection) -> int:
    """Bring the database's schema to the newest version; return that version.

    Each pending file runs in its own ``BEGIN IMMEDIATE`` transaction, so two processes
    migrating at once apply each file exactly once.
    """
    for version, name, sql in schema_files("sqlite"):
        connection.execute("BEGIN IMMEDIATE")
        try:
            connection.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL)")
            if schema_version(connection) < version:
                for statement in _statements(sql):
                    connection.execute(statement)
                connection.execute("INSERT INTO schema_version (version, name) VALUES (?, ?)", (version, name))
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
    return schema_version(connection)


def _statements(sql: str) -> list[str]:
    """Split a schema file into statements (triggers keep their inner semicolons)."""
    statements, current = [], ""
    for line in sql.splitlines(keepends=True):
        if line.lstrip().startswith("--"):
            continue
        current += line
        if sqlite3.complete_statement(current):
            statements.append(current.strip())
            current = ""
    if current.strip():
        statements.append(current.strip())
    return statements


@contextmanager
def _translated_errors() -> Iterator[None]:
    """Turn SQLite's errors into stockkit's: a busy database is a transient conflict."""
    try:
        yield
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            raise TransactionConflict(f"the SQLite database stayed locked by another writer: {exc}") from exc
        raise StoreUnavailable(f"SQLite failed: {exc}") from exc
    except sqlite3.DatabaseError as exc:
        if isinstance(exc, sqlite3.IntegrityError):
            raise StockkitError(f"the database refused a change that breaks its constraints: {exc}") from exc
        raise StoreUnavailable(f"SQLite failed: {exc}") from exc


class SQLiteStore:
    """A store in one SQLite database file (see the module docstring)."""

    def __init__(self, url_or_options: str | SQLiteOptions) -> None:
        options = url_or_options if isinstance(url_or_options, SQLiteOptions) else parse_url(url_or_options)
        self.options = options
        self._lock = threading.RLock()
        with _translated_errors():
            self._connection = _connect(options)
            if options.migrate:
                migrate(self._connection)
            version = schema_version(self._connection)
        if version != latest_version("sqlite"):
            raise StoreUnavailable(
                f"the database {options.path!r} is at schema version {version}, "
                f"not {latest_version('sqlite')}: run `stockkit migrate` or open it with ?migrate=true"
            )

    @contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[SQLiteTransaction]:
        """Begin a transaction; see :class:`stockkit.store.Store`."""
        with self._lock, _translated_errors():
            connection = self._connection
            connection.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                yield SQLiteTransaction(connection)
            except BaseException:
                if connection.in_transaction:
                    connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")

    def close(self) -> None:
        """Close the database connection."""
        with self._lock:
            self._connection.close()


_ROWS = RowReader(time=_time, date=dt.date.fromisoformat)

# The guard of stockkit.store.Change as one conditional UPDATE: it matches no row when the
# version differs, a column would go negative, or the available quantity (expired holds
# not counted) would be lowered below zero without back orders.
_GUARDED_UPDATE = """
UPDATE levels SET
    on_hand = on_hand + :on_hand, safety = safety + :safety,
    booked = booked + :booked, incoming = incoming + :incoming, version = version + 1
WHERE sku = :sku AND warehouse = :warehouse
  AND (:expected_version IS NULL OR version = :expected_version)
  AND on_hand + :on_hand >= 0 AND safety + :safety >= 0
  AND booked + :booked >= 0 AND incoming + :incoming >= 0
  AND (:lowers = 0 OR :allow_negative = 1
       OR (on_hand + :on_hand) - (safety + :safety) - (booked + :booked)
          + (SELECT coalesce(sum(b.quantity), 0) FROM bookings b
             WHERE b.sku = :sku AND b.warehouse = :warehouse AND b.expires_at <= :now) >= 0)
"""


class SQLiteTransaction:
    """A transaction on a SQLite connection (see :class:`stockkit.store.Transaction`)."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._c = connection

    def _one(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> tuple[Any, ...] | None:
        return self._c.execute(sql, params).fetchone()  # type: ignore[no-any-return]

    def _all(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[tuple[Any, ...]]:
        return self._c.execute(sql, params).fetchall()

    def _insert(self, sql: str, params: Sequence[Any], what: str, key: object) -> None:
        try:
            self._c.execute(sql, params)
        except sqlite3.IntegrityError as exc:
            if "UNIQUE" in str(exc) or "PRIMARY KEY" in str(exc):
                raise DuplicateCode(f"a {what} with code {key!r} exists already; codes are unique") from None
            raise

    # -- warehouses ---------------------------------------------------------------------
    def get_warehouse(self, code: str) -> Warehouse | None:
        row = self._one(f"SELECT {WAREHOUSE_COLUMNS} FROM warehouses WHERE code = ?", (code,))
        return None if row is None else _ROWS.warehouse(row)

    def _warehouse_values(self, w: Warehouse) -> tuple[Any, ...]:
        return (w.code, w.name, w.description, int(w.active), w.street1, w.street2, w.street3, w.city,
                w.postal_code, w.region_code, w.country_code, w.latitude, w.longitude)

    def insert_warehouse(self, warehouse: Warehouse) -> None:
        self._insert(f"INSERT INTO warehouses ({WAREHOUSE_COLUMNS}) VALUES ({', '.join('?' * 13)})",
                     self._warehouse_values(warehouse), "warehouse", warehouse.code)

    def update_warehouse(self, warehouse: Warehouse) -> None:
        self._c.execute(f"REPLACE INTO warehouses ({WAREHOUSE_COLUMNS}) VALUES ({', '.join('?' * 13)})",
                        self._warehouse_values(warehouse))

    def delete_warehouse(self, code: str) -> None:
        self._c.execute("DELETE FROM channel_links WHERE warehouse = ?", (code,))
        self._c.execute("DELETE FROM levels WHERE warehouse = ?", (code,))
        self._c.execute("DELETE FROM warehouses WHERE code = ?", (code,))

    def list_warehouses(self, *, active: bool | None = None, search: str | None = None) -> list[Warehouse]:
        sql = f"SELECT {WAREHOUSE_COLUMNS} FROM warehouses WHERE (:active IS NULL OR active = :active)"
        params: dict[str, Any] = {"active": None if active is None else int(active)}
        rows = [_ROWS.warehouse(r) for r in self._all(sql + " ORDER BY code", params)]
        if search:
            needle = search.casefold()
            rows = [w for w in rows if needle in w.name.casefold() or needle in w.city.casefold()
                    or needle == w.country_code.casefold()]
        return rows

    # -- channels -----------------------------------------------------------------------
    def get_channel(self, code: str) -> Channel | None:
        row = self._one("SELECT code, name FROM channels WHERE code = ?", (code,))
        return None if row is None else Channel(*row)

    def insert_channel(self, channel: Channel) -> None:
        self._insert("INSERT INTO channels (code, name) VALUES (?, ?)", (channel.code, channel.name),
                     "channel", channel.code)

    def update_channel(self, channel: Channel) -> None:
        self._c.execute("UPDATE channels SET name = ? WHERE code = ?", (channel.name, channel.code))

    def list_channels(self) -> list[Channel]:
        return [Channel(*r) for r in self._all("SELECT code, name FROM channels ORDER BY code")]

    def put_link(self, link: ChannelLink) -> None:
        self._c.execute("REPLACE INTO channel_links (channel, warehouse, priority) VALUES (?, ?, ?)",
                        (link.channel, link.warehouse, link.priority))

    def delete_link(self, channel: str, warehouse: str) -> bool:
        cursor = self._c.execute("DELETE FROM channel_links WHERE channel = ? AND warehouse = ?", (channel, warehouse))
        return cursor.rowcount > 0

    def links(self, *, channel: str | None = None, warehouse: str | None = None) -> list[ChannelLink]:
        rows = self._all(
            "SELECT channel, warehouse, priority FROM channel_links "
            "WHERE (:c IS NULL OR channel = :c) AND (:w IS NULL OR warehouse = :w) "
            "ORDER BY channel, priority, warehouse",
            {"c": channel, "w": warehouse},
        )
        return [ChannelLink(*r) for r in rows]

    # -- products and SKUs --------------------------------------------------------------
    def _product_values(self, p: Product) -> tuple[Any, ...]:
        return (p.code, p.name, p.status.value, _micros(p.display_date), _micros(p.expiration_date),
                config_json(p.config))

    def get_product(self, code: str) -> Product | None:
        row = self._one(f"SELECT {PRODUCT_COLUMNS} FROM products WHERE code = ?", (code,))
        return None if row is None else _ROWS.product(row)

    def insert_product(self, product: Product) -> None:
        self._insert("INSERT INTO products VALUES (?, ?, ?, ?, ?, ?)", self._product_values(product),
                     "product", product.code)

    def update_product(self, product: Product) -> None:
        self._c.execute("REPLACE INTO products VALUES (?, ?, ?, ?, ?, ?)", self._product_values(product))

    def list_products(self) -> list[Product]:
        rows = self._all(f"SELECT {PRODUCT_COLUMNS} FROM products ORDER BY code")
        return [_ROWS.product(r) for r in rows]

    def get_sku(self, product: str, code: str) -> Sku | None:
        row = self._one("SELECT product, code, published, purchasable FROM skus WHERE product = ? AND code = ?",
                        (product, code))
        return None if row is None else Sku(row[0], row[1], bool(row[2]), bool(row[3]))

    def insert_sku(self, sku: Sku) -> None:
        self._insert("INSERT INTO skus VALUES (?, ?, ?, ?)",
                     (sku.product, sku.code, int(sku.published), int(sku.purchasable)), "SKU", sku.code)

    def update_sku(self, sku: Sku) -> None:
        self._c.execute("UPDATE skus SET published = ?, purchasable = ? WHERE product = ? AND code = ?",
                        (int(sku.published), int(sku.purchasable), sku.product, sku.code))

    def list_skus(self, *, product: str | None = None, code: str | None = None) -> list[Sku]:
        rows = self._all(
            "SELECT product, code, published, purchasable FROM skus "
            "WHERE (:p IS NULL OR product = :p) AND (:c IS NULL OR code = :c) ORDER BY product, code",
            {"p": product, "c": code},
        )
        return [Sku(r[0], r[1], bool(r[2]), bool(r[3])) for r in rows]

    # -- levels and ledger --------------------------------------------------------------
    def get_levels(self, keys: Iterable[LevelKey]) -> dict[LevelKey, Level]:
        found: dict[LevelKey, Level] = {}
        for sku, warehouse in keys:
            row = self._one(f"SELECT {LEVEL_COLUMNS} FROM levels "
                            "WHERE sku = ? AND warehouse = ?", (sku, warehouse))
            if row is not None:
                found[(sku, warehouse)] = Level(*row)
        return found

    def levels(
        self,
        *,
        skus: Sequence[str] | None = None,
        warehouses: Sequence[str] | None = None,
        sku_contains: str | None = None,
    ) -> list[Level]:
        sql = f"SELECT {LEVEL_COLUMNS} FROM levels WHERE 1 = 1"
        params: list[Any] = []
        if skus is not None:
            sql += " AND sku IN (SELECT value FROM json_each(?))"
            params.append(json.dumps(list(skus)))
        if warehouses is not None:
            sql += " AND warehouse IN (SELECT value FROM json_each(?))"
            params.append(json.dumps(list(warehouses)))
        rows = [Level(*r) for r in self._all(sql + " ORDER BY sku, warehouse", params)]
        if sku_contains is not None:
            needle = sku_contains.casefold()
            rows = [lv for lv in rows if needle in lv.sku.casefold()]
        return rows

    def expired_holds_by_level(self, keys: Iterable[LevelKey] | None, now: dt.datetime) -> dict[LevelKey, int]:
        rows = self._all(
            "SELECT sku, warehouse, sum(quantity) FROM bookings WHERE expires_at <= ? GROUP BY sku, warehouse",
            (_micros(now),),
        )
        found = {(r[0], r[1]): int(r[2]) for r in rows}
        if keys is None:
            return found
        return {k: found[k] for k in keys if k in found}

    def apply(self, changes: Sequence[Change], *, at: dt.datetime, actor: str | None) -> list[Level]:
        grouped: dict[LevelKey, list[Change]] = {}
        for change in changes:
            grouped.setdefault((change.sku, change.warehouse), []).append(change)
        now = _micros(at)
        for (sku, warehouse), group in grouped.items():
            self._c.execute(
                "INSERT INTO levels VALUES (?, ?, 0, 0, 0, 0, 0) ON CONFLICT (sku, warehouse) DO NOTHING",
                (sku, warehouse),
            )
            delta = {
                "on_hand": sum(c.on_hand for c in group),
                "safety": sum(c.safety for c in group),
                "booked": sum(c.booked for c in group),
                "incoming": sum(c.incoming for c in group),
            }
            versions = {c.expected_version for c in group if c.expected_version is not None}
            params = {
                **delta,
                "sku": sku,
                "warehouse": warehouse,
                "expected_version": versions.pop() if len(versions) == 1 else None,
                "lowers": int(delta["on_hand"] - delta["safety"] - delta["booked"] < 0),
                "allow_negative": int(any(c.allow_negative_available for c in group)),
                "now": now,
            }
            if self._c.execute(_GUARDED_UPDATE, params).rowcount != 1 or versions:
                self._explain_refusal(sku, warehouse, group, at)
        self._c.executemany(
            f"INSERT INTO ledger ({LEDGER_COLUMNS}) VALUES ({', '.join('?' * 14)})",
            [
                (self.next_id("ledger"), c.kind.value, c.sku, c.warehouse, now, c.on_hand, c.safety, c.booked,
                 c.incoming, c.reason, c.order_id, c.line_id, c.reference, actor)
                for c in changes
            ],
        )
        return list(self.get_levels(grouped).values())

    def _explain_refusal(self, sku: str, warehouse: str, group: list[Change], at: dt.datetime) -> None:
        """Raise the error the guard prescribes for a conditional update that matched no
        row (the caller's transaction then rolls back)."""
        before = self.get_levels([(sku, warehouse)]).get((sku, warehouse)) or Level(sku, warehouse)
        expired = self.expired_holds_by_level([(sku, warehouse)], at).get((sku, warehouse), 0)
        apply_to_level(before, group, expired)  # raises the precise error
        raise StockkitError(f"the guarded update of {sku} at {warehouse} was refused for no known reason")

    def delete_levels(self, keys: Iterable[LevelKey]) -> None:
        self._c.executemany("DELETE FROM levels WHERE sku = ? AND warehouse = ?", list(keys))

    def ledger(self, query: LedgerQuery) -> list[LedgerEntry]:
        sql = f"SELECT {LEDGER_COLUMNS} FROM ledger WHERE 1 = 1"
        params: list[Any] = []
        for column, value in (("sku", query.sku), ("warehouse", query.warehouse), ("order_id", query.order_id)):
            if value is not None:
                sql += f" AND {column} = ?"
                params.append(value)
        if query.kinds is not None:
            sql += " AND kind IN (SELECT value FROM json_each(?))"
            params.append(json.dumps(sorted(k.value for k in query.kinds)))
        if query.since is not None:
            sql += " AND at >= ?"
            params.append(_micros(query.since))
        if query.until is not None:
            sql += " AND at < ?"
            params.append(_micros(query.until))
        sql += " ORDER BY seq DESC"
        if query.limit is not None:
            sql += " LIMIT ?"
            params.append(query.limit)
        return [_ROWS.entry(r) for r in self._all(sql, params)]

    def ledger_totals(self) -> dict[LevelKey, LevelTotals]:
        rows = self._all("SELECT sku, warehouse, sum(on_hand), sum(safety), sum(booked), sum(incoming), count(*) "
                         "FROM ledger GROUP BY sku, warehouse")
        return {(r[0], r[1]): LevelTotals(*r[2:]) for r in rows}

    def prune_ledger(self, before: dt.datetime) -> int:
        cutoff = _micros(before)
        folded = self._all(
            "SELECT sku, warehouse, max(seq), max(at), sum(on_hand), sum(safety), sum(booked), sum(incoming), count(*) "
            "FROM ledger WHERE at < ? GROUP BY sku, warehouse",
            (cutoff,),
        )
        if not folded:
            return 0
        self._c.execute("UPDATE ledger_pruning SET active = 1")
        self._c.execute("DELETE FROM ledger WHERE at < ?", (cutoff,))
        self._c.execute("UPDATE ledger_pruning SET active = 0")
        self._c.executemany(
            f"INSERT INTO ledger ({LEDGER_COLUMNS}) VALUES (?, 'snapshot', ?, ?, ?, ?, ?, ?, ?, "
            "'older entries folded by pruning', NULL, NULL, NULL, NULL)",
            [(seq, sku, wh, at, oh, sf, bk, inc) for sku, wh, seq, at, oh, sf, bk, inc, _ in folded],
        )
        return sum(r[8] for r in folded)

    # -- orders and bookings ------------------------------------------------------------
    def get_order(self, order_id: str) -> Order | None:
        row = self._one(f"SELECT {ORDER_COLUMNS} FROM orders WHERE order_id = ?", (order_id,))
        return None if row is None else _ROWS.order(row)

    def _order_values(self, o: Order) -> tuple[Any, ...]:
        return (o.order_id, o.channel, lines_json(o), _micros(o.placed_at), _micros(o.expires_at))

    def insert_order(self, order: Order) -> None:
        self._insert("INSERT INTO orders VALUES (?, ?, ?, ?, ?)", self._order_values(order), "order", order.order_id)

    def update_order(self, order: Order) -> None:
        self._c.execute("REPLACE INTO orders VALUES (?, ?, ?, ?, ?)", self._order_values(order))

    def bookings(
        self, *, order_id: str | None = None, line_id: str | None = None, sku: str | None = None
    ) -> list[Booking]:
        rows = self._all(
            f"SELECT {BOOKING_COLUMNS} FROM bookings WHERE (:o IS NULL OR order_id = :o) "
            "AND (:l IS NULL OR line_id = :l) AND (:s IS NULL OR sku = :s) ORDER BY order_id, line_id, warehouse",
            {"o": order_id, "l": line_id, "s": sku},
        )
        return [_ROWS.booking(r) for r in rows]

    def put_bookings(self, bookings: Sequence[Booking]) -> None:
        self._c.executemany(
            f"REPLACE INTO bookings ({BOOKING_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(b.order_id, b.line_id, b.warehouse, b.sku, b.channel, b.quantity, _micros(b.expires_at))
             for b in bookings],
        )

    def delete_bookings(self, keys: Sequence[tuple[str, str, str]]) -> None:
        self._c.executemany("DELETE FROM bookings WHERE order_id = ? AND line_id = ? AND warehouse = ?", list(keys))

    def expired_holds(self, now: dt.datetime, limit: int) -> list[Booking]:
        rows = self._all(
            f"SELECT {BOOKING_COLUMNS} FROM bookings WHERE expires_at <= ? "
            "ORDER BY expires_at, order_id, line_id, warehouse LIMIT ?",
            (_micros(now), limit),
        )
        return [_ROWS.booking(r) for r in rows]

    def booking_totals(self) -> dict[LevelKey, int]:
        rows = self._all("SELECT sku, warehouse, sum(quantity) FROM bookings GROUP BY sku, warehouse")
        return {(r[0], r[1]): int(r[2]) for r in rows}

    # -- shipments, transfers, replenishments -------------------------------------------
    def get_shipment(self, shipment_id: str) -> Shipment | None:
        row = self._one(f"SELECT {SHIPMENT_COLUMNS} FROM shipments WHERE shipment_id = ?", (shipment_id,))
        return None if row is None else _ROWS.shipment(row)

    def put_shipment(self, shipment: Shipment) -> None:
        s = shipment
        self._c.execute("REPLACE INTO shipments VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        (s.shipment_id, s.order_id, s.line_id, s.sku, s.warehouse, s.quantity,
                         _micros(s.shipped_at), s.status.value))

    def shipments(self, *, order_id: str | None = None) -> list[Shipment]:
        rows = self._all(f"SELECT {SHIPMENT_COLUMNS} FROM shipments WHERE (:o IS NULL OR order_id = :o) ORDER BY shipment_id",
                         {"o": order_id})
        return [_ROWS.shipment(r) for r in rows]

    def get_transfer(self, transfer_id: str) -> Transfer | None:
        row = self._one(f"SELECT {TRANSFER_COLUMNS} FROM transfers WHERE transfer_id = ?", (transfer_id,))
        return None if row is None else _ROWS.transfer(row)

    def put_transfer(self, transfer: Transfer) -> None:
        t = transfer
        self._c.execute("REPLACE INTO transfers VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        (t.transfer_id, t.sku, t.source, t.destination, t.quantity, _micros(t.created_at),
                         t.status.value, _micros(t.closed_at)))

    def transfers(self, *, warehouse: str | None = None, sku: str | None = None) -> list[Transfer]:
        rows = self._all(
            f"SELECT {TRANSFER_COLUMNS} FROM transfers WHERE (:w IS NULL OR source = :w OR destination = :w) "
            "AND (:s IS NULL OR sku = :s) ORDER BY transfer_id",
            {"w": warehouse, "s": sku},
        )
        return [_ROWS.transfer(r) for r in rows]

    def get_replenishment(self, replenishment_id: str) -> Replenishment | None:
        row = self._one(f"SELECT {REPLENISHMENT_COLUMNS} FROM replenishments WHERE replenishment_id = ?", (replenishment_id,))
        return None if row is None else _ROWS.replenishment(row)

    def put_replenishment(self, replenishment: Replenishment) -> None:
        r = replenishment
        self._c.execute("REPLACE INTO replenishments VALUES (?, ?, ?, ?, ?, ?, ?)",
                        (r.replenishment_id, r.sku, r.warehouse, r.quantity, r.expected_on.isoformat(),
                         r.received, r.status.value))

    def replenishments(self, *, sku: str | None = None, warehouse: str | None = None) -> list[Replenishment]:
        rows = self._all(
            f"SELECT {REPLENISHMENT_COLUMNS} FROM replenishments WHERE (:s IS NULL OR sku = :s) AND (:w IS NULL OR warehouse = :w) "
            "ORDER BY expected_on, replenishment_id",
            {"s": sku, "w": warehouse},
        )
        return [_ROWS.replenishment(r) for r in rows]

    def replenishment_totals(self) -> dict[LevelKey, int]:
        rows = self._all("SELECT sku, warehouse, sum(quantity - received) FROM replenishments "
                         "WHERE status = 'open' GROUP BY sku, warehouse")
        return {(r[0], r[1]): int(r[2]) for r in rows if r[2]}

    # -- idempotency and ids ------------------------------------------------------------
    def get_idempotency(self, key: str) -> tuple[str, str] | None:
        row = self._one("SELECT fingerprint, result FROM idempotency WHERE key = ?", (key,))
        return None if row is None else (row[0], row[1])

    def put_idempotency(self, key: str, fingerprint: str, result: str) -> None:
        self._insert("INSERT INTO idempotency VALUES (?, ?, ?)", (key, fingerprint, result),
                     "idempotency record", key)

    def next_id(self, sequence: str) -> int:
        row = self._one(
            "INSERT INTO sequences VALUES (?, 1) ON CONFLICT (name) DO UPDATE SET value = value + 1 RETURNING value",
            (sequence,),
        )
        assert row is not None
        return int(row[0])


@hookimpl
def stockkit_register_backends(register: Callable[[str, BackendFactory], None]) -> None:
    """Serve ``sqlite://`` URLs with :class:`SQLiteStore`."""
    register("sqlite", SQLiteStore)
