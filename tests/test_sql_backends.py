"""What the SQL backends promise beyond the behaviour every backend shares: the database
itself keeps the ledger append-only and stock non-negative, verify() sees through the SQL
tables, and URLs are read strictly."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

import stockkit
from stockkit.backends import postgres, sqlite
from stockkit.errors import StoreUnavailable, ValidationError


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
