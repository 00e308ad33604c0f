"""pytest-benchmark suite of the allocation engine, on the workloads of
:mod:`stockkit.benchmarking.workload` (see docs/benchmarks.md).

Not collected by the normal test run (pyproject's testpaths is ``tests``). Run::

    .venv/bin/python -m pytest benchmarks/test_engine_bench.py --benchmark-only
    STOCKKIT_BENCH_SIZE=S .venv/bin/python -m pytest benchmarks/test_engine_bench.py --benchmark-only
    STOCKKIT_BENCH_10M=1 .venv/bin/python -m pytest benchmarks/test_engine_bench.py --benchmark-only -k ten_million

``STOCKKIT_BENCH_SIZE`` picks the workload (XS, S, M, L; default M, the issue's 1,000,000
lines); ``STOCKKIT_BENCH_LOOP_LINES`` (default 100,000) how many lines the per-line loop
runs on, scaled linearly to every line in the derived figures printed at the end, with
the bandwidth bound and the peak memory per line. Nothing asserts a time; the asserts
check that the work was done right (units conserved, engine equal to the loop).
"""

from __future__ import annotations

import functools
import os
import time
import tracemalloc

import numpy as np
import pytest

from stockkit.benchmarking.bandwidth import bound_seconds, copy_bandwidth, traffic_bytes
from stockkit.benchmarking.workload import (
    SIZES,
    TOPOLOGIES,
    Workload,
    generate,
    small_orders,
)
from stockkit.engine import AllocationArrays, Fill, StockIndex, allocate_arrays
from stockkit.engine.api import available_kernels
from stockkit.testing.allocation_oracle import allocate_oracle

SEED = 20240601
SIZE = os.environ.get("STOCKKIT_BENCH_SIZE", "M")
LOOP_LINES = int(os.environ.get("STOCKKIT_BENCH_LOOP_LINES", "100000"))
TEN_MILLION = os.environ.get("STOCKKIT_BENCH_10M") == "1"
FILLS = [Fill.PARTIAL, Fill.LINE, Fill.ORDER]
KERNELS = ["numpy", "numba"] if "numba" in available_kernels() else ["numpy"]


@functools.cache
def workload(topology: str, size: str = SIZE) -> Workload:
    """One workload per topology and size, generated once per run."""
    return generate(**SIZES[size], topology=topology, seed=SEED)


@pytest.fixture(scope="session")
def bandwidth() -> float:
    return copy_bandwidth()


def run_engine(w: Workload, fill: Fill = Fill.PARTIAL, kernel: str = "numpy") -> AllocationArrays:
    return allocate_arrays(**w.kwargs(), policy=w.policy(fill=fill), kernel=kernel)


def assert_units_conserved(w: Workload, result: AllocationArrays) -> None:
    """Every line's units are either allocated or unfilled (no back orders here), and no
    stock record gives more than it holds."""
    given = np.bincount(result.record_line, weights=result.record_quantity, minlength=w.n_lines)
    np.testing.assert_array_equal(given + result.line_unfilled, w.line_quantity)
    assert not result.record_backorder.any()
    taken = np.bincount(result.record_warehouse * w.n_skus + w.line_sku[result.record_line],
                        weights=result.record_quantity, minlength=w.n_warehouses * w.n_skus)
    held = np.bincount(w.stock_warehouse * w.n_skus + w.stock_sku, weights=w.stock_available,
                       minlength=w.n_warehouses * w.n_skus)
    assert (taken <= held).all()


def note_bound(benchmark, bench_note, w: Workload, result: AllocationArrays, bandwidth: float, label: str) -> None:
    nbytes = traffic_bytes(w.kwargs(), result)
    bound = bound_seconds(nbytes, bandwidth)
    median = benchmark.stats.stats.median
    benchmark.extra_info.update(lines=w.n_lines, traffic_bytes=nbytes, bandwidth=bandwidth, bound_seconds=bound,
                                bound_ratio=median / bound)
    bench_note(f"{label}: engine {median * 1e3:,.1f} ms for {w.n_lines:,} lines; bandwidth bound "
               f"{bound * 1e3:,.2f} ms ({nbytes / 1e6:,.1f} MB at {bandwidth / 1e9:.1f} GB/s): "
               f"{median / bound:,.1f} x bound")


@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize("topology", TOPOLOGIES)
def test_engine(benchmark, bench_note, bandwidth, topology, kernel):
    """The engine on every line of the workload, partial fill, numpy alone and (when
    installed) numba."""
    w = workload(topology)
    result = benchmark.pedantic(run_engine, args=(w, Fill.PARTIAL, kernel), rounds=5, iterations=1,
                                warmup_rounds=1)
    assert_units_conserved(w, result)
    note_bound(benchmark, bench_note, w, result, bandwidth, f"{topology}/partial/{kernel}")


@pytest.mark.parametrize("topology", TOPOLOGIES)
def test_per_line_loop(benchmark, bench_note, topology):
    """The sequential oracle on the first whole orders of at most LOOP_LINES lines (full
    stock), once; the derived figure scales it to every line (its fixed cost, timed on the
    first order alone, plus the rest scaled linearly)."""
    w = workload(topology)
    head = w.head(LOOP_LINES)
    policy = w.policy()
    expected = benchmark.pedantic(lambda: allocate_oracle(**head.kwargs(), policy=policy), rounds=1, iterations=1)
    got = run_engine(head)
    for name, a, b in zip(AllocationArrays._fields, got, expected, strict=True):
        np.testing.assert_array_equal(a, b, err_msg=f"engine and loop differ in {name}")
    measured = benchmark.stats.stats.median
    first = w.head(1)  # the loop's fixed cost (indexing the stock) is its time on the first order alone
    start = time.perf_counter()
    allocate_oracle(**first.kwargs(), policy=policy)
    fixed = time.perf_counter() - start
    scaled = fixed + max(measured - fixed, 0.0) * (w.n_lines - first.n_lines) / max(head.n_lines - first.n_lines, 1)
    benchmark.extra_info.update(measured_lines=head.n_lines, all_lines=w.n_lines, fixed_seconds=fixed,
                                scaled_seconds=scaled)
    bench_note(f"{topology}/partial: per-line loop {measured:,.2f} s on {head.n_lines:,} lines, of which "
               f"{fixed:,.2f} s fixed; scaled linearly to {w.n_lines:,} lines: ~{scaled:,.1f} s")


@pytest.mark.parametrize("fill", FILLS, ids=lambda f: f.value)
@pytest.mark.parametrize("topology", TOPOLOGIES)
def test_fill_mode(benchmark, bench_note, bandwidth, topology, fill):
    """The engine (numpy alone) with each fill mode (partial, all-or-nothing per line, per order)."""
    w = workload(topology)
    result = benchmark.pedantic(run_engine, args=(w, fill), rounds=3, iterations=1, warmup_rounds=1)
    assert_units_conserved(w, result)
    note_bound(benchmark, bench_note, w, result, bandwidth, f"{topology}/{fill.value}/numpy")


@pytest.mark.parametrize("topology", TOPOLOGIES)
def test_warm_single_order(benchmark, topology):
    """One order of 1-10 lines booked on a warm StockIndex of the workload's stock, one
    after another."""
    w = workload(topology)
    index = StockIndex(**{k: v for k, v in w.kwargs().items() if not k.startswith("line_")})
    policy = w.policy()
    orders = iter(small_orders(w, 200_000, seed=SEED))
    before = int(index.stock_arrays()["stock_available"].sum())
    benchmark.pedantic(lambda: index.allocate(**next(orders), policy=policy, book=True), rounds=2_000,
                       iterations=1, warmup_rounds=10)
    after = index.stock_arrays()["stock_available"]
    assert int(after.sum()) < before and (after >= 0).all()


@pytest.mark.skipif(not TEN_MILLION, reason="opt-in: set STOCKKIT_BENCH_10M=1 (10,000,000 lines, several GB)")
@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize("topology", TOPOLOGIES)
def test_ten_million_lines(benchmark, bench_note, bandwidth, topology, kernel):
    """Workload L (10,000,000 lines, 1,000,000 SKUs, 1,000 warehouses) after a warm-up run
    (the first faults in the arrays' memory), and the engine's peak memory per line,
    traced in a separate, untimed call."""
    w = workload(topology, "L")
    result = benchmark.pedantic(run_engine, args=(w, Fill.PARTIAL, kernel), rounds=2, iterations=1,
                                warmup_rounds=1)
    assert_units_conserved(w, result)
    note_bound(benchmark, bench_note, w, result, bandwidth, f"L {topology}/partial/{kernel}")
    del result
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        run_engine(w, Fill.PARTIAL, kernel)
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
    benchmark.extra_info["peak_bytes_per_line"] = peak / w.n_lines
    bench_note(f"L {topology}/partial/{kernel}: peak memory {peak / 2**20:,.0f} MiB above the inputs, "
               f"{peak / w.n_lines:,.1f} bytes per line (result included)")
