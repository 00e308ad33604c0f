"""The interval kernel: lines that share one warehouse order, in one pass of sorts and sums.

When every line of a SKU that competes for the same stock tries the same warehouses in the
same order (channels with disjoint warehouse sets, or identical routes), the first-come
first-served greedy is an overlap of intervals. Stack the stock records of a (SKU, route)
group along the route: record ``k`` covers units ``[C[k-1], C[k])`` of the group's stock.
Lay the group's lines out in service order: line ``i`` wants units ``[D[i], D[i] + q[i])``
of the cumulative demand. What line ``i`` takes from record ``k`` is the overlap of the two
intervals. One sort puts lines and records in group order, cumsums give the intervals, a
sorted searchsorted finds each line's first and last record, ``np.repeat`` writes the
records. Short lines keep what they got (``Fill.PARTIAL``); the rest of a back-orderable
line is booked at its first warehouse.

Input: validated :class:`~stockkit.engine.inputs.Inputs` and a :class:`RouteClasses`;
output: the contract's arrays, in input order.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from stockkit.engine.inputs import Inputs
from stockkit.engine.policy import AllocationArrays, Reason

__all__ = ["LeftOver", "RouteClasses", "allocate_intervals", "interval_lines", "route_classes", "service_keys"]


class LeftOver(NamedTuple):
    """Lines the interval form could not decide (``Fill.LINE``), and the stock left for
    them: records with stock as (SKU, warehouse, units left)."""

    lines: np.ndarray
    stock_sku: np.ndarray
    stock_warehouse: np.ndarray
    stock_available: np.ndarray


class RouteClasses(NamedTuple):
    """Channels grouped by identical route (same warehouses, same order).

    ``route_wh[c, j]`` is the warehouse of rank ``j`` of class ``c`` (``-1`` padded),
    ``wh_rank[c, w]`` the rank of warehouse ``w`` in class ``c`` (``-1`` when absent);
    ``conflict[a, b]`` is True when classes ``a`` and ``b`` share a warehouse.
    """

    channel_class: np.ndarray
    route_wh: np.ndarray
    route_len: np.ndarray
    wh_rank: np.ndarray
    conflict: np.ndarray


def route_classes(inp: Inputs) -> RouteClasses:
    """Group the channels of ``inp`` by identical priority route."""
    by_link = np.lexsort((inp.link_warehouse, inp.link_priority, inp.link_channel))
    l_ch = inp.link_channel[by_link].tolist()
    l_wh = inp.link_warehouse[by_link].tolist()
    routes: dict[int, list[int]] = {c: [] for c in range(inp.n_channels)}
    for c, w in zip(l_ch, l_wh):
        routes[c].append(w)
    classes: dict[tuple[int, ...], int] = {}
    channel_class = np.empty(inp.n_channels, np.int64)
    for c in range(inp.n_channels):
        channel_class[c] = classes.setdefault(tuple(routes[c]), len(classes))
    n_cls = max(len(classes), 1)
    depth = max((len(r) for r in classes), default=0) or 1
    route_wh = np.full((n_cls, depth), -1, np.int64)
    route_len = np.zeros(n_cls, np.int64)
    wh_rank = np.full((n_cls, inp.n_warehouses), -1, np.int64)
    for route, k in classes.items():
        route_wh[k, :len(route)] = route
        route_len[k] = len(route)
        wh_rank[k, list(route)] = np.arange(len(route))
    present = wh_rank >= 0
    conflict = (present.astype(np.int64) @ present.T.astype(np.int64)) > 0
    np.fill_diagonal(conflict, False)
    return RouteClasses(channel_class, route_wh, route_len, wh_rank, conflict)


def service_keys(inp: Inputs) -> np.ndarray | None:
    """One int64 per line whose order is the service order (priority, order, input
    position), or None when the three do not pack into 63 bits."""
    n = inp.line_order.shape[0]
    if n == 0:
        return np.zeros(0, np.int64)
    prio = inp.line_priority - inp.line_priority.min()
    order = inp.line_order - inp.line_order.min()
    bits_n = max(int(n - 1).bit_length(), 1)
    bits_o = max(int(order.max()).bit_length(), 1)
    bits_p = max(int(prio.max()).bit_length(), 1)
    if bits_n + bits_o + bits_p > 62:
        return None
    return (prio << (bits_o + bits_n)) | (order << bits_n) | np.arange(n)


def allocate_intervals(inp: Inputs, rc: RouteClasses, service: np.ndarray | None,
                       whole_lines: bool = False) -> tuple[AllocationArrays, LeftOver | None]:
    """Allocate the lines of ``inp`` by intervals. The caller checked that this is exact:
    split allowed, no ship complete, and no SKU with lines of two conflicting route
    classes (see :func:`interval_lines`).

    With ``whole_lines`` (``Fill.LINE``) the interval form holds up to the first line of
    each (SKU, route) group that cannot be filled whole (it takes nothing, so later lines
    see stock the interval form would have given it): those lines and the ones after them
    are left over, with the stock the others left, for another kernel; their entries in
    the result are placeholders."""
    n = inp.line_order.shape[0]
    n_cls = rc.route_wh.shape[0]
    cls = rc.channel_class[inp.line_channel]
    group = inp.line_sku * n_cls + cls
    n_groups = inp.n_skus * n_cls

    # lines in (group, service) order with one packed sort when the keys fit in 63 bits
    bits_n = max(int(n - 1).bit_length(), 1)
    bits_s = max(int(service.max()).bit_length(), 1) if service is not None and n else 0
    if service is not None and bits_s + max(int(n_groups).bit_length(), 1) <= 62:
        packed = np.sort((group << bits_s) | service)
        perm = packed & ((1 << bits_n) - 1)
        g_sorted = packed >> bits_s
    else:
        perm = np.lexsort((np.arange(n), inp.line_order, inp.line_priority, group))
        g_sorted = group[perm]
    q_sorted = inp.line_quantity.take(perm)

    # stock of each group along its route: one entry per (record, class holding its warehouse)
    avail = np.maximum(inp.stock_available, 0)
    has = avail > 0
    rec_sku, rec_wh, rec_avail = inp.stock_sku[has], inp.stock_warehouse[has], avail[has]
    ranks = rc.wh_rank[:, rec_wh]                     # (classes, records)
    ent_cls, ent_rec = np.nonzero(ranks >= 0)
    n_ent = ent_rec.size
    ent_rank = ranks[ent_cls, ent_rec]
    ent_group = rec_sku[ent_rec] * n_cls + ent_cls
    depth = rc.route_wh.shape[1]
    ent = np.sort((ent_group * depth + ent_rank) * (n_ent + 1) + np.arange(n_ent)) % (n_ent + 1)
    ent_rec, ent_rank, ent_group = ent_rec[ent], ent_rank[ent], ent_group[ent]
    ent_stock = rec_avail[ent_rec]
    ent_wh = rec_wh[ent_rec]
    c_end = np.cumsum(ent_stock)
    # each group's stock, exactly: entries are sorted by group, so it is a difference of c_end
    ends = np.cumsum(np.bincount(ent_group, minlength=n_groups))
    c0 = np.concatenate(([0], c_end))
    base = c0[ends - np.diff(ends, prepend=0)]
    total = c0[ends] - base
    if n_ent == 0:  # nothing anywhere: one empty entry keeps the lookups below in bounds
        c_end, ent_stock, ent_wh, ent_rank = (np.zeros(1, np.int64),) * 4

    # cumulative demand within each group, in service order, on the global stock axis
    cum = np.cumsum(q_sorted)
    new_group = np.ones(n, bool)
    new_group[1:] = g_sorted[1:] != g_sorted[:-1]
    starts = np.flatnonzero(new_group)
    seg = np.cumsum(new_group) - 1
    d_start = cum - q_sorted - (cum - q_sorted)[starts][seg]
    gb, gt = base[g_sorted], total[g_sorted]
    s = gb + np.minimum(d_start, gt)
    e = gb + np.minimum(d_start + q_sorted, gt)
    left_over = None
    if whole_lines:
        sku_sorted = g_sorted // n_cls
        failing = (e - s < q_sorted) & ~inp.sku_backorder[sku_sorted] & (rc.route_len[g_sorted % n_cls] > 0)
        fail_at = np.flatnonzero(failing)
        first_fail = np.full(n_groups, n, np.int64)
        first_fail[g_sorted[fail_at[::-1]]] = fail_at[::-1]
        later = np.arange(n) >= first_fail[g_sorted]
        e = np.where(later, s, e)
        # what the lines before each group's first failure took, entry by entry
        reach = base.copy()
        done = np.flatnonzero(~later)
        reach[g_sorted[done]] = e[done]                  # the last such line reaches furthest
        taken = np.clip(np.minimum(c_end, reach[ent_group if n_ent else np.zeros(1, np.int64)])
                        - (c_end - ent_stock), 0, ent_stock) if n_ent else np.zeros(0, np.int64)
        left = rec_avail - np.bincount(ent_rec, weights=taken, minlength=rec_avail.size).astype(np.int64)
        later_in = np.empty(n, bool)
        later_in[perm] = later
        left_over = LeftOver(np.flatnonzero(later_in), rec_sku, rec_wh, left)
    a = np.minimum(_first_entry(c_end, s), c_end.size - 1)
    filled_sorted = e - s
    # most lines fit in one record; the few that span several are spread out below
    multi = np.flatnonzero(e > c_end[a])

    # back to input order in one scatter: units got and first warehouse, packed
    wh_bits = max(int(inp.n_warehouses).bit_length(), 1)
    first_wh = ent_wh[a]
    if wh_bits + (int(q_sorted.max()).bit_length() if n else 0) + 1 <= 63:
        packed_out = np.empty(n, np.int64)
        packed_out[perm] = (filled_sorted << wh_bits) | first_wh
        filled = packed_out >> wh_bits
        wh_in = packed_out & ((1 << wh_bits) - 1)
    else:
        filled = np.empty(n, np.int64)
        wh_in = np.empty(n, np.int64)
        filled[perm] = filled_sorted
        wh_in[perm] = first_wh
    unfilled = inp.line_quantity - filled
    got = filled > 0
    pieces_in = got.astype(np.int64)
    multi_line = perm[multi]
    if multi.size:
        last = np.searchsorted(c_end, e[multi] - 1, side="right")
        pieces_in[multi_line] = last - a[multi] + 1
        rec_line = np.repeat(np.arange(n), pieces_in)
    else:
        rec_line = np.flatnonzero(got)
    count = rec_line.size
    offsets = np.cumsum(pieces_in) - pieces_in
    firsts = offsets[got]
    rec_qty = np.empty(count, np.int64)
    rec_wh = np.empty(count, np.int64)
    rec_qty[firsts] = filled[got]
    rec_wh[firsts] = wh_in[got]
    if multi.size:
        extra = pieces_in[multi_line] - 1
        line_of = np.repeat(np.arange(multi.size), extra)
        j = np.arange(int(extra.sum())) - np.repeat(np.cumsum(extra) - extra, extra) + 1
        k = a[multi][line_of] + j
        at = offsets[multi_line][line_of] + j
        rec_qty[offsets[multi_line]] = c_end[a[multi]] - s[multi]
        rec_qty[at] = np.minimum(e[multi][line_of], c_end[k]) - (c_end[k] - ent_stock[k])
        rec_wh[at] = ent_wh[k]
    rec_bo = np.zeros(count, bool)
    reason = np.where(unfilled > 0, Reason.SHORT, Reason.FILLED).astype(np.uint8)
    lens = rc.route_len[cls]
    reason[lens == 0] = Reason.NO_WAREHOUSE

    back = (unfilled > 0) & inp.sku_backorder[inp.line_sku] & (lens > 0)
    if left_over is not None:
        back[left_over.lines] = False
    back = np.flatnonzero(back)
    if back.size:
        bo_wh = rc.route_wh[cls[back], 0]
        bo_qty = unfilled[back]
        unfilled[back] = 0
        reason[back] = Reason.BACKORDERED
        rec_rank = rc.wh_rank[cls[rec_line], rec_wh]
        lines = np.concatenate([rec_line, back])
        ranks = np.concatenate([rec_rank, np.zeros(back.size, np.int64)])
        bos = np.concatenate([rec_bo, np.ones(back.size, bool)])
        by = np.lexsort((bos, ranks, lines))
        rec_line = lines[by]
        rec_wh = np.concatenate([rec_wh, bo_wh])[by]
        rec_qty = np.concatenate([rec_qty, bo_qty])[by]
        rec_bo = bos[by]
    return AllocationArrays(rec_line, rec_wh, rec_qty, rec_bo, unfilled, reason), left_over


def _first_entry(c_end: np.ndarray, start: np.ndarray) -> np.ndarray:
    """Index of the first stock entry whose interval ends after each (sorted) ``start``:
    ``searchsorted(c_end, start, "right")``, by counting on a unit axis when that is short."""
    total = int(c_end[-1]) if c_end.size else 0
    if total <= 4 * start.size + 1024:
        ends_at = np.bincount(c_end, minlength=total + 1)
        return np.cumsum(ends_at)[start]
    return np.searchsorted(c_end, start, side="right")


def interval_lines(inp: Inputs, rc: RouteClasses) -> np.ndarray:
    """Per line: True when its SKU's lines all use route classes that are the same or
    share no warehouse, so the interval kernel is exact for them."""
    n_cls = rc.route_wh.shape[0]
    if not rc.conflict.any():
        return np.ones(inp.line_order.shape[0], bool)
    if n_cls > 62:
        return np.zeros(inp.line_order.shape[0], bool)
    cls = rc.channel_class[inp.line_channel]
    used = np.zeros(inp.n_skus, np.int64)
    np.bitwise_or.at(used, inp.line_sku, np.left_shift(1, cls))
    conflict_mask = (rc.conflict.astype(np.int64) << np.arange(n_cls)[None, :]).sum(axis=1)
    return (used[inp.line_sku] & conflict_mask[cls]) == 0
