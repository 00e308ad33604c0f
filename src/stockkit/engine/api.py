"""The array-level entry point of the engine: :func:`allocate_arrays`."""

from __future__ import annotations

import numpy as np

from stockkit.engine import kernel_numba
from stockkit.engine.inputs import (
    ARRAY_KERNEL_TOTAL,
    Inputs,
    array_kernels_exact,
    check_inputs,
)
from stockkit.engine.kernel_events import MAX_CLASSES, allocate_events, events_apply
from stockkit.engine.kernel_intervals import (
    RouteClasses,
    allocate_intervals,
    intervals_exact,
    route_classes,
)
from stockkit.engine.kernel_rounds import allocate_rounds, order_sku_groups
from stockkit.engine.kernel_scalar import allocate_python
from stockkit.engine.policy import (
    AllocationArrays,
    Policy,
    RouteOrder,
    ShipComplete,
)
from stockkit.engine.problem import build_problem
from stockkit.engine.threads import thread_count
from stockkit.engine.uncontested import allocate_uncontested_apart
from stockkit.errors import InvalidArray, InvalidQuantity

__all__ = ["BY_SKU_MAX_SKUS_PER_LINE", "KERNELS", "NUMBA_FROM_LINES", "PYTHON_UP_TO_LINES", "allocate_arrays",
           "available_kernels", "choose_kernel"]

#: the policy used when none is given
DEFAULT_POLICY = Policy()

#: ``"auto"`` and ``"numpy"`` run the Python kernel on inputs of at most this many lines:
#: below it numpy's per-call overhead costs more than the loop (measured crossover 60-300
#: lines depending on policy and topology; see docs/engine.md)
PYTHON_UP_TO_LINES = 64

#: a wave the intervals or the event kernel hand back (units decided one per round) goes
#: to the compiled loop under ``"auto"`` when numba is installed, else to the rounds
#: kernel; after :data:`HANDOFF_ROUNDS` rounds that settle fewer than
#: :data:`HANDOFF_LINES_PER_ROUND` lines each on average, the Python kernel serves the
#: wave instead. A round costs 1-3 ms and the loop 6-13 us per line (workload M), so
#: rounds settling fewer lines than this lose to the loop (an adversarial wave of 8,000
#: lines: 3.5 s in the rounds, 0.06 s in the loop)
HANDOFF_ROUNDS = 64
HANDOFF_LINES_PER_ROUND = 128

#: ``"auto"`` takes the compiled loop for waves of at least this many lines: below, it
#: saves little (10,000 lines: 0.7-1.3 ms against numpy's 1.0-1.4 ms), and the first call
#: of a process pays for loading it from numba's cache (0.4 s), or for compiling it
#: where there is no cache yet or it cannot be written (10 s)
NUMBA_FROM_LINES = 10_000

#: with numba installed, ``"auto"`` serves a wave SKU by SKU while the catalogue has at
#: most this many SKUs per line of the wave: the loop's tables hold every SKU (100,000
#: lines over 400,000 SKUs: 11.5 ms SKU by SKU, 12.1 ms in numpy; over 1,600,000 SKUs:
#: 24 against 14 ms)
BY_SKU_MAX_SKUS_PER_LINE = 4

#: names accepted by ``allocate_arrays(kernel=...)``
KERNELS = ("auto", "numpy", "intervals", "events", "rounds", "numba", "python")


def available_kernels() -> tuple[str, ...]:
    """The kernel choices that can run here for any input: ``"numpy"`` (the Python kernel
    for small inputs, intervals or events where they are exact, else rounds), ``"rounds"``,
    ``"python"``, and ``"numba"`` when numba is installed."""
    return ("numpy", "rounds", "python", "numba") if kernel_numba.available() else ("numpy", "rounds", "python")


def _intervals_apply(inp: Inputs, rc: RouteClasses) -> bool:
    policy = inp.policy
    return (policy.split and policy.ship_complete is ShipComplete.OFF
            and (policy.route is RouteOrder.PRIORITY or bool(np.isnan(inp.line_lat).all()))
            and intervals_exact(inp, rc))


def _numba_pays(inp: Inputs) -> bool:
    """Whether ``"auto"`` may take the compiled loop: numba is installed and the wave has
    at least :data:`NUMBA_FROM_LINES` lines."""
    return inp.line_order.shape[0] >= NUMBA_FROM_LINES and kernel_numba.available()


def choose_kernel(inp: Inputs, kernel: str = "auto") -> str:
    """The kernel ``allocate_arrays(kernel=kernel)`` runs on ``inp``: ``"auto"`` takes
    numba when it is installed and the wave has at least :data:`NUMBA_FROM_LINES` lines,
    unless it would serve SKU by SKU (see
    :func:`~stockkit.engine.kernel_numba.by_sku_applies`) a catalogue of more than
    :data:`BY_SKU_MAX_SKUS_PER_LINE` SKUs per line; else intervals where they are exact,
    else numba on such a wave, else events where they are exact, else rounds; ``"numpy"``
    the same without numba. Both take the Python kernel for inputs of at most
    :data:`PYTHON_UP_TO_LINES` lines and for inputs beyond
    the array kernels' exact range (see :func:`~stockkit.engine.inputs.array_kernels_exact`);
    asked for by name there, an array kernel is a :class:`~stockkit.errors.InvalidQuantity`."""
    return _choose(inp, kernel, None)[0]


def _choose(inp: Inputs, kernel: str, rc: RouteClasses | None) -> tuple[str, RouteClasses | None]:
    """:func:`choose_kernel`, and the route classes when it needed them (``rc`` if given)."""
    if kernel == "python" or (kernel in ("auto", "numpy") and inp.line_order.shape[0] <= PYTHON_UP_TO_LINES):
        return "python", rc
    if not array_kernels_exact(inp):
        if kernel in ("auto", "numpy"):
            return "python", rc
        raise InvalidQuantity(
            f"kernel={kernel!r} sums units in 64 bits and is exact only while line quantities plus stock "
            f"total below 2**{ARRAY_KERNEL_TOTAL.bit_length() - 1}; these are more: use kernel='auto' or 'python'"
        )
    if kernel == "rounds":
        return "rounds", rc
    if kernel == "numba":
        if not kernel_numba.available():
            raise InvalidArray("kernel='numba' needs numba: pip install 'stockkit[numba]'")
        return "numba", rc
    if kernel == "auto" and _numba_pays(inp) and (
            not kernel_numba.by_sku_applies(inp)
            or inp.n_skus <= BY_SKU_MAX_SKUS_PER_LINE * inp.line_order.shape[0]):
        # order by order or SKU by SKU, faster than every numpy kernel, unless the tables
        # of every SKU outweigh the wave SKU by SKU (docs/engine.md)
        return "numba", rc
    rc = route_classes(inp) if rc is None else rc
    events = events_apply(inp, rc)
    if kernel == "events":
        if not events:
            raise InvalidArray(
                "kernel='events' is exact only with split lines, no ship complete, "
                f"priority routes (or no ship-to points) and at most {MAX_CLASSES} distinct routes; use kernel='auto'"
            )
        return "events", rc
    applies = _intervals_apply(inp, rc)
    if kernel == "intervals" and not applies:
        raise InvalidArray(
            "kernel='intervals' is exact only with split lines, no ship complete and "
            "SKUs whose channels share no warehouse unless they rank them alike; use kernel='auto'"
        )
    if applies:
        return "intervals", rc
    if kernel == "auto" and _numba_pays(inp):
        return "numba", rc
    return ("events" if events else "rounds"), rc


def allocate_arrays(
    *,
    line_order, line_sku, line_quantity, line_channel,
    line_priority=None, line_lat=None, line_lon=None,
    stock_warehouse, stock_sku, stock_available,
    link_channel, link_warehouse, link_priority,
    warehouse_lat=None, warehouse_lon=None,
    sku_backorder=None,
    policy: Policy = DEFAULT_POLICY,
    n_skus=None, n_warehouses=None, n_channels=None,
    kernel: str = "auto",
    threads: int | None = None,
) -> AllocationArrays:
    """Allocate order lines to warehouse stock, exactly as the sequential rules say.

    Lines are served in stable order of (``line_priority``, ``line_order``, input
    position); each draws on the warehouses linked to its channel in ``policy`` order. The
    arrays are validated and converted once (a :class:`~stockkit.errors.ValidationError`
    subclass names the bad argument), then a private kernel does the work: ``kernel="auto"``
    picks the fastest exact one, ``"numpy"`` the fastest one without numba, ``"rounds"`` the
    general numpy kernel, ``"python"`` the plain-Python loop (exact for every quantity up
    to :data:`~stockkit.engine.inputs.MAX_QUANTITY`). Nothing given is changed.

    ``threads``: how many threads the engine may use on a large wave: the compiled loop
    (serving SKU by SKU, SKUs are split between them; order by order, only putting the
    result in line order is), the intervals kernel (chunks of whole SKUs laid out side by
    side) and the event kernel with partial fill or fill per line (runs of whole SKUs side
    by side); the others use one. ``None``, the default, uses the cores this
    process may run on, at most :data:`~stockkit.engine.threads.MAX_THREADS`; ``1`` keeps
    the work in the calling thread; more than
    :data:`~stockkit.engine.threads.POOL_THREADS` count as that many. The result is the
    same whatever the count.

    >>> import numpy as np
    >>> r = allocate_arrays(
    ...     line_order=np.array([0, 1]), line_sku=np.array([0, 0]), line_quantity=np.array([4, 4]),
    ...     line_channel=np.array([0, 0]),
    ...     stock_warehouse=np.array([0, 1]), stock_sku=np.array([0, 0]), stock_available=np.array([3, 2]),
    ...     link_channel=np.array([0, 0]), link_warehouse=np.array([0, 1]), link_priority=np.array([0, 1]))
    >>> r.record_line.tolist(), r.record_warehouse.tolist(), r.record_quantity.tolist()
    ([0, 0, 1], [0, 1, 1], [3, 1, 1])
    >>> from stockkit.engine import Reason
    >>> r.line_unfilled.tolist(), [Reason(x).name for x in r.line_reason]
    ([0, 3], ['FILLED', 'SHORT'])
    """
    if kernel not in KERNELS:
        raise InvalidArray(f"kernel must be one of {', '.join(KERNELS)}, got {kernel!r}")
    if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int | np.integer)
                                or threads < 1):
        raise InvalidArray(f"threads must be a whole number of at least 1, or None for every core, got {threads!r}")
    inp = check_inputs(
        line_order=line_order, line_sku=line_sku, line_quantity=line_quantity, line_channel=line_channel,
        line_priority=line_priority, line_lat=line_lat, line_lon=line_lon,
        stock_warehouse=stock_warehouse, stock_sku=stock_sku, stock_available=stock_available,
        link_channel=link_channel, link_warehouse=link_warehouse, link_priority=link_priority,
        warehouse_lat=warehouse_lat, warehouse_lon=warehouse_lon, sku_backorder=sku_backorder,
        policy=policy, n_skus=n_skus, n_warehouses=n_warehouses, n_channels=n_channels,
    )
    return _allocate_checked(inp, kernel, threads=thread_count(None if threads is None else int(threads)))


def _apart_pays(inp: Inputs, rc: RouteClasses) -> bool:
    """Whether the compiled loop, before serving ``inp`` (route classes ``rc``) order by
    order, should try :func:`~stockkit.engine.uncontested.allocate_uncontested_apart`:
    with nearest-first routes or a single route class, where channels usually reach the
    same warehouses and many SKUs cannot run short (workload M nearest first, fill per
    order: 311 to 220 ms median). Where channels reach different warehouses few SKUs are
    uncontested (3-4% of M's lines on disjoint or overlapping channels), and finding that
    out would cost 15 ms."""
    return inp.policy.route is RouteOrder.NEAREST or rc.route_wh.shape[0] == 1


def _allocate_checked(inp: Inputs, kernel: str, rc: RouteClasses | None = None, threads: int = 1) -> AllocationArrays:
    """Run the kernel ``kernel`` asks for on validated ``inp`` (``rc``: its route classes,
    when known; ``threads``: what the compiled loop, the intervals and the event kernel may
    use)."""
    chosen, rc = _choose(inp, kernel, rc)
    if chosen == "python":
        return allocate_python(inp)
    if kernel in ("auto", "numpy") and (chosen == "rounds"
                                        or (chosen == "numba" and not kernel_numba.by_sku_applies(inp))):
        # fill per order where the rounds or the compiled loop order by order would decide
        # it: decided on the contested SKUs alone, the rest then served SKU by SKU (the
        # parts have the wave's channels and links, so the same route classes)
        rc = route_classes(inp) if rc is None else rc
        if chosen == "rounds" or _apart_pays(inp, rc):
            result = allocate_uncontested_apart(inp, rc, lambda part: _allocate_checked(part, kernel, rc, threads))
            if result is not None:
                return result
    if chosen in ("intervals", "events"):
        assert rc is not None
        result = (allocate_intervals if chosen == "intervals" else allocate_events)(inp, rc, threads)
        if result is not None:
            return result
        # units decided one round after another: the compiled loop serves any wave well;
        # the rounds may (one awkward SKU in a large wave), but when they settle too few
        # lines per round the wave is sequential by nature and the plain loop serves it
        # fastest
        if kernel == "auto" and _numba_pays(inp):
            chosen = "numba"
        else:
            result = _allocate_positions(inp, "rounds", min_rate=(HANDOFF_ROUNDS, HANDOFF_LINES_PER_ROUND))
            return allocate_python(inp) if result is None else result
    if chosen == "numba" and kernel_numba.by_sku_applies(inp):
        return kernel_numba.allocate_by_sku(inp, route_classes(inp) if rc is None else rc, threads)
    result = _allocate_positions(inp, chosen, threads=threads)
    assert result is not None       # no rate asked for
    return result


def _allocate_positions(inp: Inputs, chosen: str, min_rate: tuple[int, int] | None = None,
                        threads: int = 1) -> AllocationArrays | None:
    """Run the rounds or the compiled kernel order by order on ``inp``, the result in input
    order; None when the rounds settle fewer lines per round than ``min_rate`` asks (see
    :func:`~stockkit.engine.kernel_rounds.allocate_rounds`); ``threads``: what the compiled
    kernel may use."""
    policy = inp.policy
    # the compiled loop ranks nearest-first candidates itself, line by line
    lazy = chosen == "numba" and policy.ship_complete is ShipComplete.OFF
    # only the rounds kernel completes nearest-first candidate lists it reads lazily
    pb = build_problem(inp, lazy_nearest=lazy, eager=None if chosen == "rounds" else not lazy)
    if chosen == "numba":
        # the loop reads an order's SKU totals only to find a ship-complete warehouse
        n_lines = pb.qty.shape[0]
        group_total = (order_sku_groups(pb)[1] if policy.ship_complete is not ShipComplete.OFF
                       else np.zeros(n_lines, np.int64))
        return kernel_numba.allocate_compiled(pb, policy, group_total, threads)
    rounds = allocate_rounds(pb, policy, min_rate=min_rate)
    if rounds is None:
        return None
    (pos, _rank, wh, qty, bo), unfilled, reason = rounds
    n = pb.qty.shape[0]
    line_unfilled = np.empty(n, np.int64)
    line_reason = np.empty(n, np.uint8)
    line_unfilled[pb.seq] = unfilled
    line_reason[pb.seq] = reason
    lines = pb.seq[pos]
    # records come sorted by position; the contract sorts them by input line, keeping
    # each line's records in their order: each goes to its line's slot, no sort needed
    counts = np.bincount(pos, minlength=n)
    per_line = np.empty(n, np.int64)
    per_line[pb.seq] = counts
    dest = (np.cumsum(per_line) - per_line)[lines] + (np.arange(pos.size) - (np.cumsum(counts) - counts)[pos])
    return AllocationArrays.placed(dest, lines, wh, qty, bo, line_unfilled, line_reason)
