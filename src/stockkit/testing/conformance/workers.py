"""Running the same work in many processes (or threads) at once, for the concurrency
promises of the conformance suite.

A worker function takes an inventory first, then its own arguments, and returns plain
data. :func:`run_concurrently` runs one call per argument tuple, all starting together:
in separate processes that each open the store URL (for backends whose state processes
share), or in threads on one shared inventory (for ``memory://``).
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import random
import time
from collections.abc import Callable, Sequence
from typing import Any

import stockkit
from stockkit.errors import InsufficientStock, StockkitError
from stockkit.inventory import Inventory

__all__ = [
    "run_concurrently",
    "process_pool",
    "book_one_unit_repeatedly",
    "book_random_orders",
    "adjust_repeatedly",
    "place_with_key",
]

# Each worker process keeps the inventory of the last URL it was given open, so that a
# test's many calls do not pay for opening the store again.
_OPEN: dict[str, Inventory] = {}


def _inventory_for(url: str) -> Inventory:
    if url not in _OPEN:
        for other in list(_OPEN):
            _OPEN.pop(other).close()
        _OPEN[url] = stockkit.open(url, autoload_plugins=False)
    return _OPEN[url]


def _call_in_process(url: str, start_at: float, work: Callable[..., Any], args: tuple[Any, ...]) -> Any:
    inventory = _inventory_for(url)
    time.sleep(max(0.0, start_at - time.time()))
    return work(inventory, *args)


def _close_in_process() -> None:
    for url in list(_OPEN):
        _OPEN.pop(url).close()


def process_pool(workers: int) -> concurrent.futures.ProcessPoolExecutor:
    """A pool of fresh worker processes (``spawn``: nothing inherited from the test's
    threads or connections)."""
    return concurrent.futures.ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))


def run_concurrently(
    work: Callable[..., Any],
    arguments: Sequence[tuple[Any, ...]],
    *,
    url: str | None = None,
    shared: Inventory | None = None,
    pool: concurrent.futures.ProcessPoolExecutor | None = None,
    delay: float = 0.3,
) -> list[Any]:
    """Call ``work(inventory, *args)`` once per tuple of ``arguments``, all at the same
    moment, and return the results in the same order.

    With ``url`` and ``pool``, each call runs in a worker process of ``pool`` that opens
    the store itself; with ``shared``, each call runs in its own thread on that inventory.
    ``delay`` gives every worker time to get ready before the common start.
    """
    start_at = time.time() + delay
    if shared is not None:
        def in_thread(args: tuple[Any, ...]) -> Any:
            time.sleep(max(0.0, start_at - time.time()))
            return work(shared, *args)

        with concurrent.futures.ThreadPoolExecutor(len(arguments)) as threads:
            return list(threads.map(in_thread, arguments))
    assert url is not None and pool is not None, "give url and pool, or shared"
    futures = [pool.submit(_call_in_process, url, start_at, work, args) for args in arguments]
    return [f.result() for f in futures]


def _error_name(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def book_one_unit_repeatedly(
    inventory: Inventory, channel: str, sku: str, prefix: str, attempts: int, seed: int
) -> tuple[int, int, list[str]]:
    """Place ``attempts`` one-unit orders; return (booked, refused as insufficient, other
    errors)."""
    rng = random.Random(seed)
    booked = refused = 0
    others: list[str] = []
    for n in range(attempts):
        if rng.random() < 0.2:
            time.sleep(rng.random() / 1000)
        try:
            inventory.place_order(f"{prefix}-{n}", channel, [(sku, 1)])
            booked += 1
        except InsufficientStock:
            refused += 1
        except Exception as exc:  # every other error is a broken promise: report it
            others.append(_error_name(exc))
    return booked, refused, others


def book_random_orders(
    inventory: Inventory, channel: str, skus: Sequence[str], prefix: str, orders: int, lines: tuple[int, int],
    units: tuple[int, int], seed: int,
) -> tuple[list[tuple[str, list[tuple[str, int]]]], list[tuple[int, int]], list[str]]:
    """Place ``orders`` orders of random lines; return (booked orders with their lines,
    (requested, available) of each refusal, other errors)."""
    rng = random.Random(seed)
    booked: list[tuple[str, list[tuple[str, int]]]] = []
    refusals: list[tuple[int, int]] = []
    others: list[str] = []
    for n in range(orders):
        count = rng.randint(*lines)
        chosen = rng.sample(list(skus), count) if count <= len(skus) else [rng.choice(skus) for _ in range(count)]
        order_lines = [(sku, rng.randint(*units)) for sku in chosen]
        order_id = f"{prefix}-{n}"
        try:
            inventory.place_order(order_id, channel, order_lines)
            booked.append((order_id, order_lines))
        except InsufficientStock as exc:
            refusals.append((exc.requested or 0, exc.available or 0))
        except Exception as exc:
            others.append(_error_name(exc))
    return booked, refusals, others


def adjust_repeatedly(
    inventory: Inventory, sku: str, warehouse: str, count: int, seed: int
) -> tuple[list[int], list[str]]:
    """Make ``count`` small random adjustments; return (the deltas that were committed,
    errors other than a refused decrement)."""
    rng = random.Random(seed)
    committed: list[int] = []
    others: list[str] = []
    for _ in range(count):
        delta = rng.choice([-5, -4, -3, -2, -1, 1, 2, 3, 4, 5])
        try:
            inventory.adjust(sku, warehouse, delta, "concurrent count")
            committed.append(delta)
        except InsufficientStock:
            pass
        except Exception as exc:
            others.append(_error_name(exc))
    return committed, others


def place_with_key(
    inventory: Inventory, order_id: str, channel: str, lines: list[tuple[str, int]], key: str
) -> Any:
    """Place an order under an idempotency key; return the result, or the error's name."""
    try:
        return inventory.place_order(order_id, channel, lines, idempotency_key=key)
    except StockkitError as exc:
        return _error_name(exc)


def close_worker_inventories(pool: concurrent.futures.ProcessPoolExecutor, workers: int) -> None:
    """Ask every worker process to close the inventories it keeps open."""
    for future in [pool.submit(_close_in_process) for _ in range(workers * 2)]:
        future.result()
