"""Running independent parts of a kernel on several cores: :func:`run_parts`.

The compiled loops release the GIL (numba's ``nogil``), and numpy does in its own loops,
so Python threads run them side by side. One pool of threads serves every call of the process; the calling thread runs the
first part itself. A process forked from one that used the pool starts a pool of its own
(threads do not survive a fork).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

import numpy as np

__all__ = ["MAX_THREADS", "PARALLEL_FROM_LINES", "POOL_THREADS", "available_cores", "chunks", "run_calls", "run_parts",
           "thread_count"]

#: the most threads :func:`thread_count` gives by default, whatever the cores
MAX_THREADS = 8

#: the most threads :func:`thread_count` gives when asked for more (the pool's size)
POOL_THREADS = 4 * MAX_THREADS

#: waves of fewer lines run in one thread: handing a part to another costs tens of
#: microseconds, more than it saves below this
PARALLEL_FROM_LINES = 50_000

_P = TypeVar("_P")
_R = TypeVar("_R")

_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None
_pool_pid = 0


def available_cores() -> int:
    """How many cores this process may run on (its CPU affinity where the system says)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:      # pragma: no cover - not on Linux
        return os.cpu_count() or 1


def thread_count(threads: int | None) -> int:
    """The threads a kernel uses when asked for ``threads``: that many, at most
    :data:`POOL_THREADS`, or with ``None`` the cores this process may run on, at most
    :data:`MAX_THREADS`."""
    return min(available_cores(), MAX_THREADS) if threads is None else min(threads, POOL_THREADS)


def _executor() -> ThreadPoolExecutor:
    global _pool, _pool_pid
    with _lock:
        if _pool is None or _pool_pid != os.getpid():
            # threads are started as parts need them, and kept for the next call
            _pool = ThreadPoolExecutor(max_workers=POOL_THREADS, thread_name_prefix="stockkit-engine")
            _pool_pid = os.getpid()
        return _pool


def run_parts(call: Callable[[_P], _R], parts: Sequence[_P]) -> list[_R]:
    """``[call(p) for p in parts]``, the parts side by side: the first in the calling
    thread, the others in the pool's. Every part has ended when this returns or raises
    (the parts write into shared arrays); an exception of a part is raised, the first
    part's first. Where the pool takes no more work (the interpreter is shutting down),
    the parts it did not take run one after another in the calling thread."""
    if len(parts) <= 1:
        return [call(p) for p in parts]
    futures: list[Future[_R]] = []
    try:
        for p in parts[1:]:
            futures.append(_executor().submit(call, p))
    except RuntimeError:        # "cannot schedule new futures after interpreter shutdown"
        pass
    try:
        first = call(parts[0])
        inline = [call(p) for p in parts[1 + len(futures):]]
    finally:
        for f in futures:
            f.exception()       # waits
    return [first, *(f.result() for f in futures), *inline]


def run_calls(calls: Sequence[Callable[[], _R]], side_by_side: bool = True) -> list[_R]:
    """``[c() for c in calls]``, side by side (:func:`run_parts`) when ``side_by_side``."""
    return run_parts(lambda call: call(), calls) if side_by_side else [call() for call in calls]


def chunks(n: int, threads: int) -> list[tuple[int, int]]:
    """``n`` items cut into ``threads`` runs of nearly equal length, as ``(start, end)``
    (one run below :data:`PARALLEL_FROM_LINES` items, and for none)."""
    cut = n >= max(PARALLEL_FROM_LINES, 1)
    bounds = np.linspace(0, n, max(threads, 1) + 1 if cut else 2).astype(np.int64).tolist()
    return list(zip(bounds[:-1], bounds[1:], strict=True))
