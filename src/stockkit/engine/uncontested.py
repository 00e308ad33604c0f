"""Fill per order, decided on the contested SKUs alone.

With split lines, a SKU whose whole demand in the wave fits in the stock that every
channel ordering it reaches can never leave a line short: at a line's turn the lines
before it took at most the rest of that demand, so its channel still reaches its
quantity. Such an *uncontested* SKU never makes an order fail (nor books a back order, so
whether it may does not matter). So with ``Fill.ORDER`` the orders' fates depend only on
the other lines: the kernel decides them on the contested lines alone, then serves the
uncontested lines of the orders that were filled with partial fill (they all fill
whole), and the uncontested lines of the orders that failed get ``ORDER_INCOMPLETE``.
Stock of different SKUs never interacts, and an order's tentative takes on one SKU never
touch another's, so the two halves give exactly the whole wave's result.

Worth it where many lines are uncontested and fill per order is costly: nearest-first
routing, on numpy (the rounds kernel) or the compiled loop order by order (which then
serves the uncontested lines SKU by SKU), where on the benchmark workload M two thirds
of the lines are uncontested.
"""

from __future__ import annotations

from collections.abc import Callable

import attrs
import numpy as np

from stockkit.engine.inputs import Inputs
from stockkit.engine.kernel_intervals import RouteClasses
from stockkit.engine.policy import AllocationArrays, Fill, Reason, ShipComplete

__all__ = ["MAX_CLASSES", "MIN_SHARE", "allocate_uncontested_apart", "uncontested_lines"]

#: the split is tried only when at least this share of the lines is uncontested
MIN_SHARE = 0.25
#: stock is summed per (route class, SKU): waves with more classes are not split
MAX_CLASSES = 16

_LINE_FIELDS = ("line_order", "line_sku", "line_quantity", "line_channel", "line_priority", "line_lat", "line_lon")


def uncontested_lines(inp: Inputs, rc: RouteClasses) -> np.ndarray:
    """Per line: whether its SKU is uncontested (see the module docstring): its demand
    over the wave is at most the stock every route class ordering it reaches (a channel
    without warehouses reaches none)."""
    n_cls = rc.route_wh.shape[0]
    cls = rc.channel_class[inp.line_channel]
    has = inp.stock_available > 0
    rec_sku, rec_wh, rec_avail = inp.stock_sku[has], inp.stock_warehouse[has], inp.stock_available[has]
    least = np.full(inp.n_skus, np.iinfo(np.int64).max, np.int64)
    used = np.zeros((n_cls, inp.n_skus), bool)
    used[cls, inp.line_sku] = True
    for c in range(n_cls):
        reach = rc.wh_rank[c, rec_wh] >= 0
        # sums below 2**52 (the array kernels' range), so float64 weights add exactly
        held = np.bincount(rec_sku[reach], weights=rec_avail[reach], minlength=inp.n_skus).astype(np.int64)
        np.minimum(least, np.where(used[c], held, least), out=least)
    demand = np.bincount(inp.line_sku, weights=inp.line_quantity, minlength=inp.n_skus).astype(np.int64)
    return (demand <= least)[inp.line_sku]


def _part(inp: Inputs, lines: np.ndarray, fill: Fill) -> Inputs:
    """``inp`` with only ``lines`` (indices, in input order) and the given fill."""
    fields = {}
    for name in _LINE_FIELDS:
        column = getattr(inp, name)
        # missing ship-to points stay one broadcast NaN
        fields[name] = (np.broadcast_to(column[:1], lines.shape) if column.strides == (0,) and column.size
                        else column[lines])
    return inp._replace(**fields, policy=attrs.evolve(inp.policy, fill=fill))


def allocate_uncontested_apart(inp: Inputs, rc: RouteClasses,
                               run: Callable[[Inputs], AllocationArrays]) -> AllocationArrays | None:
    """Allocate ``inp`` (split lines, ``Fill.ORDER``, no ship complete) in two parts that
    ``run`` serves: the contested lines with fill per order, then the uncontested lines of
    the filled orders with partial fill. None when the policy does not allow it or fewer
    than :data:`MIN_SHARE` of the lines are uncontested (then it is not worth it)."""
    policy = inp.policy
    n = inp.line_order.shape[0]
    if (policy.fill is not Fill.ORDER or not policy.split or policy.ship_complete is not ShipComplete.OFF
            or rc.route_wh.shape[0] > MAX_CLASSES or n == 0):
        return None
    free = uncontested_lines(inp, rc)
    if free.sum() < MIN_SHARE * n or free.all():
        return None
    contested = np.flatnonzero(~free)
    first = run(_part(inp, contested, Fill.ORDER))
    # an order failed when its contested lines did (they all carry their whole quantity)
    failed_orders = np.unique(inp.line_order[contested[first.line_unfilled > 0]])
    failed = free & np.isin(inp.line_order, failed_orders)
    served = np.flatnonzero(free & ~failed)
    second = run(_part(inp, served, Fill.PARTIAL))

    unfilled = np.zeros(n, np.int64)
    reason = np.full(n, Reason.FILLED, np.uint8)
    unfilled[contested], reason[contested] = first.line_unfilled, first.line_reason
    unfilled[served], reason[served] = second.line_unfilled, second.line_reason
    unfilled[failed] = inp.line_quantity[failed]
    reason[failed] = Reason.ORDER_INCOMPLETE
    line = np.concatenate([contested[first.record_line], served[second.record_line]])
    # each line's records come from one part, in their order: a stable sort by line keeps it
    by = np.argsort(line, kind="stable")
    return AllocationArrays(
        line[by],
        np.concatenate([first.record_warehouse, second.record_warehouse])[by],
        np.concatenate([first.record_quantity, second.record_quantity])[by],
        np.concatenate([first.record_backorder, second.record_backorder])[by],
        unfilled, reason,
    )
