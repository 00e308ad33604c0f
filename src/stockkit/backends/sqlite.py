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
from stockkit.backends.sql import SQLTransaction, group_changes
from stockkit.backends.sql_rows import BOOKING_COLUMNS, LEVEL_COLUMNS, RowReader
from stockkit.errors import (
    StockkitError,
    StoreUnavailable,
    TransactionConflict,
    ValidationError,
)
from stockkit.hookspecs import BackendFactory, hookimpl
from stockkit.model import Booking, Level
from stockkit.store import Change, LevelKey
from stockkit.validation import MAX_QUANTITY

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
        #: The schema version of the database.
        self.schema_version = version
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
                yield SQLiteTransaction(connection, write=write)
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
  AND on_hand + :on_hand <= :max AND safety + :safety <= :max
  AND booked + :booked <= :max AND incoming + :incoming <= :max
  AND (:lowers = 0 OR :allow_negative = 1
       OR (on_hand + :on_hand) - (safety + :safety) - (booked + :booked)
          + (SELECT coalesce(sum(b.quantity), 0) FROM bookings b
             WHERE b.sku = :sku AND b.warehouse = :warehouse AND b.expires_at <= :now) >= 0)
"""


class SQLiteTransaction(SQLTransaction):
    """A transaction on a SQLite connection (see :class:`stockkit.store.Transaction`).

    SQLite has one writer at a time (``BEGIN IMMEDIATE``), so rows need no locks of their
    own, and a statement costs no round trip: the guarded update runs once per level."""

    rows = _ROWS

    def _execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self._c.execute(sql, params)

    def _executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self._c.executemany(sql, rows)

    def _time(self, value: dt.datetime | None) -> Any:
        return _micros(value)

    def _date(self, value: dt.date) -> Any:
        return value.isoformat()

    def _in_list(self, column: str, values: Sequence[str]) -> tuple[str, list[Any]]:
        return f"{column} IN (SELECT value FROM json_each(?))", [json.dumps(list(values))]

    def _is_unique_violation(self, error: Exception) -> bool:
        return isinstance(error, sqlite3.IntegrityError) and ("UNIQUE" in str(error) or "PRIMARY KEY" in str(error))

    def get_levels(self, keys: Iterable[LevelKey]) -> dict[LevelKey, Level]:
        found: dict[LevelKey, Level] = {}
        for key in keys:
            row = self._one(f"SELECT {LEVEL_COLUMNS} FROM levels WHERE sku = ? AND warehouse = ?", key)
            if row is not None:
                found[key] = Level(*row)
        return found

    def expired_holds_by_level(self, keys: Iterable[LevelKey] | None, now: dt.datetime) -> dict[LevelKey, int]:
        rows = self._all(
            "SELECT sku, warehouse, sum(quantity) FROM bookings WHERE expires_at <= ? GROUP BY sku, warehouse",
            (_micros(now),),
        )
        found = {(r[0], r[1]): int(r[2]) for r in rows}
        return found if keys is None else {k: found[k] for k in keys if k in found}

    def apply(self, changes: Sequence[Change], *, at: dt.datetime, actor: str | None) -> list[Level]:
        grouped = group_changes(changes)
        for (sku, warehouse), group in grouped.items():
            self._c.execute(
                f"INSERT INTO levels ({LEVEL_COLUMNS}) VALUES (?, ?, 0, 0, 0, 0, 0) "
                "ON CONFLICT (sku, warehouse) DO NOTHING",
                (sku, warehouse),
            )
            delta = {column: sum(getattr(c, column) for c in group)
                     for column in ("on_hand", "safety", "booked", "incoming")}
            versions = {c.expected_version for c in group if c.expected_version is not None}
            params = {
                **delta,
                "sku": sku,
                "warehouse": warehouse,
                "expected_version": min(versions) if versions else None,
                "lowers": int(delta["on_hand"] - delta["safety"] - delta["booked"] < 0),
                "allow_negative": int(any(c.allow_negative_available for c in group)),
                "now": _micros(at),
                "max": MAX_QUANTITY,
            }
            if len(versions) > 1 or self._c.execute(_GUARDED_UPDATE, params).rowcount != 1:
                self._explain_refusal((sku, warehouse), group, at)
        self._append_ledger(changes, at, actor)
        return list(self.get_levels(grouped).values())

    def prune_ledger(self, before: dt.datetime) -> int:
        self._c.execute("UPDATE ledger_pruning SET active = 1")
        folded = self._fold_ledger(before)
        self._c.execute("UPDATE ledger_pruning SET active = 0")
        return folded

    def expired_holds(self, now: dt.datetime, limit: int) -> list[Booking]:
        rows = self._all(
            f"SELECT {BOOKING_COLUMNS} FROM bookings WHERE expires_at <= ? "
            "ORDER BY expires_at, order_id, line_id, warehouse LIMIT ?",
            (_micros(now), limit),
        )
        return [_ROWS.booking(r) for r in rows]


@hookimpl
def stockkit_register_backends(register: Callable[[str, BackendFactory], None]) -> None:
    """Serve ``sqlite://`` URLs with :class:`SQLiteStore`."""
    register("sqlite", SQLiteStore)
