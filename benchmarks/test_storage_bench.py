"""pytest-benchmark versions of the storage benchmarks (see storage.py for the workloads).

Not collected by the normal test run (pyproject's testpaths is ``tests``). Run::

    .venv/bin/python -m pytest benchmarks/ --benchmark-only
    STOCKKIT_BENCH_VERIFY_ENTRIES=100000 .venv/bin/python -m pytest benchmarks/ --benchmark-only -k verify

Nothing here asserts a time; the asserts only check that the work was done correctly.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from contextlib import ExitStack

import pytest

import stockkit
from stockkit.testing.backends import postgres_unavailable_reason

from storage import (  # benchmarks/ is on sys.path: pytest puts a test file's folder there
    HOT_SKU,
    PLENTY,
    build_ledger,
    make_shop,
    prepare_batch,
    run_processes,
    store_url,
)

SEED = 20240601
VERIFY_ENTRIES = int(os.environ.get("STOCKKIT_BENCH_VERIFY_ENTRIES", "1000000"))
BATCH_LINES = int(os.environ.get("STOCKKIT_BENCH_BATCH_LINES", "10000"))
PROCS = 8


def _backend(name: str) -> object:
    marks = []
    if name == "postgresql" and (reason := postgres_unavailable_reason()):
        marks.append(pytest.mark.skip(reason=reason))
    return pytest.param(name, marks=marks, id=name)


ALL = [_backend(b) for b in ("memory", "sqlite", "postgresql")]
SQL = [_backend(b) for b in ("sqlite", "postgresql")]


@pytest.fixture
def stores() -> Iterator[ExitStack]:
    with ExitStack() as stack:
        yield stack


@pytest.mark.parametrize("backend", ALL)
def test_single_booking(benchmark, backend: str, stores: ExitStack) -> None:
    """One one-line, one-unit order (distinct ids) per call, one process."""
    inv = stores.enter_context(stockkit.open(stores.enter_context(store_url(backend))))
    make_shop(inv)
    inv.set_level(HOT_SKU, "w0", on_hand=PLENTY)
    ids = itertools.count()
    benchmark(lambda: inv.place_order(f"o{next(ids)}", "web", [(HOT_SKU, 1)]))
    assert inv.verify().ok


@pytest.mark.parametrize("backend", SQL)
@pytest.mark.parametrize("stock", [PLENTY, 1_000], ids=["plenty", "sells-out"])
def test_hot_sku_processes(benchmark, backend: str, stock: int, stores: ExitStack) -> None:
    """8 spawned processes, 250 one-unit orders each on one SKU; one round is all 2,000."""
    url = stores.enter_context(store_url(backend, pool_max="4"))
    with stockkit.open(url) as inv:
        make_shop(inv)
        inv.set_level(HOT_SKU, "w0", on_hand=stock)
    result = benchmark.pedantic(run_processes, args=(url, PROCS), kwargs={"attempts": 250}, rounds=1)
    benchmark.extra_info.update(result)
    benchmark.extra_info["attempts_per_second"] = PROCS * 250 / result["wall_seconds"]
    with stockkit.open(url) as inv:
        assert inv.level(HOT_SKU, "w0").booked == result["booked"] == min(stock, PROCS * 250)
        assert inv.verify().ok


@pytest.mark.parametrize("backend", ALL)
def test_batch_order(benchmark, backend: str, stores: ExitStack) -> None:
    """One place_order of 10,000 lines over 2,000 SKUs x 3 warehouses (fresh store each round)."""
    rounds = iter(range(1000))

    def setup():  # type: ignore[no-untyped-def]
        inv = stores.enter_context(stockkit.open(stores.enter_context(store_url(backend))))
        return (inv, prepare_batch(inv, BATCH_LINES, 2_000, SEED + next(rounds))), {}

    placement = benchmark.pedantic(lambda inv, lines: inv.place_order("big", "web", lines),
                                   setup=setup, rounds=3, iterations=1)
    assert len(placement.order.lines) == BATCH_LINES


@pytest.mark.parametrize("backend", SQL)
def test_verify(benchmark, backend: str, stores: ExitStack) -> None:
    """verify() over STOCKKIT_BENCH_VERIFY_ENTRIES (default 1,000,000) ledger entries."""
    inv = stores.enter_context(stockkit.open(stores.enter_context(store_url(backend))))
    built = build_ledger(inv, VERIFY_ENTRIES, SEED)
    benchmark.extra_info.update(built)
    report = benchmark.pedantic(inv.verify, rounds=3, iterations=1)
    assert report.ok
    assert report.entries_checked >= VERIFY_ENTRIES
