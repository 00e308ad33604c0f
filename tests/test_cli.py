"""The command line: ``stockkit migrate``."""

from __future__ import annotations

import sqlite3

import pytest

from stockkit.backends.migrations import latest_version
from stockkit.cli import main


def test_migrate_creates_the_schema_of_a_new_sqlite_file(tmp_path, capsys):
    path = tmp_path / "shop.db"

    assert main(["migrate", f"sqlite:///{path}?migrate=false"]) == 0

    assert f"schema at version {latest_version('sqlite')}" in capsys.readouterr().out
    with sqlite3.connect(path) as connection:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"levels", "ledger", "bookings", "schema_version"} <= tables


def test_migrate_twice_changes_nothing(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    main(["migrate", url])

    assert main(["migrate", url]) == 0
    assert f"schema at version {latest_version('sqlite')}" in capsys.readouterr().out


def test_migrate_says_a_memory_store_has_no_schema(capsys):
    assert main(["migrate", "memory://"]) == 0
    assert "nothing to migrate" in capsys.readouterr().out


def test_migrate_reports_an_unknown_scheme_as_an_error(capsys):
    assert main(["migrate", "nosuch://x"]) == 1
    assert "no storage backend is registered for nosuch://" in capsys.readouterr().err


def test_opening_an_unmigrated_file_with_migrate_false_is_refused(tmp_path):
    import stockkit
    from stockkit.errors import StoreUnavailable

    with pytest.raises(StoreUnavailable, match="stockkit migrate"):
        stockkit.open(f"sqlite:///{tmp_path / 'new.db'}?migrate=false")
