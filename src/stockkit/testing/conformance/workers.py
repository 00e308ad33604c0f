"""Concurrent writers for the concurrency promises of the conformance suite.

A *work function* takes an inventory first, then its own arguments, and returns plain
(picklable) data: what it booked, what was refused and why, and every unexpected error
as text, so that the test, not the worker, judges the outcome. Work functions are
top-level functions of this module, so that ``spawn`` worker processes can import them.

Two ways to run them, both starting every writer at the same moment:

- :class:`ProcessWriters`: a pool of ``spawn`` processes (nothing inherited from the
  test's threads or connections). Each call opens the store URL in its worker process,
  reports ready, waits until every call of the round is ready, runs, and closes the
  store again, so no worker keeps a store open between rounds.
- :func:`run_in_threads`: threads on one inventory, behind a barrier, for stores whose
  state processes do not share (``memory://``).
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import random
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from stockkit.errors import InsufficientStock, StockkitError
from stockkit.inventory import Inventory
from stockkit.testing.conformance.opening import open_inventory

__all__ = [
    "ProcessWriters",
    "adjust_repeatedly",
    "book_one_unit_repeatedly",
    "book_random_orders",
    "place_with_key",
    "run_in_new_process",
    "run_in_threads",
]

#: How long a writer waits for the others to be ready before giving up (seconds).
START_TIMEOUT = 120.0

# Set in each worker process by the pool's initializer: a count of writers ready for the
# current round, the event that starts the round, and a flag that cancels it.
_READY: Any = None
_GO: Any = None
_ABORT: Any = None


def _init_worker(ready: Any, go: Any, abort: Any) -> None:
    global _READY, _GO, _ABORT
    _READY, _GO, _ABORT = ready, go, abort


def _call_in_round(url: str, work: Callable[..., Any], args: tuple[Any, ...]) -> Any:
    inventory = open_inventory(url)
    try:
        with _READY.get_lock():
            _READY.value += 1
        if not _GO.wait(START_TIMEOUT):
            raise RuntimeError(f"the round did not start within {START_TIMEOUT} s")
        if _ABORT.value:
            return None
        return work(inventory, *args)
    finally:
        inventory.close()


def _call_once(url: str, work: Callable[..., Any], args: tuple[Any, ...]) -> Any:
    inventory = open_inventory(url)
    try:
        return work(inventory, *args)
    finally:
        inventory.close()


class ProcessWriters:
    """A pool of ``size`` spawned worker processes that run rounds of concurrent calls.

    Reuse one pool for many rounds (and many stores): each call opens and closes the
    store it is given.
    """

    def __init__(self, size: int) -> None:
        context = multiprocessing.get_context("spawn")
        self.size = size
        self._ready = context.Value("i", 0)
        self._go = context.Event()
        self._abort = context.Value("b", 0)
        self._pool = concurrent.futures.ProcessPoolExecutor(
            size, mp_context=context, initializer=_init_worker, initargs=(self._ready, self._go, self._abort)
        )

    def run(self, url: str, work: Callable[..., Any], arguments: Sequence[tuple[Any, ...]]) -> list[Any]:
        """Call ``work(inventory, *args)`` once per tuple of ``arguments``, each in its own
        process on its own inventory of ``url``, all released together once every one
        has opened the store; return the results in the order of ``arguments``."""
        if not 0 < len(arguments) <= self.size:
            raise ValueError(f"a round takes 1 to {self.size} calls, got {len(arguments)}")
        with self._ready.get_lock():
            self._ready.value = 0
        self._abort.value = 0
        self._go.clear()
        futures = [self._pool.submit(_call_in_round, url, work, tuple(args)) for args in arguments]
        deadline = time.monotonic() + START_TIMEOUT
        try:
            while self._ready.value < len(arguments):
                failed = [f for f in futures if f.done()]
                if failed:
                    failed[0].result()  # a writer failed before the start: raise its error
                    raise RuntimeError("a writer finished before the round started")
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"only {self._ready.value} of {len(arguments)} writers were ready after {START_TIMEOUT} s"
                    )
                time.sleep(0.002)
        except BaseException:
            self._abort.value = 1
            self._go.set()
            concurrent.futures.wait(futures, timeout=START_TIMEOUT)
            raise
        self._go.set()
        return [f.result() for f in futures]

    def close(self) -> None:
        """Stop the worker processes."""
        self._pool.shutdown(wait=True, cancel_futures=True)


def run_in_threads(inventory: Inventory, work: Callable[..., Any], arguments: Sequence[tuple[Any, ...]]) -> list[Any]:
    """Call ``work(inventory, *args)`` once per tuple of ``arguments``, each in its own
    thread on the one shared ``inventory``, all released together by a barrier; return
    the results in the order of ``arguments``."""
    barrier = threading.Barrier(len(arguments), timeout=START_TIMEOUT)

    def call(args: tuple[Any, ...]) -> Any:
        barrier.wait()
        return work(inventory, *args)

    with concurrent.futures.ThreadPoolExecutor(len(arguments)) as threads:
        return list(threads.map(call, arguments))


def run_in_new_process(url: str, work: Callable[..., Any], args: tuple[Any, ...]) -> Any:
    """Call ``work(inventory, *args)`` in a freshly spawned process that opens ``url``
    itself (a restarted application); return the result."""
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(1, mp_context=context) as pool:
        return pool.submit(_call_once, url, work, tuple(args)).result(timeout=START_TIMEOUT)


def _error_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def book_one_unit_repeatedly(
    inventory: Inventory, channel: str, sku: str, prefix: str, attempts: int, seed: int
) -> tuple[list[str], int, list[str]]:
    """Place ``attempts`` one-unit orders ``{prefix}-{n}``, in an order and with small
    pauses that ``seed`` decides; return (ids of the orders placed, how many were refused
    with InsufficientStock, every other error)."""
    rng = random.Random(seed)
    numbers = list(range(attempts))
    rng.shuffle(numbers)
    placed: list[str] = []
    refused = 0
    others: list[str] = []
    for n in numbers:
        if rng.random() < 0.2:
            time.sleep(rng.random() / 1000)
        try:
            inventory.place_order(f"{prefix}-{n}", channel, [(sku, 1)])
            placed.append(f"{prefix}-{n}")
        except InsufficientStock:
            refused += 1
        except Exception as exc:  # noqa: BLE001 - any other error is a broken promise: report it
            others.append(_error_text(exc))
    return placed, refused, others


#: What a worker records of a refused order: the order id, its lines, the refusal's
#: ``sku``, ``requested``, ``available`` and ``warehouse``, and the channel's available
#: quantity of that SKU read just after the refusal.
Refusal = tuple[str, list[tuple[str, int]], "str | None", "int | None", "int | None", "str | None", "int | None"]


def book_random_orders(
    inventory: Inventory, channel: str, skus: Sequence[str], prefix: str, orders: int,
    lines: tuple[int, int], units: tuple[int, int], seed: int,
) -> tuple[list[tuple[str, list[tuple[str, int]]]], list[Refusal], list[str]]:
    """Place ``orders`` orders ``{prefix}-{n}``, each of a random number of lines (within
    ``lines``) of distinct SKUs in random order, each of random quantity (within
    ``units``); return (the orders placed with their lines, the refusals, every other
    error). After each refusal the worker reads the channel's availability of the SKU the
    refusal names."""
    rng = random.Random(seed)
    placed: list[tuple[str, list[tuple[str, int]]]] = []
    refusals: list[Refusal] = []
    others: list[str] = []
    for n in range(orders):
        chosen = rng.sample(list(skus), rng.randint(*lines))
        order_lines = [(sku, rng.randint(*units)) for sku in chosen]
        order_id = f"{prefix}-{n}"
        try:
            inventory.place_order(order_id, channel, order_lines)
            placed.append((order_id, order_lines))
        except InsufficientStock as exc:
            after = None
            if exc.sku is not None:
                try:
                    after = inventory.available(exc.sku, channel=channel)
                except Exception as read_error:  # noqa: BLE001 - reported, judged by the test
                    others.append(_error_text(read_error))
            refusals.append((order_id, order_lines, exc.sku, exc.requested, exc.available, exc.warehouse, after))
        except Exception as exc:  # noqa: BLE001 - reported, judged by the test
            others.append(_error_text(exc))
    return placed, refusals, others


def adjust_repeatedly(
    inventory: Inventory, sku: str, warehouse: str, count: int, seed: int
) -> tuple[list[int], list[tuple[int, int | None, int | None]], list[str]]:
    """Make ``count`` adjustments of -5 to +5 units (never 0); return (the deltas that
    were committed, (delta, requested, available) of each refused one, every other
    error)."""
    rng = random.Random(seed)
    committed: list[int] = []
    refused: list[tuple[int, int | None, int | None]] = []
    others: list[str] = []
    for _ in range(count):
        delta = rng.choice([-5, -4, -3, -2, -1, 1, 2, 3, 4, 5])
        try:
            inventory.adjust(sku, warehouse, delta, "concurrent count")
            committed.append(delta)
        except InsufficientStock as exc:
            refused.append((delta, exc.requested, exc.available))
        except Exception as exc:  # noqa: BLE001 - reported, judged by the test
            others.append(_error_text(exc))
    return committed, refused, others


def place_with_key(
    inventory: Inventory, order_id: str, channel: str, lines: list[tuple[str, int]], key: str
) -> Any:
    """Place an order under an idempotency key; return the :class:`~stockkit.model.Placement`,
    or the error as text."""
    try:
        return inventory.place_order(order_id, channel, lines, idempotency_key=key)
    except StockkitError as exc:
        return _error_text(exc)
