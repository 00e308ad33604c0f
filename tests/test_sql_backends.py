"""What the SQL backends promise beyond the behaviour every backend shares: the database
itself keeps the ledger append-only and stock non-negative, verify() sees through the SQL
tables, URLs are read strictly, and the expiry sweep does not hold up bookings (batches
of their own transactions; on PostgreSQL ``FOR UPDATE SKIP LOCKED``)."""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

import stockkit
from stockkit.backends import postgres, sqlite
from stockkit.errors import StoreUnavailable, ValidationError
from stockkit.testing.backends import (
    REQUIRE_POSTGRES_ENV,
    postgres_required,
    postgres_unavailable_reason,
    temporary_postgres_schema,
)
from stockkit.testing.faults import FaultInjectingStore, injected


@pytest.fixture
def sql(backend: str, store_url: str) -> Iterator[Callable[[str], Any]]:
    """Run raw SQL on the store of the inventory under test (SQL backends only)."""
    if backend == "sqlite":
        path = sqlite.parse_url(store_url).path
        stockkit.open(store_url).close()  # create the schema

        def run(statement: str) -> Any:
            with sqlite3.connect(path, isolation_level=None) as connection:
                return connection.execute(statement).fetchall()

        yield run
    elif backend == "postgresql":
        import psycopg

        options = postgres.parse_url(store_url)
        stockkit.open(store_url).close()

        def run(statement: str) -> Any:
            with psycopg.connect(options.conninfo, autocommit=True) as connection:
                connection.execute(f'SET search_path TO "{options.schema}"')
                cursor = connection.execute(statement)
                return cursor.fetchall() if cursor.description else None

        yield run
    else:
        raise AssertionError(f"tests using raw SQL must be marked sql_only, not run on {backend}")


@contextmanager
def refused_by_the_database() -> Iterator[None]:
    import psycopg

    with pytest.raises((sqlite3.DatabaseError, psycopg.Error)):
        yield


def stock(inv: stockkit.Inventory) -> None:
    inv.create_warehouse("w", "W", latitude=1.0, longitude=2.0, active=True)
    inv.set_level("A", "w", on_hand=5)


@pytest.mark.sql_only
def test_the_database_refuses_to_change_a_ledger_entry(inv, sql):
    stock(inv)

    with refused_by_the_database():
        sql("UPDATE ledger SET on_hand = on_hand + 1")
    assert inv.verify().ok


@pytest.mark.sql_only
def test_the_database_refuses_to_delete_ledger_entries(inv, sql):
    stock(inv)

    with refused_by_the_database():
        sql("DELETE FROM ledger")
    assert len(inv.ledger()) == 1


@pytest.mark.sql_only
def test_the_database_refuses_negative_stock_even_from_raw_sql(inv, sql):
    stock(inv)

    with refused_by_the_database():
        sql("UPDATE levels SET on_hand = -1")
    assert inv.level("A", "w").on_hand == 5


@pytest.mark.sql_only
def test_the_database_refuses_an_active_warehouse_without_location(inv, sql):
    stock(inv)

    with refused_by_the_database():
        sql("UPDATE warehouses SET latitude = NULL")


@pytest.mark.sql_only
def test_verify_sees_a_level_changed_behind_stockkits_back(inv, sql):
    stock(inv)
    sql("UPDATE levels SET on_hand = 7")

    report = inv.verify()

    assert [(d.sku, d.warehouse, d.field, d.stored, d.expected) for d in report.discrepancies] == [
        ("A", "w", "on_hand", 7, 5)
    ]


@pytest.mark.sql_only
def test_pruning_is_the_one_way_entries_leave_the_ledger(inv, sql, clock):
    import datetime as dt

    stock(inv)
    inv.adjust("A", "w", 2, "found")
    clock.advance(dt.timedelta(days=400))
    inv.adjust("A", "w", 1, "found")

    assert inv.prune_ledger(dt.timedelta(days=365)) == 2

    assert [e.kind.value for e in inv.ledger()] == ["adjusted", "snapshot"]
    assert inv.verify().ok
    with refused_by_the_database():
        sql("DELETE FROM ledger")  # the pruning permission ended with its transaction


@pytest.mark.sql_only
def test_the_schema_version_is_recorded(inv, sql):
    from stockkit.backends.migrations import latest_version

    engine = "sqlite" if isinstance(inv.store, sqlite.SQLiteStore) else "postgresql"
    assert sql("SELECT max(version) FROM schema_version") == [(latest_version(engine),)]
    assert inv.store.schema_version == latest_version(engine)  # type: ignore[attr-defined]


@pytest.mark.parametrize("url, message", [
    ("sqlite://", "names no file"),
    ("sqlite:///shop.db?synchronous=SOMETIMES", "synchronous"),
    ("sqlite:///shop.db?busy_timeout=soon", "busy_timeout"),
    ("sqlite:///shop.db?migrate=maybe", "migrate"),
    ("sqlite:///shop.db?colour=blue", "unknown SQLite URL options"),
])
def test_a_malformed_sqlite_url_is_refused(url, message):
    with pytest.raises(ValidationError, match=message):
        sqlite.parse_url(url)


def test_sqlite_urls_name_relative_and_absolute_files():
    assert sqlite.parse_url("sqlite:///shop.db").path == "shop.db"
    assert sqlite.parse_url("sqlite:////var/lib/shop.db").path == "/var/lib/shop.db"
    assert sqlite.parse_url("sqlite:///shop.db?synchronous=normal").synchronous == "NORMAL"


@pytest.mark.parametrize("url, message", [
    ("postgresql://h/db?schema=Robert';DROP", "schema"),
    ("postgresql://h/db?isolation=chaos", "isolation"),
    ("postgresql://h/db?pool_max=many", "pool_max"),
    ("postgresql://h/db?migrate=maybe", "migrate"),
])
def test_a_malformed_postgres_url_is_refused(url, message):
    with pytest.raises(ValidationError, match=message):
        postgres.parse_url(url)


def test_postgres_options_are_taken_out_of_the_connection_string():
    options = postgres.parse_url("postgres://u@h:5433/db?schema=shop&isolation=serializable&sslmode=disable")

    assert (options.schema, options.isolation) == ("shop", "serializable")
    assert options.conninfo == "postgresql://u@h:5433/db?sslmode=disable"


def test_an_unreachable_postgres_server_is_store_unavailable():
    with pytest.raises(StoreUnavailable, match="PostgreSQL"):
        stockkit.open("postgresql://nobody@127.0.0.1:1/none?connect_timeout=2")


# -- the expiry sweep does not hold up bookings ----------------------------------------------


def _expired_holds(inv: stockkit.Inventory, clock: Any, skus: dict[str, int]) -> list[str]:
    """Holds of one unit each (``skus``: how many per SKU, the first SKU's expiring
    first), all expired by the time this returns, and fresh stock of SKU ``FRESH``; return
    the hold ids in the order they expire."""
    inv.create_warehouse("w", "W", latitude=1.0, longitude=2.0, active=True)
    inv.create_channel("web", "Web shop")
    inv.link_warehouse("web", "w")
    inv.set_level("FRESH", "w", on_hand=10)
    holds = []
    for sku, count in skus.items():
        inv.set_level(sku, "w", on_hand=count)
        for n in range(count):
            holds.append(f"h-{sku}-{n}")
            inv.hold(holds[-1], "web", [(sku, 1)], ttl=dt.timedelta(minutes=5))
            clock.advance(dt.timedelta(seconds=1))
    clock.advance(dt.timedelta(minutes=10))
    return holds


def _with_option(url: str, option: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}{option}"


class _BetweenBatches(FaultInjectingStore):
    """Calls ``between(n)`` before the ``n``-th write transaction (n >= 2): between two
    batches of a sweep."""

    def __init__(self, store: Any, between: Callable[[int], None]) -> None:
        super().__init__(store)
        self.between = between
        self.writes = 0

    @contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[Any]:
        if write:
            self.writes += 1
            if self.writes > 1:
                self.between(self.writes)
        with super().transaction(write=write) as tx:
            yield tx


@pytest.mark.sql_only
def test_the_sweep_commits_each_batch_and_lets_other_writers_in_between(inv, clock, backend, store_url):
    """Each batch is a transaction of its own that releases at most ``batch_size`` holds:
    between two batches another connection books at once (its lock or busy timeout is 1
    second, so it would fail if the sweep still held the database or the rows)."""
    holds = _expired_holds(inv, clock, {"A": 7})
    timeout = "busy_timeout=1000" if backend == "sqlite" else "lock_timeout=1000"
    other = stockkit.open(_with_option(store_url, timeout), clock=clock, autoload_plugins=False)
    seen = []

    def between(batch: int) -> None:
        seen.append(len(other.bookings("A", include_expired=True)))
        other.place_order(f"o{batch}", "web", [("FRESH", 1)])
        other.adjust("A", "w", 1, "counted during a sweep")

    try:
        with injected(inv, factory=lambda store, _: _BetweenBatches(store, between)):
            assert inv.sweep_expired_holds(batch_size=3) == len(holds)
    finally:
        other.close()
    assert seen == [4, 1], "a batch released more or fewer holds than batch_size, or did not commit"
    assert inv.bookings("A", include_expired=True) == []
    assert inv.level("FRESH", "w").booked == 2 and inv.level("A", "w").on_hand == 9
    assert inv.verify().ok


class _PausedSweep(FaultInjectingStore):
    """Stops the first batch of a sweep inside its transaction, right after it released
    its holds, until :attr:`resume` is set; :attr:`paused` is set while it waits."""

    def __init__(self, store: Any, fail_at: int | None = None) -> None:
        super().__init__(store)
        self.paused = threading.Event()
        self.resume = threading.Event()

    def _called(self, method: str) -> None:
        super()._called(method)
        if method == "delete_bookings" and not self.paused.is_set():
            self.paused.set()
            self.resume.wait(30)


@contextmanager
def _sweep_paused_in_its_first_batch(inv: stockkit.Inventory, batch_size: int) -> Iterator[list[int]]:
    """Run ``inv.sweep_expired_holds(batch_size=...)`` in a thread, paused inside its
    first batch's transaction for the ``with`` block; yield a list that gets the count
    it returns."""
    result: list[int] = []
    with injected(inv, factory=_PausedSweep) as store:
        thread = threading.Thread(target=lambda: result.append(inv.sweep_expired_holds(batch_size=batch_size)))
        thread.start()
        try:
            assert store.paused.wait(10), "the sweep did not reach its first batch"
            yield result
        finally:
            store.resume.set()
            thread.join(30)


def _postgres_inventory(url: str, clock: Any) -> stockkit.Inventory:
    # a lock wait of more than a second fails the call instead of passing unnoticed
    return stockkit.open(_with_option(url, "lock_timeout=1000"), clock=clock, autoload_plugins=False)


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A new, empty PostgreSQL store (skipped, or failed under STOCKKIT_REQUIRE_POSTGRES,
    without a server)."""
    reason = postgres_unavailable_reason()
    if reason is not None:
        if postgres_required():
            pytest.fail(f"{REQUIRE_POSTGRES_ENV} is set but {reason}")
        pytest.skip(reason)
    with temporary_postgres_schema() as url:
        yield url


@pytest.fixture
def pg_inv(pg_url: str, clock: Any) -> Iterator[stockkit.Inventory]:
    """An empty inventory on :func:`pg_url`."""
    inventory = stockkit.open(pg_url, clock=clock, autoload_plugins=False)
    yield inventory
    inventory.close()


def test_bookings_and_another_sweep_proceed_while_a_postgres_sweep_holds_a_batch(pg_inv, clock, pg_url):
    """A sweep stopped inside a batch holds the rows of that batch only: new bookings of
    other stock, and another sweep (which skips the locked holds), go ahead at once."""
    holds = _expired_holds(pg_inv, clock, {"A": 2, "B": 3})
    other = _postgres_inventory(pg_url, clock)
    try:
        with _sweep_paused_in_its_first_batch(pg_inv, batch_size=2) as first:
            started = time.monotonic()
            other.place_order("o1", "web", [("FRESH", 2)])
            other.hold("o2", "web", [("B", 1)], ttl=dt.timedelta(minutes=5))
            assert other.sweep_expired_holds() == 3  # the B holds; the A holds are the paused batch's
            assert time.monotonic() - started < 1, "a booking or the second sweep waited for the paused sweep"
            assert {b.order_id for b in other.bookings(include_expired=True)} == {*holds[:2], "o1", "o2"}
        assert first == [2]
    finally:
        other.close()
    assert {b.order_id for b in pg_inv.bookings(include_expired=True)} == {"o1", "o2"}
    assert pg_inv.verify().ok


def test_the_postgres_sweep_skips_holds_another_transaction_has_locked(pg_inv, clock, pg_url):
    """``FOR UPDATE SKIP LOCKED``: holds whose rows another transaction holds are left
    for a later sweep, without waiting for that transaction."""
    import psycopg

    holds = _expired_holds(pg_inv, clock, {"A": 5})
    options = postgres.parse_url(pg_url)
    with psycopg.connect(options.conninfo) as locker:  # a transaction, open until the block ends
        locker.execute(f'SET search_path TO "{options.schema}"')
        locker.execute("SELECT 1 FROM bookings WHERE order_id = %s FOR UPDATE", (holds[0],))
        sweeper = _postgres_inventory(pg_url, clock)
        try:
            started = time.monotonic()
            assert sweeper.sweep_expired_holds(batch_size=2) == 4
            assert time.monotonic() - started < 1, "the sweep waited for the locked hold"
        finally:
            sweeper.close()
        locker.rollback()
    assert [b.order_id for b in pg_inv.bookings(include_expired=True)] == [holds[0]]
    assert pg_inv.sweep_expired_holds() == 1
    assert pg_inv.verify().ok


def test_the_postgres_sweep_skips_holds_whose_stock_a_booking_is_changing(pg_inv, clock, pg_url):
    """A booking transaction holding a level row: the sweep leaves that level's holds for
    later instead of waiting, and releases the others."""
    import psycopg

    holds = _expired_holds(pg_inv, clock, {"A": 2, "B": 3})
    options = postgres.parse_url(pg_url)
    with psycopg.connect(options.conninfo) as booking:  # a transaction, open until the block ends
        booking.execute(f'SET search_path TO "{options.schema}"')
        booking.execute("SELECT 1 FROM levels WHERE sku = 'A' FOR UPDATE")
        sweeper = _postgres_inventory(pg_url, clock)
        try:
            started = time.monotonic()
            assert sweeper.sweep_expired_holds(batch_size=2) == 3
            assert time.monotonic() - started < 1, "the sweep waited for the booking's level row"
        finally:
            sweeper.close()
        booking.rollback()
    assert sorted(b.order_id for b in pg_inv.bookings(include_expired=True)) == sorted(holds[:2])
    assert pg_inv.sweep_expired_holds() == 2
    assert pg_inv.verify().ok
