"""The PostgreSQL store, ``postgresql://user@host:port/dbname``: many processes on many
hosts sharing one database, without ever overselling.

How it stays correct under concurrency:

- every write transaction runs at READ COMMITTED (or SERIALIZABLE, for CockroachDB,
  YugabyteDB and the cautious) with a lock timeout and a statement timeout;
- the level rows a transaction touches are locked in one canonical order (SKU, then
  warehouse), so two transactions never wait on each other in a cycle;
- a batch of level changes is one set-based guarded ``UPDATE ... FROM unnest(arrays)``,
  and the ledger entries are one ``INSERT ... SELECT FROM unnest``, in the same
  transaction as the idempotency record;
- serialization failures, deadlocks and lock timeouts become
  :class:`~stockkit.errors.TransactionConflict`, and the inventory runs the whole
  transaction again after a jittered pause;
- the expiry sweep takes holds and their level rows with ``FOR UPDATE SKIP LOCKED`` in
  short batches, so it never waits for a booking or another sweep, and a booking waits
  at most for one batch that releases holds of the same stock.

URL options (query parameters, removed before connecting): ``schema`` (default
``public``), ``isolation`` (``read_committed`` or ``serializable``), ``pool_min`` and
``pool_max`` (connection pool size), ``lock_timeout`` and ``statement_timeout``
(milliseconds), ``migrate`` (``true``/``false``). Needs the ``postgres`` extra:
``pip install stockkit[postgres]``.
"""

from __future__ import annotations

import datetime as dt
import re
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

__all__ = ["PostgresStore", "PostgresTransaction", "PostgresOptions", "parse_url", "migrate",
           "stockkit_register_backends"]

_OPTIONS = ("schema", "isolation", "pool_min", "pool_max", "lock_timeout", "statement_timeout", "migrate")
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
# An arbitrary constant: the advisory lock that serialises schema migrations.
_MIGRATION_LOCK = 7_340_101


@attrs.frozen
class PostgresOptions:
    """What a ``postgresql://`` URL asks for."""

    conninfo: str
    schema: str = "public"
    isolation: str = "read_committed"
    pool_min: int = 1
    pool_max: int = 4
    lock_timeout_ms: int = 5_000
    statement_timeout_ms: int = 60_000
    migrate: bool = True


def parse_url(url: str) -> PostgresOptions:
    """Split a ``postgresql://`` URL into the connection string and stockkit's options."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme.lower() not in ("postgresql", "postgres"):
        raise ValidationError(f"a PostgreSQL URL looks like postgresql://user@host:5432/dbname, got {url!r}")
    query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    ours = {k: v for k, v in query if k in _OPTIONS}
    theirs = [(k, v) for k, v in query if k not in _OPTIONS]
    conninfo = urllib.parse.urlunsplit(("postgresql", parts.netloc, parts.path, urllib.parse.urlencode(theirs), ""))
    schema = ours.get("schema", "public")
    if not _IDENTIFIER.match(schema):
        raise ValidationError(f"schema must be a lower-case SQL identifier, got {schema!r}")
    isolation = ours.get("isolation", "read_committed").lower()
    if isolation not in ("read_committed", "serializable"):
        raise ValidationError(f"isolation must be read_committed or serializable, got {isolation!r}")
    numbers = {}
    for name, default in (("pool_min", 1), ("pool_max", 4), ("lock_timeout", 5_000), ("statement_timeout", 60_000)):
        text = ours.get(name, str(default))
        if not text.isdigit():
            raise ValidationError(f"{name} must be a whole number, got {text!r}")
        numbers[name] = int(text)
    migrate_flag = ours.get("migrate", "true").lower()
    if migrate_flag not in ("true", "false"):
        raise ValidationError(f"migrate must be true or false, got {migrate_flag!r}")
    return PostgresOptions(conninfo, schema, isolation, max(numbers["pool_min"], 1),
                           max(numbers["pool_max"], numbers["pool_min"], 1), numbers["lock_timeout"],
                           numbers["statement_timeout"], migrate_flag == "true")


def _psycopg() -> Any:
    try:
        import psycopg
    except ImportError:  # pragma: no cover - depends on the install
        raise StoreUnavailable(
            "the PostgreSQL backend needs psycopg: pip install 'stockkit[postgres]'"
        ) from None
    return psycopg


@contextmanager
def _translated_errors() -> Iterator[None]:
    """Turn psycopg's errors into stockkit's."""
    psycopg = _psycopg()
    errors = psycopg.errors
    try:
        yield
    except (errors.SerializationFailure, errors.DeadlockDetected, errors.LockNotAvailable,
            errors.QueryCanceled) as exc:
        raise TransactionConflict(f"PostgreSQL: {exc.sqlstate} {str(exc).strip()}") from exc
    except errors.IntegrityError as exc:
        raise StockkitError(f"the database refused a change that breaks its constraints: {exc}") from exc
    except psycopg.OperationalError as exc:
        raise StoreUnavailable(f"PostgreSQL is unavailable: {str(exc).strip()}") from exc
    except psycopg.Error as exc:
        raise StoreUnavailable(f"PostgreSQL failed: {exc.sqlstate} {str(exc).strip()}") from exc


def migrate(connection: Any, schema: str = "public") -> int:
    """Bring a database's schema to the newest version; return that version.

    ``connection`` is a psycopg connection in autocommit mode. An advisory lock makes
    concurrent migrations wait for each other, and each file runs in its own transaction.
    """
    connection.execute("SELECT pg_advisory_lock(%s)", (_MIGRATION_LOCK,))
    try:
        connection.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        connection.execute(f'SET search_path TO "{schema}"')
        connection.execute("CREATE TABLE IF NOT EXISTS schema_version (version integer PRIMARY KEY, name text NOT NULL)")
        for version, name, sql in schema_files("postgresql"):
            current = connection.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchone()[0]
            if current >= version:
                continue
            with connection.transaction():
                connection.execute(sql)
                connection.execute("INSERT INTO schema_version (version, name) VALUES (%s, %s)", (version, name))
        return int(connection.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchone()[0])
    finally:
        connection.execute("SELECT pg_advisory_unlock(%s)", (_MIGRATION_LOCK,))


class PostgresStore:
    """A store in a PostgreSQL database, through a pool of connections (see the module
    docstring)."""

    def __init__(self, url_or_options: str | PostgresOptions) -> None:
        options = url_or_options if isinstance(url_or_options, PostgresOptions) else parse_url(url_or_options)
        self.options = options
        psycopg = _psycopg()
        try:
            from psycopg_pool import ConnectionPool
        except ImportError:  # pragma: no cover - depends on the install
            raise StoreUnavailable("the PostgreSQL backend needs psycopg_pool: pip install 'stockkit[postgres]'") from None
        with _translated_errors():
            with psycopg.connect(options.conninfo, autocommit=True) as connection:
                version = migrate(connection, options.schema) if options.migrate else _version(connection, options)
        #: The schema version of the database.
        self.schema_version = version
        if version != latest_version("postgresql"):
            raise StoreUnavailable(
                f"the database schema {options.schema!r} is at version {version}, not "
                f"{latest_version('postgresql')}: run `stockkit migrate` or open it with ?migrate=true"
            )
        isolation = (psycopg.IsolationLevel.SERIALIZABLE if options.isolation == "serializable"
                     else psycopg.IsolationLevel.READ_COMMITTED)

        def configure(connection: Any) -> None:
            connection.execute(f'SET search_path TO "{options.schema}"')
            connection.execute("SET TIME ZONE 'UTC'")
            connection.isolation_level = isolation

        self._pool = ConnectionPool(
            options.conninfo, min_size=options.pool_min, max_size=options.pool_max,
            kwargs={"autocommit": True}, configure=configure, open=False,
        )
        with _translated_errors():
            self._pool.open(wait=True, timeout=30)
        self._closed = threading.Event()

    @contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[PostgresTransaction]:
        """Begin a transaction; see :class:`stockkit.store.Store`."""
        with _translated_errors(), self._pool.connection() as connection, connection.transaction():
            if write:
                connection.execute(
                    "SELECT set_config('lock_timeout', %s, true), set_config('statement_timeout', %s, true)",
                    (f"{self.options.lock_timeout_ms}ms", f"{self.options.statement_timeout_ms}ms"),
                )
            yield PostgresTransaction(connection, write=write)

    def close(self) -> None:
        """Close every pooled connection."""
        self._pool.close()


def _version(connection: Any, options: PostgresOptions) -> int:
    connection.execute(f'SET search_path TO "{options.schema}"')
    exists = connection.execute("SELECT to_regclass('schema_version')").fetchone()[0]
    if exists is None:
        return 0
    return int(connection.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchone()[0])


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    return None if value is None else value.astimezone(dt.timezone.utc)


def _same(value: Any) -> Any:
    return value


_ROWS = RowReader(time=_utc, date=_same)

# The guard of stockkit.store.Change for a whole batch: one row per level in the arrays;
# a level whose guard fails is simply not updated (and not returned), which the caller
# turns into the precise error. Deltas are numeric so that the guard's sums cannot
# overflow bigint before they are compared with the largest quantity.
_GUARDED_UPDATE = """
WITH d AS (
    SELECT * FROM unnest(%(sku)s::text[], %(warehouse)s::text[], %(on_hand)s::numeric[], %(safety)s::numeric[],
                         %(booked)s::numeric[], %(incoming)s::numeric[], %(expected_version)s::bigint[],
                         %(lowers)s::boolean[], %(allow_negative)s::boolean[])
        AS d(sku, warehouse, on_hand, safety, booked, incoming, expected_version, lowers, allow_negative)
), expired AS (
    SELECT b.sku, b.warehouse, sum(b.quantity) AS units
    FROM bookings b JOIN d ON b.sku = d.sku AND b.warehouse = d.warehouse
    WHERE b.expires_at <= %(now)s
    GROUP BY b.sku, b.warehouse
)
UPDATE levels l SET
    on_hand = l.on_hand + d.on_hand, safety = l.safety + d.safety,
    booked = l.booked + d.booked, incoming = l.incoming + d.incoming, version = l.version + 1
FROM d LEFT JOIN expired e ON e.sku = d.sku AND e.warehouse = d.warehouse
WHERE l.sku = d.sku AND l.warehouse = d.warehouse
  AND (d.expected_version IS NULL OR l.version = d.expected_version)
  AND l.on_hand + d.on_hand >= 0 AND l.safety + d.safety >= 0
  AND l.booked + d.booked >= 0 AND l.incoming + d.incoming >= 0
  AND l.on_hand + d.on_hand <= %(max)s AND l.safety + d.safety <= %(max)s
  AND l.booked + d.booked <= %(max)s AND l.incoming + d.incoming <= %(max)s
  AND (NOT d.lowers OR d.allow_negative
       OR (l.on_hand + d.on_hand) - (l.safety + d.safety) - (l.booked + d.booked) + coalesce(e.units, 0) >= 0)
RETURNING l.sku, l.warehouse, l.on_hand, l.safety, l.booked, l.incoming, l.version
"""


class PostgresTransaction(SQLTransaction):
    """A transaction on a pooled PostgreSQL connection (see
    :class:`stockkit.store.Transaction`)."""

    rows = _ROWS

    def _execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self._c.execute(sql.replace("?", "%s"), params)

    def _executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            with self._c.cursor() as cursor:
                cursor.executemany(sql.replace("?", "%s"), rows)

    def _time(self, value: dt.datetime | None) -> Any:
        return value

    def _date(self, value: dt.date) -> Any:
        return value

    def _in_list(self, column: str, values: Sequence[str]) -> tuple[str, list[Any]]:
        return f"{column} = ANY(?)", [list(values)]

    def _is_unique_violation(self, error: Exception) -> bool:
        return isinstance(error, _psycopg().errors.UniqueViolation)

    def get_levels(self, keys: Iterable[LevelKey]) -> dict[LevelKey, Level]:
        ordered = sorted(set(keys))
        if not ordered:
            return {}
        lock = " FOR UPDATE" if self._write else ""
        rows = self._all(
            f"SELECT {LEVEL_COLUMNS} FROM levels WHERE (sku, warehouse) IN "
            f"(SELECT * FROM unnest(?::text[], ?::text[])) ORDER BY sku, warehouse{lock}",
            ([k[0] for k in ordered], [k[1] for k in ordered]),
        )
        return {(r[0], r[1]): Level(*r) for r in rows}

    def expired_holds_by_level(self, keys: Iterable[LevelKey] | None, now: dt.datetime) -> dict[LevelKey, int]:
        sql = "SELECT sku, warehouse, sum(quantity) FROM bookings WHERE expires_at <= ?"
        params: list[Any] = [now]
        if keys is not None:
            wanted = sorted(set(keys))
            if not wanted:
                return {}
            sql += " AND (sku, warehouse) IN (SELECT * FROM unnest(?::text[], ?::text[]))"
            params += [[k[0] for k in wanted], [k[1] for k in wanted]]
        rows = self._all(sql + " GROUP BY sku, warehouse", params)
        return {(r[0], r[1]): int(r[2]) for r in rows}

    def apply(self, changes: Sequence[Change], *, at: dt.datetime, actor: str | None) -> list[Level]:
        grouped = group_changes(changes)
        skus = [k[0] for k in grouped]
        warehouses = [k[1] for k in grouped]
        # create missing rows, then lock every touched row, both in canonical order
        self._execute(
            f"INSERT INTO levels ({LEVEL_COLUMNS}) SELECT s, w, 0, 0, 0, 0, 0 "
            "FROM unnest(?::text[], ?::text[]) AS k(s, w) ORDER BY s, w ON CONFLICT (sku, warehouse) DO NOTHING",
            (skus, warehouses),
        )
        self.get_levels(grouped)
        columns: dict[str, list[Any]] = {c: [] for c in ("on_hand", "safety", "booked", "incoming",
                                                         "expected_version", "lowers", "allow_negative")}
        refused_by_versions = []
        for key, group in grouped.items():
            for column in ("on_hand", "safety", "booked", "incoming"):
                columns[column].append(sum(getattr(c, column) for c in group))
            versions = {c.expected_version for c in group if c.expected_version is not None}
            if len(versions) > 1:
                refused_by_versions.append(key)
            columns["expected_version"].append(min(versions) if versions else None)
            columns["lowers"].append(columns["on_hand"][-1] - columns["safety"][-1] - columns["booked"][-1] < 0)
            columns["allow_negative"].append(any(c.allow_negative_available for c in group))
        for key in refused_by_versions:
            self._explain_refusal(key, grouped[key], at)
        rows = self._c.execute(_GUARDED_UPDATE, {"sku": skus, "warehouse": warehouses, "now": at, "max": MAX_QUANTITY, **columns}).fetchall()
        updated = {(r[0], r[1]): Level(*r) for r in rows}
        for key, group in grouped.items():
            if key not in updated:
                self._explain_refusal(key, group, at)
        self._append_ledger(changes, at, actor)
        return [updated[key] for key in grouped]

    def _append_ledger(self, changes: Sequence[Change], at: dt.datetime, actor: str | None) -> None:
        if not changes:
            return
        self._c.execute(
            "INSERT INTO ledger (kind, sku, warehouse, at, on_hand, safety, booked, incoming, reason, order_id, "
            "line_id, reference, actor) SELECT kind, sku, warehouse, %s, on_hand, safety, booked, incoming, reason, "
            "order_id, line_id, reference, %s FROM unnest(%s::text[], %s::text[], %s::text[], %s::bigint[], "
            "%s::bigint[], %s::bigint[], %s::bigint[], %s::text[], %s::text[], %s::text[], %s::text[]) "
            "WITH ORDINALITY AS c(kind, sku, warehouse, on_hand, safety, booked, incoming, reason, order_id, line_id, "
            "reference, n) ORDER BY n",
            (at, actor, [c.kind.value for c in changes], [c.sku for c in changes], [c.warehouse for c in changes],
             [c.on_hand for c in changes], [c.safety for c in changes], [c.booked for c in changes],
             [c.incoming for c in changes], [c.reason for c in changes], [c.order_id for c in changes],
             [c.line_id for c in changes], [c.reference for c in changes]),
        )

    def prune_ledger(self, before: dt.datetime) -> int:
        self._c.execute("SET LOCAL stockkit.pruning = 'on'")
        folded = self._fold_ledger(before)
        self._c.execute("SET LOCAL stockkit.pruning = 'off'")
        return folded

    def expired_holds(self, now: dt.datetime, limit: int) -> list[Booking]:
        # Lock the holds and their level rows, skipping any that another transaction holds
        # (a booking of the same stock, another sweep): the sweep never waits for them,
        # and its own level updates later in this transaction cannot wait either.
        columns = ", ".join(f"b.{c.strip()}" for c in BOOKING_COLUMNS.split(","))
        rows = self._all(
            f"SELECT {columns} FROM bookings b JOIN levels l ON l.sku = b.sku AND l.warehouse = b.warehouse "
            "WHERE b.expires_at <= ? ORDER BY b.expires_at, b.order_id, b.line_id, b.warehouse LIMIT ? "
            "FOR UPDATE OF b, l SKIP LOCKED",
            (now, limit),
        )
        return [_ROWS.booking(r) for r in rows]

    def get_idempotency(self, key: str) -> tuple[str, str] | None:
        # reserve the key: a concurrent call with it waits here until this one commits
        self._execute("SELECT pg_advisory_xact_lock(hashtextextended(?, 0))", (key,))
        return super().get_idempotency(key)


@hookimpl
def stockkit_register_backends(register: Callable[[str, BackendFactory], None]) -> None:
    """Serve ``postgresql://`` and ``postgres://`` URLs with :class:`PostgresStore`."""
    register("postgresql", PostgresStore)
    register("postgres", PostgresStore)
