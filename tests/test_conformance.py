"""The conformance suite of stockkit.testing, run against every built-in backend."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from hypothesis import settings

import stockkit
from stockkit.backends.sqlite import SQLiteStore
from stockkit.errors import UnknownBackend
from stockkit.model import Placement
from stockkit.store import Store
from stockkit.testing.backends import (
    REQUIRE_POSTGRES_ENV,
    postgres_required,
    postgres_unavailable_reason,
    temporary_postgres_schema,
)
from stockkit.testing.conformance import BackendConformance
from stockkit.testing.conformance.base import PLUGINS_ENV, open_inventory
from stockkit.testing.conformance.concurrency import ConcurrencyPromises
from stockkit.testing.conformance.rollback import RollbackPromises
from stockkit.testing.conformance.statemachine import StateMachinePromises
from stockkit.testing.conformance.workers import place_with_key, run_in_new_process


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


# -- a backend served by a plugin, as a third-party backend is -----------------------------


@stockkit.hookimpl
def stockkit_register_backends(register: Callable[[str, Callable[[str], Store]], None]) -> None:
    """This module is the plugin of a stand-in third-party backend: ``plugged:///path``
    URLs, served by the SQLite store."""
    register("plugged", lambda url: SQLiteStore("sqlite" + url.removeprefix("plugged")))


class TestPluginBackend(StateMachinePromises):
    """A backend that only a plugin knows runs the suite once the class names the plugin."""

    plugins = (__name__,)
    state_machine_settings = settings(max_examples=3, stateful_step_count=15, deadline=None)

    @pytest.fixture
    def new_store_url(self, tmp_path: Path) -> Iterator[Callable[[], str]]:
        count = iter(range(1_000_000))
        yield lambda: f"plugged:///{tmp_path / f'plugged-{next(count)}.db'}"


def test_the_suites_worker_processes_open_a_backend_served_by_a_plugin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"plugged:///{tmp_path / 'plugged.db'}"
    with pytest.raises(UnknownBackend):
        open_inventory(url)  # the suite loads no entry-point plugins
    monkeypatch.setenv(PLUGINS_ENV, __name__)
    with BackendConformance.opened(url) as inv:
        inv.create_warehouse("w", "W", latitude=1.0, longitude=2.0, active=True)
        inv.create_channel("web", "Web shop")
        inv.link_warehouse("web", "w")
        inv.set_level("A", "w", on_hand=3)
    placed = run_in_new_process(url, place_with_key, ("o1", "web", [("A", 2)], "k1"))
    assert isinstance(placed, Placement) and placed.order.order_id == "o1"
    with BackendConformance.opened(url) as inv:
        assert inv.level("A", "w").booked == 2


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
        for cls in ("TestMemory", "TestSQLite", "TestPostgreSQL", "TestPostgreSQLSerializable", "TestPluginBackend")
    )


def test_the_documented_test_module_of_a_backend_runs(tmp_path: Path) -> None:
    """The example of docs/storage.md, saved as a test module of its own, runs a part of
    the suite with pytest and passes."""
    page = (Path(__file__).resolve().parent.parent / "docs" / "storage.md").read_text(encoding="utf-8")
    section = page.split("## The conformance suite", 1)[1].split("\n## ", 1)[0]
    example = re.search(r"^```python\n(.*?)^```$", section, re.MULTILINE | re.DOTALL)
    assert example is not None, "docs/storage.md has no example test module in 'The conformance suite'"
    (tmp_path / "test_my_backend.py").write_text(example.group(1), encoding="utf-8")
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-k", "StateMachinePromises",
         "test_my_backend.py"],
        check=False, cwd=tmp_path, capture_output=True, text=True,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "1 passed" in run.stdout, run.stdout


def _modules_after(code: str) -> set[str]:
    """The top-level module names a fresh interpreter has imported after running ``code``."""
    run = subprocess.run([sys.executable, "-c", f"{code}\nimport sys\nprint(' '.join(sys.modules))"],
                         capture_output=True, text=True, check=True)
    return {name.split(".")[0] for name in run.stdout.split()}


def test_the_suites_worker_processes_import_neither_pytest_nor_hypothesis() -> None:
    """The crash tests start 40 writer processes each and the concurrency tests a pool:
    what those import is paid every time, so they import stockkit and no test framework."""
    imported = _modules_after("import stockkit.testing.conformance.crash_worker, stockkit.testing.conformance.workers")
    assert "stockkit" in imported
    assert not imported & {"pytest", "hypothesis", "_pytest"}, sorted(imported & {"pytest", "hypothesis", "_pytest"})


def test_the_testing_package_still_names_every_part_and_needs_hypothesis() -> None:
    """``stockkit.testing`` and its conformance package give their public names on first
    use, and without hypothesis importing ``stockkit.testing`` says what to install."""
    import stockkit.testing as testing
    import stockkit.testing.conformance as conformance

    for package in (testing, conformance):
        assert set(package.__all__) <= set(dir(package))
        for name in package.__all__:
            assert getattr(package, name) is not None, name
        with pytest.raises(AttributeError, match="no attribute 'nothing_here'"):
            package.nothing_here  # noqa: B018
    assert issubclass(conformance.BackendConformance, conformance.CrashPromises)
    refused = subprocess.run(
        [sys.executable, "-c", "import sys\nsys.modules['hypothesis'] = None\nimport stockkit.testing"],
        capture_output=True, text=True, check=False,
    )
    assert refused.returncode != 0 and "ImportError" in refused.stderr and "stockkit[test]" in refused.stderr, \
        refused.stderr
