"""The conformance suite of stockkit.testing, run against every built-in backend."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from stockkit.testing.backends import (
    REQUIRE_POSTGRES_ENV,
    postgres_required,
    postgres_unavailable_reason,
    temporary_postgres_schema,
)
from stockkit.testing.conformance import BackendConformance
from stockkit.testing.conformance.concurrency import ConcurrencyPromises
from stockkit.testing.conformance.rollback import RollbackPromises
from stockkit.testing.conformance.statemachine import StateMachinePromises


class TestMemory(ConcurrencyPromises, RollbackPromises, StateMachinePromises):
    """The memory store keeps nothing once its process ends, so the crash promises do
    not apply to it; its concurrency promises run on threads."""

    shared_between_processes = False
    durable = False

    @pytest.fixture
    def new_store_url(self, tmp_path: Path) -> Iterator[Callable[[], str]]:
        yield lambda: "memory://"


class TestSQLite(BackendConformance):
    @pytest.fixture
    def new_store_url(self, tmp_path: Path) -> Iterator[Callable[[], str]]:
        count = iter(range(1_000_000))
        yield lambda: f"sqlite:///{tmp_path / f'conformance-{next(count)}.db'}"


def _require_postgres() -> None:
    reason = postgres_unavailable_reason()
    if reason is not None:
        if postgres_required():
            pytest.fail(f"{REQUIRE_POSTGRES_ENV} is set but {reason}")
        pytest.skip(reason)


class TestPostgreSQL(BackendConformance):
    isolation = "read_committed"

    @pytest.fixture
    def new_store_url(self, tmp_path: Path) -> Iterator[Callable[[], str]]:
        _require_postgres()
        with ExitStack() as stack:
            yield lambda: stack.enter_context(temporary_postgres_schema(isolation=self.isolation, pool_max="4"))


class TestPostgreSQLSerializable(TestPostgreSQL):
    """SERIALIZABLE is what CockroachDB and YugabyteDB run; the promises hold there too."""

    isolation = "serializable"


def test_one_part_of_the_suite_is_selected_by_its_class_name() -> None:
    """``-k <part>`` picks that part's tests in every backend's class, and only them."""
    collected = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
         "-k", "StateMachinePromises", __file__],
        capture_output=True, text=True, check=True,
    ).stdout.splitlines()
    tests = [line.split("::", 1)[1] for line in collected if "::" in line]
    assert sorted(tests) == sorted(
        f"{cls}::test_random_operation_sequences_agree_with_the_model"
        for cls in ("TestMemory", "TestSQLite", "TestPostgreSQL", "TestPostgreSQLSerializable")
    )
