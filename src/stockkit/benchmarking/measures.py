"""Timing the allocation engine, the per-line loop and the bandwidth bound side by side.

:func:`run` generates one workload per topology (:mod:`stockkit.benchmarking.workload`),
and for each fill mode times

- the **engine**, :func:`stockkit.engine.allocate_arrays` on every line with each
  kernel (numpy alone, and numba when it is installed), ``repeats`` times, or fewer once its runs have taken ``engine_budget`` seconds in all (the median
  is the figure), after one run of its own (``first_seconds``): the first call of a
  process at a size faults in the memory its arrays take, two to four times the time of
  the calls after it, and the figure is the engine's steady pace;
- the **per-line loop**, the sequential oracle of :mod:`stockkit.testing.allocation_oracle`
  (the definition of the result), once, on the first whole orders holding at most
  ``loop_lines`` lines against the full stock, fewer when a probe on the first 1,000 lines
  says that would take more than ``loop_budget`` seconds; when that is fewer than every
  line, its time is scaled to all lines (``loop_scaled`` says so): its time on the first
  order alone (a fixed cost: indexing the stock) plus the rest scaled linearly. The engine's
  result on the same lines is compared with the loop's, array for array (``exact``);
- the **bound**, the bytes the engine reads and writes divided by the machine's copy
  bandwidth (:mod:`stockkit.benchmarking.bandwidth`).

With ``warm_orders``, it also times placing single orders of 1-10 lines one after another
on a warm index of the workload's stock (:class:`stockkit.engine.StockIndex`, booking
each order's units off the index).

The per-line loop lives with the test helpers, which need hypothesis (the ``test``
extra). Nothing is printed: ``progress`` is called with a label before each step.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import attrs
import numpy as np

import stockkit
from stockkit.benchmarking.bandwidth import bound_seconds, copy_bandwidth, traffic_bytes
from stockkit.benchmarking.workload import TOPOLOGIES, Workload, generate, small_orders

__all__ = ["FILLS", "Measure", "Run", "Settings", "WarmMeasure", "kernels", "machine_info", "run", "step_count"]

_PROBE_LINES = 1_000  # the per-line loop's time on this many lines predicts its time on more

#: The fill modes measured: ``Fill`` values of the engine's policy.
FILLS = ("partial", "line", "order")


@attrs.frozen
class Settings:
    """What :func:`run` measures: the workload's sizes and seed, the topologies, fill
    modes and engine kernels (``allocate_arrays(kernel=...)``; ``None``: ``numpy``, plus
    ``numba`` when it is installed), how often the engine runs (``repeats``, fewer once its runs took
    ``engine_budget`` seconds), how many lines the per-line loop gets at most
    (``None``: all) and about how many seconds it may take per measure (``loop_budget``:
    fewer lines when a probe on 1,000 lines says it would take longer), how many single
    orders the warm measure places (0: none), and the threads the engine may use
    (``allocate_arrays(threads=...)``; ``None``: every core, at most 8)."""

    lines: int
    skus: int
    warehouses: int
    channels: int
    topologies: tuple[str, ...] = TOPOLOGIES
    fills: tuple[str, ...] = FILLS
    kernels: tuple[str, ...] | None = None
    repeats: int = 3
    engine_budget: float = 60.0
    seed: int = 0
    loop_lines: int | None = 100_000
    loop_budget: float = 10.0
    warm_orders: int = 200
    threads: int | None = None


@attrs.frozen
class Measure:
    """One topology, fill mode and kernel: the engine, the per-line loop and the bound.

    Times are in seconds; ``first_seconds`` is the engine's first run on every line, left out
    of the median (it faults in fresh memory); ``loop_seconds`` is for every line: when ``loop_scaled``, the
    loop's time on its first order alone (``loop_fixed_seconds``: indexing the stock)
    plus the rest of ``loop_measured_seconds`` on ``loop_lines`` lines, scaled linearly.
    """

    topology: str
    fill: str
    kernel: str
    lines: int
    orders: int
    records: int
    unfilled_share: float
    engine_seconds: float
    engine_samples: tuple[float, ...]
    first_seconds: float
    loop_lines: int
    loop_measured_seconds: float
    loop_fixed_seconds: float
    loop_seconds: float
    loop_scaled: bool
    exact: bool
    traffic_bytes: int
    bound_seconds: float

    @property
    def speedup(self) -> float:
        """How many times faster the engine is than the per-line loop."""
        return self.loop_seconds / self.engine_seconds

    @property
    def bound_ratio(self) -> float:
        """The engine's time over the bandwidth bound (1 would be a perfect engine)."""
        return self.engine_seconds / self.bound_seconds

    def to_dict(self) -> dict[str, Any]:
        """The fields and the two ratios, for JSON."""
        return {**attrs.asdict(self), "speedup": self.speedup,
                "bound_ratio": self.bound_ratio}


@attrs.frozen
class WarmMeasure:
    """Single orders placed one after another on a warm index of a topology's stock."""

    topology: str
    orders: int
    median_seconds: float
    p99_seconds: float

    def to_dict(self) -> dict[str, Any]:
        """The fields, for JSON."""
        return attrs.asdict(self)


@attrs.frozen
class Run:
    """Everything one :func:`run` measured, with the machine it ran on."""

    settings: Settings
    machine: dict[str, Any]
    measures: tuple[Measure, ...]
    warm: tuple[WarmMeasure, ...]
    warm_skipped: str | None
    generate_seconds: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready document of the run."""
        return {"machine": self.machine, "settings": attrs.asdict(self.settings),
                "generate_seconds": self.generate_seconds, "results": [m.to_dict() for m in self.measures],
                "warm_single_order": [w.to_dict() for w in self.warm], "warm_skipped": self.warm_skipped}


def machine_info(bandwidth: float, threads: int | None = None) -> dict[str, Any]:
    """The machine and software a run measured: cores, CPU, numpy, Python, bandwidth, and
    the threads the engine uses (``allocate_arrays(threads=threads)``)."""
    from stockkit.engine.threads import thread_count

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            cpu = next((line.split(":", 1)[1].strip() for line in info if line.startswith("model name")), cpu)
    except OSError:
        pass
    return {
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "cores": os.cpu_count(),
        "cpu": cpu,
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "stockkit": stockkit.__version__,
        "copy_bandwidth_bytes_per_second": bandwidth,
        "engine_threads": thread_count(threads),
    }


def kernels(settings: Settings) -> tuple[str, ...]:
    """The engine kernels ``settings`` measures."""
    if settings.kernels is not None:
        return settings.kernels
    from stockkit.engine.api import available_kernels

    return ("numpy", "numba") if "numba" in available_kernels() else ("numpy",)


def step_count(settings: Settings) -> int:
    """How many times :func:`run` calls ``progress``."""
    per_fill = 1 + len(kernels(settings))
    return 1 + len(settings.topologies) * (1 + per_fill * len(settings.fills) + (1 if settings.warm_orders else 0))


def run(settings: Settings, progress: Callable[[str], None] = lambda label: None) -> Run:
    """Measure every topology and fill mode of ``settings`` (see the module docstring)."""
    oracle = _oracle()
    progress("memory bandwidth")
    bandwidth = copy_bandwidth()
    measures, warm, generated = [], [], {}
    warm_skipped = None if settings.warm_orders else "not asked for: warm_orders=0"
    for topology in settings.topologies:
        progress(f"{topology}: generating {settings.lines:,} lines")
        start = time.perf_counter()
        workload = generate(settings.lines, settings.skus, settings.warehouses, settings.channels,
                            topology=topology, seed=settings.seed)
        generated[topology] = time.perf_counter() - start
        head = workload.head(settings.loop_lines) if settings.loop_lines else workload
        for fill in settings.fills:
            loop = _loop(workload, head, fill, settings.loop_budget, oracle, progress)
            for kernel in kernels(settings):
                measures.append(_measure(workload, fill, kernel, loop, settings, bandwidth, progress))
        if settings.warm_orders:
            progress(f"{topology}: {settings.warm_orders} single orders on a warm index")
            warm.append(WarmMeasure(topology, settings.warm_orders, *_warm(workload, settings.warm_orders,
                                                                          settings.seed)))
    return Run(settings=settings, machine=machine_info(bandwidth, settings.threads), measures=tuple(measures), warm=tuple(warm),
               warm_skipped=warm_skipped, generate_seconds=generated)


class _Loop(NamedTuple):
    """The per-line loop's run for one fill mode: the lines it ran on, its result and
    time, and its time on the first order alone (its fixed cost: indexing the stock)."""

    head: Workload
    result: Any
    seconds: float
    fixed_lines: int
    fixed_seconds: float

    def scaled(self, lines: int) -> float:
        """Its time on ``lines`` lines: the fixed cost plus the rest scaled linearly."""
        if lines == self.head.n_lines:
            return self.seconds
        per_line = max(self.seconds - self.fixed_seconds, 0.0) / max(self.head.n_lines - self.fixed_lines, 1)
        return self.fixed_seconds + per_line * (lines - self.fixed_lines)


def _loop(workload: Workload, head: Workload, fill: str, budget: float, oracle: Callable[..., Any],
          progress: Callable[[str], None]) -> _Loop:
    """The per-line loop on ``head``, or on fewer lines when a probe says it would take
    more than ``budget`` seconds, and on the first order alone."""
    from stockkit.engine import Fill

    policy = workload.policy(fill=Fill(fill))
    progress(f"{workload.topology}/{fill}: per-line loop")
    first = workload.head(1)
    _, (fixed,) = _timed(lambda: oracle(**first.kwargs(), policy=policy), 1)
    probe = workload.head(min(_PROBE_LINES, head.n_lines))
    expected, (seconds,) = _timed(lambda: oracle(**probe.kwargs(), policy=policy), 1)
    per_line = max(seconds - fixed, 1e-9) / max(probe.n_lines - first.n_lines, 1)
    affordable = int(max(budget - fixed, 0.0) / per_line)
    if head.n_lines > affordable:
        head = workload.head(max(affordable, probe.n_lines))
    if head.n_lines != probe.n_lines:
        expected, (seconds,) = _timed(lambda: oracle(**head.kwargs(), policy=policy), 1)
    else:
        head = probe
    return _Loop(head, expected, seconds, first.n_lines, fixed)


def _measure(workload: Workload, fill: str, kernel: str, loop: _Loop, settings: Settings,
             bandwidth: float, progress: Callable[[str], None]) -> Measure:
    """The engine with ``kernel`` on every line and on the loop's lines, against the loop
    and the bound, for one fill mode."""
    from stockkit.engine import Fill, allocate_arrays

    head = loop.head
    policy = workload.policy(fill=Fill(fill))
    progress(f"{workload.topology}/{fill}: engine ({kernel}) x{settings.repeats}")
    # the loop's lines first, untimed: what they get is checked against the loop, and the
    # call loads a compiled kernel (numba's cache: 0.4 s), which no timed call then pays
    got = allocate_arrays(**head.kwargs(), policy=policy, kernel=kernel, threads=settings.threads)
    # then one run on every line, kept apart: it faults in the memory of arrays of this
    # size (in this run's sizes, 2-4x the time of a later call), a cost a process pays once
    whole = lambda: allocate_arrays(**workload.kwargs(), policy=policy, kernel=kernel,  # noqa: E731
                                    threads=settings.threads)
    _, (first,) = _timed(whole, 1)
    result, samples = _timed(whole, settings.repeats, settings.engine_budget)
    nbytes = traffic_bytes(workload.kwargs(), result)
    return Measure(
        topology=workload.topology, fill=fill, kernel=kernel, lines=workload.n_lines, orders=workload.n_orders,
        records=len(result.record_line),
        unfilled_share=float(result.line_unfilled.sum() / workload.line_quantity.sum()),
        engine_seconds=statistics.median(samples), engine_samples=tuple(samples), first_seconds=first,
        loop_lines=head.n_lines,
        loop_measured_seconds=loop.seconds, loop_fixed_seconds=loop.fixed_seconds,
        loop_seconds=loop.scaled(workload.n_lines), loop_scaled=head.n_lines < workload.n_lines,
        exact=_same(got, loop.result),
        traffic_bytes=nbytes, bound_seconds=bound_seconds(nbytes, bandwidth))


def _oracle() -> Callable[..., Any]:
    """The sequential per-line loop (the engine's definition), or a clear ImportError."""
    try:
        from stockkit.testing.allocation_oracle import allocate_oracle
    except ImportError as exc:
        raise ImportError(f"the per-line loop (stockkit.testing.allocation_oracle) could not be imported: {exc}; "
                          "it needs the test extra: pip install 'stockkit[test]'") from exc
    return allocate_oracle


def _timed(call: Callable[[], Any], repeats: int, budget: float = math.inf) -> tuple[Any, list[float]]:
    """The last result of ``call`` and the duration of each of ``repeats`` calls (fewer,
    at least one, once they have taken ``budget`` seconds). Each result is let go of
    before the next call, as a process placing wave after wave would: a call made while
    the last one's arrays are still held lands on memory the process has not used
    before, which the system must fault in (on a virtual machine whose host backs memory
    on first touch, up to twice the engine's time)."""
    samples: list[float] = []
    result = None
    while len(samples) < max(repeats, 1) and sum(samples) < budget:
        result = None
        start = time.perf_counter()
        result = call()
        samples.append(time.perf_counter() - start)
    return result, samples


def _same(got: Sequence[np.ndarray], expected: Sequence[np.ndarray]) -> bool:
    """Whether two AllocationArrays hold equal arrays."""
    return len(got) == len(expected) and all(np.array_equal(a, b) for a, b in zip(got, expected, strict=True))


def _warm(workload: Workload, count: int, seed: int) -> tuple[float, float]:
    """(median, p99) seconds of booking ``count`` single orders one after another on a
    :class:`stockkit.engine.StockIndex` of ``workload``'s stock."""
    from stockkit.engine import StockIndex

    index = StockIndex(**{name: value for name, value in workload.kwargs().items() if not name.startswith("line_")})
    policy = workload.policy()
    samples = []
    for order in small_orders(workload, count, seed=seed):
        start = time.perf_counter()
        index.allocate(**order, policy=policy, book=True)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples), float(np.percentile(samples, 99))
