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
line is booked at its first warehouse. With ``Fill.LINE`` (:func:`whole_lines`) or
``Fill.ORDER`` (:func:`whole_units`), which lines or orders are filled whole is decided
first, and only their lines are laid out.

Input: validated :class:`~stockkit.engine.inputs.Inputs` and a :class:`RouteClasses`;
output: the contract's arrays, in input order.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from stockkit.engine.inputs import Inputs
from stockkit.engine.policy import AllocationArrays, Fill, Reason
from stockkit.engine.threads import run_calls, run_parts
from stockkit.engine.ragged import cumsum_in_runs, expand, run_starts, runs

__all__ = ["CLASH_PROBE", "FEW_PRIORITIES", "PACK_BITS", "PAIR_TABLE", "RouteClasses", "ServiceLayout",
           "allocate_intervals", "by_group_then_rank", "group_candidates", "intervals_exact", "order_units",
           "priority_span", "route_classes", "service_keys", "service_layout", "service_order", "service_order_given",
           "short_at_turn", "whole_lines", "whole_units"]


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


class ServiceLayout(NamedTuple):
    """How :func:`service_keys` packs (priority, order, input position) into an int64:
    the lowest priority and order, the bits of the order (0 when :func:`service_layout`
    found the orders in turn and the whole key too wide for its room: then the position
    orders the lines of one priority alone) and of the position, and the whole key's
    width in bits."""

    p_min: int
    o_min: int
    bits_o: int
    bits_n: int
    width: int


def service_layout(inp: Inputs, room: int | None = None) -> ServiceLayout:
    """The :class:`ServiceLayout` of ``inp``'s lines, in at most ``room`` bits (default
    :data:`PACK_BITS`) where the orders come in turn and the whole key would be wider
    (the order number stays out)."""
    order, n = inp.line_order, inp.line_order.shape[0]
    if n == 0:
        return ServiceLayout(0, 0, 0, 1, 2)
    p_min, o_min = int(inp.line_priority.min()), int(order.min())
    bits_n = max(int(n - 1).bit_length(), 1)
    bits_o = max((int(order.max()) - o_min).bit_length(), 1)
    bits_p = max((int(inp.line_priority.max()) - p_min).bit_length(), 1)
    if bits_p + bits_o + bits_n > (PACK_BITS if room is None else room) and bool((order[1:] >= order[:-1]).all()):
        bits_o = 0
    return ServiceLayout(p_min, o_min, bits_o, bits_n, bits_p + bits_o + bits_n)


def service_keys(inp: Inputs, layout: ServiceLayout | None = None) -> np.ndarray | None:
    """One int64 per line whose order is the service order (priority, order, input
    position; the order left out where the layout says so), or None when they do not
    pack into :data:`PACK_BITS`. ``layout``: the :func:`service_layout` of these very inputs, when
    known (a layout without order bits is right only for orders in turn)."""
    n = inp.line_order.shape[0]
    if n == 0:
        return np.zeros(0, np.int64)
    p_min, o_min, bits_o, bits_n, width = service_layout(inp) if layout is None else layout
    if width > PACK_BITS:
        return None
    # built in place: one array of 8 bytes per line, and the arange
    keys = inp.line_priority - p_min
    if bits_o:
        keys <<= bits_o
        keys += inp.line_order
        keys -= o_min
    keys <<= bits_n
    keys |= np.arange(n)
    return keys


def priority_span(inp: Inputs) -> tuple[int, int] | None:
    """(lowest, highest) line priority when the orders come in turn (``line_order``
    never decreases), as they usually do; else None."""
    order, prio = inp.line_order, inp.line_priority
    if not order.size or not bool((order[1:] >= order[:-1]).all()):
        return None
    return int(prio.min()), int(prio.max())


def service_order(inp: Inputs) -> np.ndarray:
    """The lines in service order (priority, order, input position). When the orders come
    in turn, as they usually do, a stable sort by priority is the whole sort: a pass a
    priority where the priorities span fewer than :data:`FEW_PRIORITIES` values, else
    numpy's radix sort on 16-bit priorities."""
    return service_order_given(inp, priority_span(inp))


#: orders in turn whose priorities span fewer than this many values (lowest to highest)
#: are put in service order with a pass a priority (10M lines, two priorities: 30 ms, a
#: stable radix sort 74-195)
FEW_PRIORITIES = 4


def service_order_given(inp: Inputs, span: tuple[int, int] | None) -> np.ndarray:
    """:func:`service_order`, for a caller that has the :func:`priority_span` of ``inp``."""
    n = inp.line_order.shape[0]
    if span is not None:
        low, high = span
        if low == high:
            return np.arange(n)
        if high - low < FEW_PRIORITIES:
            # a pass a priority (express and standard, say): cheaper than any sort
            return np.concatenate([np.flatnonzero(inp.line_priority == p) for p in range(low, high + 1)])
        if high - low < 1 << 16:
            return np.argsort((inp.line_priority - low).astype(np.uint16), kind="stable")
    keys = service_keys(inp)
    if keys is None:
        return np.lexsort((np.arange(n), inp.line_order, inp.line_priority))
    keys.sort()
    return keys & ((1 << max(int(n - 1).bit_length(), 1)) - 1)


def by_group_then_rank(inp: Inputs, group: np.ndarray, layout: ServiceLayout) -> tuple[np.ndarray, np.ndarray] | None:
    """For when (group, service key) does not pack into 62 bits but (group, rank in
    service order) does (ten million lines in millions of orders, not in turn): the lines
    in service order and the sorted keys ``group << bits_n | rank`` (``group`` per input
    line); None when the service keys do not pack either."""
    service = service_keys(inp, layout)
    if service is None:
        return None
    service.sort()
    service &= (1 << layout.bits_n) - 1
    keys = group[service]
    keys <<= layout.bits_n
    keys |= np.arange(service.size)
    keys.sort()
    return service, keys


def order_units(line_order: np.ndarray) -> np.ndarray:
    """Per line a small non-negative number for its order (the lines of an order share
    its priority, so the order number alone tells orders apart)."""
    if not line_order.size:
        return np.zeros(0, np.int64)
    low = int(line_order.min())
    if int(line_order.max()) - low < 4 * line_order.size + 1024:
        return line_order - low
    return np.unique(line_order, return_inverse=True)[1].ravel()


#: rounds :func:`whole_lines` or :func:`whole_units` take at most (workload M needs 4 with
#: fill per line, 27 per order); a wave needing more goes to another kernel
WHOLE_ROUNDS = 256

#: sorted lines laid out at a time (whole (SKU, route) groups, so at least this many): a
#: chunk's working arrays stay small, and the peak memory is little more than the result's
CHUNK = 1 << 18


class _GroupStock(NamedTuple):
    """Stock records along each (SKU, route) group: entry ``k`` covers units
    ``[c_end[k] - ent_stock[k], c_end[k])`` of the global stock axis; group ``g`` starts
    at ``base[g]`` and holds ``total[g]`` units."""

    c_end: np.ndarray
    ent_stock: np.ndarray
    ent_wh: np.ndarray
    base: np.ndarray
    total: np.ndarray


def group_candidates(inp: Inputs, rc: RouteClasses, rec_sku: np.ndarray,
                     rec_wh: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The records (SKU ``rec_sku``, warehouse ``rec_wh``) of each (SKU, route class)
    group, one entry per (record, class linked to its warehouse), in route order: their
    record index, their rank on the route, and the offsets of the groups (SKU times
    classes plus class) in them."""
    n_cls = rc.route_wh.shape[0]
    ranks = np.take(rc.wh_rank, rec_wh, axis=1)       # (classes, records); take is ~3x fancy indexing
    # the flat positions, split in two: a third of np.nonzero's time on a 2-d array
    at = np.flatnonzero(ranks >= 0)
    ent_cls, ent_rec = np.divmod(at, max(rec_wh.size, 1))
    ent_rank = ranks.ravel()[at]
    group = rec_sku[ent_rec] * n_cls + ent_cls
    depth = rc.route_wh.shape[1]
    n_ent = ent_rec.size
    if (inp.n_skus * n_cls * depth).bit_length() + n_ent.bit_length() <= PACK_BITS:
        by = np.sort((group * depth + ent_rank) * (n_ent + 1) + np.arange(n_ent)) % (n_ent + 1)
    else:
        by = np.lexsort((ent_rank, group))        # (group, rank) too wide to pack with a position
    counts = np.bincount(group, minlength=inp.n_skus * n_cls)
    offsets = np.concatenate(([0], np.cumsum(counts)))
    return ent_rec[by], ent_rank[by], offsets


def _group_stock(inp: Inputs, rc: RouteClasses) -> _GroupStock:
    """Stack the stock of each (SKU, route) group along its route: one entry per (record,
    class holding its warehouse)."""
    has = np.flatnonzero(inp.stock_available > 0)
    rec_wh, rec_avail = inp.stock_warehouse[has], inp.stock_available[has]
    ent_rec, _, offsets = group_candidates(inp, rc, inp.stock_sku[has], rec_wh)
    n_ent = ent_rec.size
    ent_stock = rec_avail[ent_rec]
    c_end = np.cumsum(ent_stock)
    # each group's stock, exactly: entries are sorted by group, so it is a difference of c_end
    c0 = np.concatenate(([0], c_end))
    base = c0[offsets[:-1]]
    total = c0[offsets[1:]] - base
    if n_ent == 0:  # nothing anywhere: one empty entry keeps the lookups in bounds
        return _GroupStock(np.zeros(1, np.int64), np.zeros(1, np.int64), np.zeros(1, np.int64), base, total)
    return _GroupStock(c_end, ent_stock, rec_wh[ent_rec], base, total)


class _SortedLines:
    """The lines in (group, service) order: one packed, sorted int64 per line when
    (group, service) fits in 62 bits; else, when (group, service rank) does, the lines in
    service order and one packed (group, rank) per line; else the permutation and groups
    themselves."""

    def __init__(self, inp: Inputs, rc: RouteClasses, n_groups: int) -> None:
        n = inp.line_order.shape[0]
        n_cls = rc.route_wh.shape[0]
        bits_g = max(int(n_groups).bit_length(), 1)
        layout = service_layout(inp, PACK_BITS - bits_g)
        self.bits_n = layout.bits_n
        self.bits_s = layout.width
        self.orders_in_keys = layout.bits_o > 0
        self.keys: np.ndarray | None = None
        self.by_rank: np.ndarray | None = None
        group = rc.channel_class[inp.line_channel]
        group += inp.line_sku * n_cls
        if layout.width + bits_g <= PACK_BITS:
            # built and sorted in place: one array of 8 bytes per line
            group <<= self.bits_s
            group |= service_keys(inp, layout)
            group.sort()
            self.keys = group
            return
        # keys too wide even so (many orders not in turn, or wide priorities and
        # positions): the lines in service order first, then (group, rank in service)
        # packs
        ranked = by_group_then_rank(inp, group, layout) if self.bits_n + bits_g <= PACK_BITS else None
        if ranked is not None:
            self.by_rank, self.keys = ranked
            self.bits_s = self.bits_n
        else:
            self.perm = np.lexsort((np.arange(n), inp.line_order, inp.line_priority, group))
            self.group = group[self.perm]

    def part(self, lo: int, hi: int) -> tuple[np.ndarray, np.ndarray]:
        """(input line, group) of sorted positions ``lo`` to ``hi``."""
        if self.keys is None:
            return self.perm[lo:hi], self.group[lo:hi]
        k = self.keys[lo:hi]
        low = k & ((1 << self.bits_n) - 1)
        return (low if self.by_rank is None else self.by_rank[low]), k >> self.bits_s

    def group_end(self, at: int) -> int:
        """The first sorted position after ``at`` of another group."""
        if self.keys is None:
            return int(np.searchsorted(self.group, self.group[at], side="right"))
        nxt = ((int(self.keys[at]) >> self.bits_s) + 1) << self.bits_s
        return int(np.searchsorted(self.keys, nxt))

    def units(self, inp: Inputs, perm: np.ndarray) -> np.ndarray:
        """Per sorted line, the unit it is decided with: the line itself (``Fill.LINE``),
        or its order (``Fill.ORDER``; the lines of an order share its priority, so the
        order number names it) as a small non-negative integer."""
        if inp.policy.fill is Fill.LINE:
            return perm
        if self.keys is not None and self.by_rank is None and self.orders_in_keys and perm.size:
            key = (self.keys & ((1 << self.bits_s) - 1)) >> self.bits_n     # (priority, order) packed
            if int(key.max()) < 4 * perm.size + 1024:
                return key
        return order_units(inp.line_order[perm])


def allocate_intervals(inp: Inputs, rc: RouteClasses, threads: int = 1) -> AllocationArrays | None:
    """Allocate the lines of ``inp`` by intervals. The caller checked that this is exact:
    split allowed, no ship complete, and no SKU with lines of two conflicting route
    classes (see :func:`intervals_exact`).

    With ``Fill.LINE`` or ``Fill.ORDER`` a line or order that cannot be filled whole takes
    nothing: :func:`whole_lines` or :func:`whole_units` first decides which units are
    filled, then the intervals are laid out over their lines alone (None when that takes
    more than :data:`WHOLE_ROUNDS` rounds, for the caller to use another kernel). Lines are
    laid out in chunks of whole groups (:data:`CHUNK`), ``threads`` chunks side by side
    (numpy releases the GIL in its loops), into per-line arrays that become the result;
    on waves of two chunks or more, grouping the stock and sorting the lines run side by
    side first."""
    n = inp.line_order.shape[0]
    n_cls = rc.route_wh.shape[0]
    n_groups = inp.n_skus * n_cls
    # the stock by group and the lines sorted (the service keys live only while they sort,
    # or become the service order) do not depend on each other
    stock, lines = run_calls((lambda: _group_stock(inp, rc), lambda: _SortedLines(inp, rc, n_groups)),
                             threads > 1 and n >= 2 * CHUNK)
    c_end, ent_wh = stock.c_end, stock.ent_wh

    whole = inp.policy.fill is not Fill.PARTIAL
    by_order = inp.policy.fill is Fill.ORDER
    if whole:
        perm_all, g_all = lines.part(0, n)
        q_all = inp.line_quantity[perm_all]
        new_group = np.ones(n, bool)
        new_group[1:] = g_all[1:] != g_all[:-1]
        starts_all = np.flatnonzero(new_group)
        g_first = g_all[starts_all]
        routed_g = rc.route_len[g_first % n_cls] > 0
        free_g = inp.sku_backorder[g_first // n_cls] & routed_g      # back-orderable: never refused
        # units (lines, or orders) that cannot be filled whole take nothing; only the
        # others enter the intervals
        if by_order:
            sizes = np.diff(np.append(starts_all, n))
            routed = np.repeat(routed_g, sizes)
            unit = lines.units(inp, perm_all)
            ok = whole_units(g_all, q_all, unit, np.repeat(routed_g & ~free_g, sizes), ~routed, stock.total,
                             new_group)
            refused = None if ok is None else np.flatnonzero(~ok)
            q_take = q_all.copy()
        else:
            # a line without a route finds no stock: limited to none, it is refused
            refused = whole_lines(q_all, starts_all, np.where(routed_g, stock.total[g_first], 0), ~free_g)
            q_take = q_all
        if refused is None:
            return None
        q_take[refused] = 0
        del new_group, g_first, routed_g, free_g
    filled = np.empty(n, np.int64)
    wh_in = np.empty(n, np.int32 if inp.n_warehouses < 2**31 else np.int64)
    # chunks of whole groups, laid out side by side (each writes its own lines)
    bounds = [0]
    while bounds[-1] < n:
        lo = bounds[-1]
        bounds.append(n if lo + CHUNK >= n else lines.group_end(lo + CHUNK - 1))
    chunks = list(zip(bounds[:-1], bounds[1:], strict=True))

    def lay_out(chunk: tuple[int, int]) -> tuple[tuple[np.ndarray, ...] | None, tuple[np.ndarray, np.ndarray] | None]:
        """The chunk's lines into ``filled`` and ``wh_in``; (its lines that span several
        records, its failed lines and their reasons), each None where there are none."""
        lo, hi = chunk
        if whole:       # chunks start groups, so the whole wave's group starts serve
            perm, g, q = perm_all[lo:hi], g_all[lo:hi], q_take[lo:hi]
            starts = starts_all[np.searchsorted(starts_all, lo):np.searchsorted(starts_all, hi)] - lo
        else:
            perm, g = lines.part(lo, hi)
            q = inp.line_quantity[perm]
            starts = run_starts(g)
        # cumulative demand within each group, in service order, on the global stock axis
        d_start = cumsum_in_runs(q, starts, before=True)
        gb, gt = stock.base[g], stock.total[g]
        s = gb + np.minimum(d_start, gt)
        e = gb + np.minimum(d_start + q, gt)
        a = _first_entries(stock, s)
        filled[perm] = e - s
        wh_in[perm] = ent_wh[a]
        # most lines fit in one record; the few that span several are spread out below
        multi = np.flatnonzero(e > c_end[a])
        span = (perm[multi], s[multi], e[multi], a[multi]) if multi.size else None
        failed = None
        if whole and by_order:
            # a failed order's lines: short when they could not be filled at its turn,
            # else failed with their order
            f = np.flatnonzero(~ok[lo:hi] & routed[lo:hi])
            short = short_at_turn(f, q_all[lo:hi], gt - d_start, g, unit[lo:hi])
            short &= ~inp.sku_backorder[g[f] // n_cls]
            failed = (perm[f], np.where(short, Reason.SHORT, Reason.ORDER_INCOMPLETE).astype(np.uint8))
        return span, failed

    laid = []
    for at in range(0, len(chunks), threads):
        laid += run_parts(lay_out, chunks[at:at + threads])
    # lines that take from several records, chunk by chunk
    spans = [span for span, _ in laid if span is not None]
    failed_lines = [f[0] for _, f in laid if f is not None]
    failed_reasons = [f[1] for _, f in laid if f is not None]
    # what the chunks read is let go of before the records are made (the lay-out's
    # closure holds the names, so they are unbound rather than deleted)
    laid = None
    if whole:
        g_all = q_all = q_take = None
    if by_order:
        ok = routed = unit = None
    lines = lay_out = None

    rec_line, rec_wh, rec_qty = _records(filled, wh_in, spans, stock)
    wh_in = spans = None
    unfilled = np.subtract(inp.line_quantity, filled, out=filled)
    reason = (unfilled > 0).view(np.uint8) * np.uint8(Reason.SHORT)       # else FILLED, 0
    no_route = (rc.route_len == 0)[rc.channel_class][inp.line_channel]
    reason[no_route] = Reason.NO_WAREHOUSE
    back = (unfilled > 0) & inp.sku_backorder[inp.line_sku] & ~no_route
    if whole:
        back[perm_all[refused]] = False
    if failed_lines:
        reason[np.concatenate(failed_lines)] = np.concatenate(failed_reasons)
    return _with_back_orders(inp, rc, AllocationArrays(rec_line, rec_wh, rec_qty, np.zeros(rec_line.size, bool),
                                                      unfilled, reason), np.flatnonzero(back))


def _first_entries(stock: _GroupStock, s: np.ndarray) -> np.ndarray:
    """Per line starting at ``s`` on the stock axis (``s`` must be sorted, as lines in
    group order are), the first entry whose interval ends after ``s``, kept in bounds.

    That is the number of entries ending at or before ``s``. Searching each entry's end
    among the lines, and summing up, finds it: a sorted search costs a few mispredicted
    branches a key, and a chunk has several lines an entry."""
    c_end = stock.c_end
    if not s.size:
        return np.zeros(0, np.int64)
    lo, hi = np.searchsorted(c_end, [s[0], s[-1]], side="right")
    # entry j counts for the lines from the first one starting at or after its end
    counted = np.bincount(np.searchsorted(s, c_end[lo:hi], side="left"), minlength=s.size + 1)
    first = np.cumsum(counted[:s.size])
    first += lo
    return np.minimum(first, c_end.size - 1, out=first)


def _records(filled: np.ndarray, wh_in: np.ndarray, spans: list[tuple[np.ndarray, ...]],
             stock: _GroupStock) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Records (line, warehouse, quantity) sorted by line and route: one per line that got
    units (``filled`` from warehouse ``wh_in``), several for the lines of ``spans``
    (line, start and end on the stock axis, first entry) that take from several records."""
    first = np.flatnonzero(filled)
    if not spans:
        return first, wh_in[first].astype(np.int64), filled[first]
    c_end, ent_stock, ent_wh = stock.c_end, stock.ent_stock, stock.ent_wh
    m_line, m_s, m_e, m_a = (np.concatenate(part) for part in zip(*spans))
    # the spans come in stock order, where searching their ends is a sorted search
    extra = np.searchsorted(c_end, m_e - 1, side="right") - m_a
    by = np.argsort(m_line)
    m_line, m_s, m_e, m_a, extra = m_line[by], m_s[by], m_e[by], m_a[by], extra[by]
    reps = np.ones(first.size, np.int32)
    at = np.searchsorted(first, m_line)
    reps[at] += extra.astype(np.int32)
    head = at + (np.cumsum(extra) - extra)     # each spanning line's first record
    # one result column at a time, the others gathered through it (it is sorted, so the
    # gathers read in order), so that little lives beside the result
    rec_line = np.repeat(first, reps)
    del first, reps
    rec_qty = filled[rec_line]
    rec_wh = wh_in[rec_line].astype(np.int64)
    rec_qty[head] = c_end[m_a] - m_s
    line_of = np.repeat(np.arange(m_line.size), extra)
    j = np.arange(line_of.size) - np.repeat(np.cumsum(extra) - extra, extra) + 1
    k = m_a[line_of] + j
    pos = head[line_of] + j
    rec_qty[pos] = np.minimum(m_e[line_of], c_end[k]) - (c_end[k] - ent_stock[k])
    rec_wh[pos] = ent_wh[k]
    return rec_line, rec_wh, rec_qty


def _with_back_orders(inp: Inputs, rc: RouteClasses, result: AllocationArrays, back: np.ndarray) -> AllocationArrays:
    """``result`` with the unfilled units of lines ``back`` booked as back orders at their
    route's first warehouse (records after the line's stock records)."""
    if not back.size:
        return result
    rec_line, rec_wh, rec_qty, rec_bo, unfilled, reason = result
    cls = rc.channel_class[inp.line_channel[back]]
    bo_wh = rc.route_wh[cls, 0]
    bo_qty = unfilled[back]
    unfilled[back] = 0
    reason[back] = Reason.BACKORDERED
    rec_rank = rc.wh_rank[rc.channel_class[inp.line_channel[rec_line]], rec_wh]
    lines = np.concatenate([rec_line, back])
    ranks = np.concatenate([rec_rank, np.zeros(back.size, np.int64)])
    bos = np.concatenate([rec_bo, np.ones(back.size, bool)])
    by = np.lexsort((bos, ranks, lines))
    return AllocationArrays(lines[by], np.concatenate([rec_wh, bo_wh])[by], np.concatenate([rec_qty, bo_qty])[by],
                            bos[by], unfilled, reason)


def whole_lines(qty: np.ndarray, starts: np.ndarray, total: np.ndarray, limited: np.ndarray) -> np.ndarray | None:
    """Which lines are not filled whole (``Fill.LINE``), as the sequential rule decides
    them: their sorted positions (None after :data:`WHOLE_ROUNDS` rounds).

    Lines come sorted by (group, service order), group ``k`` starting at ``starts[k]``. In
    a ``limited`` group a line is filled when its quantity fits in ``total[k]`` (at least 0)
    less what the filled lines before it took; the other groups' lines are all filled.

    With one line a unit, the greedy is a prefix and a short tail. The lines before the
    first whose cumulative demand passes the group's stock are filled (a searchsorted on
    one cumsum finds it); that line is not, and leaves less than its quantity. In each
    round the tail's lines that do not fit in what is left drop out for good (it only
    shrinks); of the rest, the prefix of each group that fits is filled, and the line after
    it starts the next round with less left. Every round fills at least a line in each
    group it keeps, and with small quantities the tails are short and done in a few rounds.

    >>> whole_lines(np.array([2, 4, 2, 1, 4]), np.array([0]), np.array([5]), np.array([True])).tolist()
    [1, 4]
    """
    n = qty.shape[0]
    if not starts.size:
        return np.zeros(0, np.int64)
    c = np.cumsum(qty)
    ends = np.append(starts[1:], n)
    before = c[starts] - qty[starts]
    tight = np.flatnonzero(limited & (c[ends - 1] - before > total))
    ends, bound = ends[tight], before[tight] + total[tight]
    first_out = np.searchsorted(c, bound, side="right")
    left = bound - (c[first_out] - qty[first_out])
    del c, before
    # the tail of each tight group: its first line out, then lines that may still fit
    size = ends - first_out
    offsets = np.cumsum(size) - size
    tail = np.arange(int(offsets[-1] + size[-1]) if size.size else 0) + np.repeat(first_out - offsets, size)
    tail_group = np.repeat(np.arange(tight.size), size)
    fit = np.zeros(tail.size, bool)
    at = np.arange(tail.size)                   # the tail's lines still open
    rounds = 0
    while True:
        at = at[qty[tail[at]] <= left[tail_group[at]]]      # lines that no longer fit never will
        if not at.size:
            return tail[~fit]
        if rounds == WHOLE_ROUNDS:
            return None
        rounds += 1
        q, grp = qty[tail[at]], tail_group[at]
        heads = run_starts(grp)
        took = cumsum_in_runs(q, heads)
        fits = took <= left[grp]                # a prefix of each group's open lines, never empty
        fit[at[fits]] = True
        left[grp[heads]] -= took[heads + np.add.reduceat(fits, heads) - 1]
        at = at[~fits]


def whole_units(group: np.ndarray, qty: np.ndarray, unit: np.ndarray, limited: np.ndarray,
                doomed: np.ndarray, total: np.ndarray, new_group: np.ndarray) -> np.ndarray | None:
    """Which units are filled whole, as the sequential rule decides them; per line (None
    after :data:`WHOLE_ROUNDS` rounds).

    Lines come sorted by (``group``, service order), ``new_group`` marking each group's
    first line; a group's stock is ``total[group]``. A unit (a line or an order, numbered
    by ``unit``) is filled when each of its ``limited`` lines still finds its quantity
    (together with the unit's earlier lines of the same group) in its group's stock, after
    the filled units before it took theirs; a unit with a ``doomed`` line is never filled;
    other lines (back-orderable) never stop a unit.

    Decided in rounds, without a loop over lines. Each round bounds what the still-open
    units before a line may take: at most all of them (every open unit filled), at least
    none. A line that fits even under the first bound fits; one that does not fit under
    the second never will. A unit all of whose lines surely fit is filled; one with a
    line that surely does not is not. The earliest open unit has nothing open before it,
    so its bounds agree and every round decides at least it; on realistic waves a round
    decides all but the lines near the point where a group runs short, but quantities
    that alternately just fail and fit near that point can leave one decision per round,
    hence the limit. Decided lines before a
    group's first open line leave the rounds, their takings subtracted from its stock.
    """
    n = qty.shape[0]
    if not n:
        return np.ones(0, bool)
    size = int(unit.max()) + 1
    status = np.zeros(size, np.int8)                   # 0 open, 1 filled, 2 not filled
    status[unit[doomed]] = 2
    starts = np.flatnonzero(new_group)
    # per group, a difference of one cumsum (faster than np.add.reduceat)
    want = np.where(limited, qty, 0)
    took = np.cumsum(want)
    demand = took[np.append(starts[1:], n) - 1] - took[starts] + want[starts]
    tight = demand > total[group[starts]]
    del want, took
    # only groups that cannot fill all their limited lines can stop a unit
    idx = np.flatnonzero(limited & np.repeat(tight, np.diff(np.append(starts, n))))
    m = idx.size
    g, u, q = group[idx], unit[idx], qty[idx]
    run_new = np.ones(m, bool)
    run_new[1:] = (u[1:] != u[:-1]) | new_group[idx[1:]] | (idx[1:] != idx[:-1] + 1)
    del idx
    # what the unit's earlier lines of the same group take before each line, with it
    c = np.cumsum(q)
    run_start = np.flatnonzero(run_new)
    own = c - np.repeat((c - q)[run_start], np.diff(np.append(run_start, m)))
    del c, run_new, run_start
    left = total.copy()                                 # per group: stock not taken by lines that left
    verdict = np.zeros(size, np.int8)                  # per unit this round: 1 unsure, 2 fails
    settle = np.array([1, 0, 2], np.int8)              # the status a verdict gives an open unit
    # the rounds' lines (group, unit, quantity, own, status), compressed as they leave
    st = status[u]
    for _ in range(WHOLE_ROUNDS):
        m = g.size
        if not m:
            return status[unit] != 2          # units without limited lines are filled
        gs = run_starts(g)
        sizes = np.diff(np.append(gs, m))
        cap = left[g]
        # every open unit before filled, and this one
        upper = cumsum_in_runs(np.where(st != 2, q, 0), gs)
        # only the filled ones, and this unit's lines
        lower = cumsum_in_runs(np.where(st == 1, q, 0), gs, before=True)
        lower += own
        is_open = st == 0
        verdict[u[is_open & (upper > cap)]] = 1
        verdict[u[is_open & (lower > cap)]] = 2
        ou = u[is_open]
        now = settle[verdict[ou]]
        status[ou] = now
        verdict[ou] = 0
        st[is_open] = now
        # lines leave the rounds once nothing depends on them: lines before their group's
        # first open line (decided for good; the filled ones' takings come off the stock),
        # lines of units that are not filled (they take nothing), and groups whose lines
        # would all fit even if every open unit were filled
        pos = np.where(st == 0, np.arange(m), m)
        first_open = np.minimum.reduceat(pos, gs)
        ends = gs + sizes - 1
        tight_g = upper[ends] > cap[ends]
        after = np.arange(m) >= np.repeat(first_open, sizes)
        in_tight = np.repeat(tight_g, sizes)
        stay = after & (st != 2) & in_tight
        gone = np.flatnonzero(~after & (st == 1) & in_tight)
        if gone.size:
            gg = g[gone]
            heads = run_starts(gg)
            left[gg[heads]] -= np.add.reduceat(q[gone], heads)
        g, u, q, own, st = g[stay], u[stay], q[stay], own[stay], st[stay]
    return None


def short_at_turn(f: np.ndarray, qty: np.ndarray, have: np.ndarray, group: np.ndarray,
                   unit: np.ndarray) -> np.ndarray:
    """For lines ``f`` of orders that were not filled (sorted by group, then service):
    whether each lacked stock at its order's turn. ``have[f]`` is its group's stock then,
    the same for all of an order's lines of one group (they take nothing, so they share
    it); the order's earlier lines of the same group took theirs first unless they lacked
    too."""
    m = f.size
    if m == 0:
        return np.zeros(0, bool)
    run_new = np.ones(m, bool)
    run_new[1:] = (group[f[1:]] != group[f[:-1]]) | (unit[f[1:]] != unit[f[:-1]]) | (f[1:] != f[:-1] + 1)
    starts = np.flatnonzero(run_new)
    run = np.cumsum(run_new) - 1
    q, h = qty[f], np.maximum(have[f], 0)
    short = np.zeros(m, bool)
    # a run (an order's lines of one group) whose lines fit together has no short line;
    # the others go rank by rank: a line lacking stock takes nothing, so the next may fit
    tight = np.flatnonzero((np.add.reduceat(q, starts) > h[starts])[run])
    if tight.size == 0:
        return short
    rank = tight - starts[run[tight]]
    order = np.argsort(rank, kind="stable")
    by_rank = tight[order]
    bounds = np.searchsorted(rank[order], np.arange(int(rank.max()) + 2))
    taken = np.zeros(starts.size, np.int64)
    for r in range(bounds.size - 1):
        at = by_rank[bounds[r]:bounds[r + 1]]          # one line per tight run
        lacks = q[at] > h[at] - taken[run[at]]
        short[at] = lacks
        took = at[~lacks]
        taken[run[took]] += q[took]
    return short


#: sort keys up to this many bits wide are packed with a position into one int64 and
#: sorted with ``np.sort``; wider ones go to ``np.lexsort``
PACK_BITS = 62

#: (SKU, route class) pairs :func:`intervals_exact` counts in one table at most (and
#: at most 8 a line); past that it sorts the lines' pairs to find the distinct ones
PAIR_TABLE = 1 << 22


def intervals_exact(inp: Inputs, rc: RouteClasses) -> bool:
    """Whether every SKU's lines use route classes that are the same or share no
    warehouse, so that the interval kernel is exact for the lines of ``inp``.

    The first :data:`CLASH_PROBE` lines are looked at first: where classes clash,
    popular SKUs show it there. Else it costs one pass over the lines and then work in
    proportion to the pairs of distinct classes that order one SKU, whatever the number
    of classes."""
    if not rc.conflict.any():
        return True
    head = slice(0, CLASH_PROBE)
    if inp.line_sku.size > CLASH_PROBE and _classes_clash(inp.line_sku[head], inp.line_channel[head], inp, rc):
        return False
    return not _classes_clash(inp.line_sku, inp.line_channel, inp, rc)


#: lines :func:`intervals_exact` looks at first
CLASH_PROBE = 1 << 14


def _classes_clash(sku: np.ndarray, channel: np.ndarray, inp: Inputs, rc: RouteClasses) -> bool:
    """Whether lines (``sku``, ``channel``) of one SKU use two route classes that share
    a warehouse."""
    n_cls = rc.route_wh.shape[0]
    key = sku * n_cls + rc.channel_class[channel]
    if inp.n_skus * n_cls <= min(PAIR_TABLE, 8 * key.size):
        used = np.flatnonzero(np.bincount(key, minlength=inp.n_skus * n_cls))
    else:
        used = np.unique(key)
    # the distinct (SKU, class) pairs, by SKU: compare every two classes of one SKU
    starts, seg = runs(used // n_cls)
    ends = np.append(starts[1:], used.size)
    owner, other = expand(np.arange(used.size) + 1, ends[seg])
    p_cls = used % n_cls
    return bool(rc.conflict[p_cls[owner], p_cls[other]].any())
