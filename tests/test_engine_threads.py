"""Running a kernel's parts side by side (stockkit.engine.threads): results in the parts'
order, every part ended before an error is raised, a pool of its own in a forked child,
the default thread count, and threads asking for the compiled loop first at once."""

from __future__ import annotations

import multiprocessing
import subprocess
import sys
import threading
import time

import pytest

from stockkit.engine import threads
from stockkit.engine.threads import MAX_THREADS, available_cores, run_parts, thread_count


def test_parts_run_side_by_side_and_results_come_in_their_order() -> None:
    names: dict[int, str] = {}

    def part(k: int) -> int:
        names[k] = threading.current_thread().name
        return k * k

    assert run_parts(part, range(4)) == [0, 1, 4, 9]
    assert names[0] == threading.current_thread().name      # the first part runs in the caller
    assert all(names[k].startswith("stockkit-engine") for k in (1, 2, 3))
    assert run_parts(part, []) == [] and run_parts(part, [3]) == [9]


def test_a_failing_part_is_raised_only_once_every_part_has_ended() -> None:
    ended: list[int] = []

    def part(k: int) -> None:
        if k == 0:
            raise ValueError("first part failed")
        time.sleep(0.05)
        ended.append(k)

    with pytest.raises(ValueError, match="first part failed"):
        run_parts(part, range(3))
    assert sorted(ended) == [1, 2]

    def later_fails(k: int) -> None:
        if k == 2:
            raise KeyError(k)

    with pytest.raises(KeyError):
        run_parts(later_fails, range(3))


def _in_child(queue) -> None:
    queue.put(run_parts(lambda k: k + 1, range(3)))


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="needs fork (POSIX)")
def test_a_forked_child_starts_a_pool_of_its_own() -> None:
    # the parent's pool threads do not exist in the child: using its pool would hang
    run_parts(lambda k: k, range(2))
    assert threads._pool is not None
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_in_child, args=(queue,))
    child.start()
    try:
        assert queue.get(timeout=60) == [1, 2, 3]
    finally:
        child.join(60)
    assert child.exitcode == 0


def test_the_default_is_the_cores_this_process_may_use_up_to_a_limit() -> None:
    assert thread_count(None) == min(available_cores(), MAX_THREADS) >= 1
    assert thread_count(3) == 3


_FIRST_USE = """
import threading, time
import numba
from stockkit.engine import kernel_numba

real = numba.njit
def slow_njit(*args, **kwargs):
    decorate = real(*args, **kwargs)
    def slowly(f):
        time.sleep(0.01)            # widens the moment in which a second thread could enter
        return decorate(f)
    return slowly
numba.njit = slow_njit
got, errors = [], []
def first_use():
    try:
        got.append(kernel_numba._jitted("_serve"))
    except Exception as exc:
        errors.append(repr(exc))
threads = [threading.Thread(target=first_use) for _ in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
assert not errors, errors
assert len(got) == 4 and all(g is got[0] for g in got)
"""


def test_threads_using_the_compiled_loop_first_at_once_wrap_it_once() -> None:
    # a fresh process, where nothing is compiled yet
    from stockkit.engine import kernel_numba

    if not kernel_numba.available():
        pytest.skip("numba is not installed (the numba extra)")
    done = subprocess.run([sys.executable, "-c", _FIRST_USE], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr


def test_parts_the_pool_no_longer_takes_run_in_the_calling_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    # once the interpreter shuts down, an executor refuses new work
    class Closed:
        def submit(self, *args, **kwargs):
            raise RuntimeError("cannot schedule new futures after interpreter shutdown")

    monkeypatch.setattr(threads, "_executor", lambda: Closed())
    names: dict[int, str] = {}

    def part(k: int) -> int:
        names[k] = threading.current_thread().name
        return k + 10

    assert run_parts(part, range(3)) == [10, 11, 12]
    assert set(names.values()) == {threading.current_thread().name}


_AT_EXIT = """
import atexit
import numpy as np
from stockkit.engine import allocate_arrays

# two channels ranking two warehouses the other way round: the event kernel, whose pass
# is cut into runs of SKUs on a wave this large
n, skus = 60_000, 50
case = dict(line_order=np.arange(n), line_sku=np.arange(n) % skus, line_quantity=np.ones(n, np.int64),
            line_channel=np.arange(n) % 2, stock_warehouse=np.repeat([0, 1], skus),
            stock_sku=np.tile(np.arange(skus), 2), stock_available=np.full(2 * skus, 300),
            link_channel=np.array([0, 0, 1, 1]), link_warehouse=np.array([0, 1, 0, 1]),
            link_priority=np.array([0, 1, 1, 0]))

@atexit.register
def at_exit():
    result = allocate_arrays(**case, kernel="events", threads=2)
    print("unfilled", int(result.line_unfilled.sum()))
"""


def test_an_allocation_made_while_the_interpreter_exits_still_runs() -> None:
    done = subprocess.run([sys.executable, "-c", _AT_EXIT], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and "unfilled 30000" in done.stdout, done.stderr


def test_a_thread_count_above_the_pools_counts_as_the_pools() -> None:
    assert thread_count(10_000) == threads.POOL_THREADS


def test_waves_are_cut_into_nearly_equal_runs_from_the_parallel_threshold_on() -> None:
    big = threads.PARALLEL_FROM_LINES
    assert threads.chunks(big - 1, 4) == [(0, big - 1)]
    runs = threads.chunks(big + 3, 4)
    assert len(runs) == 4 and runs[0][0] == 0 and runs[-1][1] == big + 3
    assert all(a[1] == b[0] for a, b in zip(runs[:-1], runs[1:], strict=True))
    assert max(hi - lo for lo, hi in runs) - min(hi - lo for lo, hi in runs) <= 1
    assert threads.chunks(0, 4) == [(0, 0)]


def test_calls_run_side_by_side_only_when_asked() -> None:
    names: list[str] = []

    def call() -> str:
        names.append(threading.current_thread().name)
        return "done"

    assert threads.run_calls([call, call], side_by_side=False) == ["done", "done"]
    assert set(names) == {threading.current_thread().name}
    names.clear()
    assert threads.run_calls([call, call]) == ["done", "done"]
    assert any(name.startswith("stockkit-engine") for name in names)
