"""The event kernel: split lines, partial fill, on routes that rank warehouses differently.

Where channels share warehouses but rank them differently (overlapping channels), lines of
one SKU draw on different records, so the interval form does not hold. But between two
moments at which one of the SKU's records runs dry, every line of a route class takes its
whole quantity from that class's current record (its most preferred one with stock). So
per SKU the greedy is a short sequence of *events*, one per record that runs dry, and the
lines between two events are settled in one go.

Lines are sorted by (SKU, service order). A column per class holds the cumulative demand
of the class's lines among the first ``k`` sorted lines, so the demand a stretch of lines
puts on a record is a difference of entries, summed over the classes currently pointing at
that record (a column per class, or the sum of the columns of classes that share their
record, made when first needed: every column is non-decreasing). Each round, for every
SKU still open and every class, one ``searchsorted`` finds the first line whose demand the
class's record cannot meet; the earliest such line per SKU is the event. Lines before it
take their quantity from their class's record; the event line takes what its record has
left and walks on along its route, as
the sequential rules say; pointers then move past records that ran dry. Each round
empties at least one record of every open SKU, so a SKU leaves after at most as many
rounds as it has records, and a round costs in proportion to the open SKUs, not to their
lines. With ``Fill.LINE`` an event line that its route cannot fill whole takes nothing
instead (a round then refuses a line rather than emptying a record); a wave that would
take many such rounds is handed back to the caller.

Exact for ``split=True``, ``Fill.PARTIAL`` or ``Fill.LINE``, no ship complete and
priority routes (one order per route class) with at most :data:`MAX_CLASSES` classes;
other policies go to the rounds kernel.
"""

from __future__ import annotations

import numpy as np

from stockkit.engine.inputs import Inputs
from stockkit.engine.kernel_intervals import RouteClasses, service_keys
from stockkit.engine.policy import AllocationArrays, Fill, Reason, RouteOrder, ShipComplete
from stockkit.engine.problem import expand, group_candidates

__all__ = ["MAX_CLASSES", "ROUNDS_PER_RECORD", "SHARED_COLUMNS", "allocate_events", "events_apply"]

#: sums of columns kept for sets of classes that share a record (8 bytes per line each);
#: other sets find their events by bisection
SHARED_COLUMNS = 4

#: with ``Fill.LINE`` a round may refuse a line instead of emptying a record; a wave that
#: needs more rounds than this many per record of its largest (SKU, class) group (lines
#: that ask more than their route holds, one after another) is left to the rounds kernel
ROUNDS_PER_RECORD = 4

#: the kernel keeps a column of 8 bytes per line and class (and :data:`SHARED_COLUMNS`
#: more) and compares every pair of classes of a SKU each round: it serves waves with at
#: most this many route classes
MAX_CLASSES = 8


def events_apply(inp: Inputs, rc: RouteClasses) -> bool:
    """Whether :func:`allocate_events` is exact for ``inp`` (see the module docstring)."""
    policy = inp.policy
    return (policy.split and policy.fill is not Fill.ORDER and policy.ship_complete is ShipComplete.OFF
            and (policy.route is RouteOrder.PRIORITY or bool(np.isnan(inp.line_lat).all()))
            and rc.route_wh.shape[0] <= MAX_CLASSES)


def _sorted_lines(inp: Inputs) -> np.ndarray:
    """Input lines in (SKU, service) order."""
    n = inp.line_order.shape[0]
    service = service_keys(inp)
    bits_n = max(int(n - 1).bit_length(), 1)
    bits_s = max(int(service.max()).bit_length(), 1) if service is not None and n else 0
    if service is not None and bits_s + max(int(inp.n_skus).bit_length(), 1) <= 62:
        keys = inp.line_sku << bits_s
        keys |= service
        keys.sort()
        keys &= (1 << bits_n) - 1
        return keys
    return np.lexsort((np.arange(n), inp.line_order, inp.line_priority, inp.line_sku))


def _bisect(columns: list[np.ndarray], target: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Per row, the first ``k`` in ``(lo, hi]`` at which the sum of ``columns`` exceeds
    ``target`` (``hi + 1`` when none does); the sum is non-decreasing."""
    def total(at: np.ndarray) -> np.ndarray:
        return sum(column[at] for column in columns)

    none = total(hi) <= target
    lo, hi = lo.copy(), hi.copy()
    while (hi - lo > 1).any():
        mid = (lo + hi) // 2
        over = total(mid) > target
        hi = np.where(over, mid, hi)
        lo = np.where(over, lo, mid)
    return np.where(none, hi + 1, hi)


def allocate_events(inp: Inputs, rc: RouteClasses) -> AllocationArrays | None:
    """Allocate the lines of ``inp`` event by event (the caller checked
    :func:`events_apply`), or None after :data:`ROUNDS_PER_RECORD` rounds per record of
    the SKU that has most (see the module docstring), for the caller to use another kernel."""
    n = inp.line_order.shape[0]
    n_cls = rc.route_wh.shape[0]
    whole_lines = inp.policy.fill is Fill.LINE
    perm = _sorted_lines(inp)
    sku = inp.line_sku[perm]
    cls = rc.channel_class[inp.line_channel[perm]]
    qty = inp.line_quantity[perm]
    # per class, the cumulative demand of its lines among the first k sorted lines: one
    # non-decreasing column each, so a class alone on its record finds its event by searchsorted
    columns = []
    for c in range(n_cls):
        column = np.zeros(n + 1, np.int64)
        np.cumsum(np.where(cls == c, qty, 0), out=column[1:])
        columns.append(column)
    columns_of = {1 << c: columns[c] for c in range(n_cls)}

    positive = inp.stock_available > 0
    rec_sku, rec_wh = inp.stock_sku[positive], inp.stock_warehouse[positive]
    stock = np.append(inp.stock_available[positive], 0)   # the last slot, always empty, is read as "none"
    ent_rec, ent_rank, offsets = group_candidates(inp, rc, rec_sku, rec_wh)
    n_ent = ent_rec.size
    ent_rec_safe = np.append(ent_rec, 0)                 # one past the end reads record 0, masked

    new = np.ones(n, bool)
    new[1:] = sku[1:] != sku[:-1]
    starts = np.flatnonzero(new)
    k0 = starts.copy()
    end = np.append(starts[1:], n)
    group0 = sku[starts][:, None] * n_cls + np.arange(n_cls)
    ptr, ptr_end = offsets[group0], offsets[group0 + 1]

    line_ent = np.full(n, -1, np.int64)                  # the record entry a settled line takes all from
    ev_pos: list[np.ndarray] = []                        # event lines' takings: position, entry, units
    ev_ent: list[np.ndarray] = []
    ev_qty: list[np.ndarray] = []
    ev_short: list[tuple[np.ndarray, np.ndarray]] = []   # event lines left short: position, units
    active = np.flatnonzero(k0 < end)
    budget = ROUNDS_PER_RECORD * (int(np.diff(offsets).max()) if offsets.size > 1 else 0) + 64
    while active.size:
        budget -= 1
        if budget < 0:
            return None
        m = active.size
        K0, E = k0[active], end[active]
        P, PE = ptr[active], ptr_end[active]
        valid = P < PE
        R = np.where(valid, ent_rec_safe[np.minimum(P, n_ent)], -1)
        same = (R[:, :, None] == R[:, None, :]) & valid[:, :, None]     # classes drawing on one record
        # the classes on each (SKU, class)'s record, as a bit mask
        mask = (same * (1 << np.arange(n_cls))).sum(axis=2)
        cap = np.where(valid, stock[R], 0)
        Q0 = np.stack([column[K0] for column in columns], axis=1)
        rows_parts, hi_parts = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)]
        for bits in np.unique(mask[valid]).tolist():
            # the first prefix whose demand on the record exceeds what it holds; classes
            # sharing a record read the sum of their columns, made when first needed (at
            # most SHARED_COLUMNS sums are kept; other sets of classes bisect)
            if bits not in columns_of and len(columns_of) < n_cls + SHARED_COLUMNS:
                columns_of[bits] = sum(columns[c] for c in range(n_cls) if bits >> c & 1)
            rows, classes = np.nonzero(valid & (mask == bits))
            base = sum(Q0[rows, c] for c in range(n_cls) if bits >> c & 1)
            if bits in columns_of:
                at = np.searchsorted(columns_of[bits], base + cap[rows, classes], side="right")
            else:
                at = _bisect([columns[c] for c in range(n_cls) if bits >> c & 1], base + cap[rows, classes],
                             K0[rows], E[rows])
            hit = at <= E[rows]
            rows_parts.append(rows[hit])
            hi_parts.append(at[hit])
        rows, hi = np.concatenate(rows_parts), np.concatenate(hi_parts)
        first = np.full(m, n + 1, np.int64)
        np.minimum.at(first, rows, hi)
        event = first <= E
        stop = np.where(event, first - 1, E)             # lines [K0, stop) settle whole

        # the settled lines: their class's record gives all
        own, k = expand(K0, stop)
        line_ent[k] = np.where(valid[own, cls[k]], P[own, cls[k]], -1)
        took = np.where(valid, np.stack([column[stop] for column in columns], axis=1) - Q0, 0)
        np.subtract.at(stock, R[valid], took[valid])

        # the event lines: what their record has left, then on along their route
        ev = np.flatnonzero(event)
        if ev.size:
            line = stop[ev]
            c = cls[line]
            need = qty[line]
            owner, e = expand(P[ev, c], PE[ev, c])
            have = stock[ent_rec[e]]
            before = np.cumsum(have) - have
            seg_start = np.cumsum(PE[ev, c] - P[ev, c]) - (PE[ev, c] - P[ev, c])
            before -= before[seg_start][owner]
            give = np.clip(need[owner] - before, 0, have)
            if whole_lines:
                # a line its route cannot fill whole takes nothing (unless it may back order)
                refused = (np.add.reduceat(have, seg_start) < need) & ~inp.sku_backorder[sku[line]]
                give[refused[owner]] = 0
            got = give > 0
            ev_pos.append(line[owner[got]])
            ev_ent.append(e[got])
            ev_qty.append(give[got])
            np.subtract.at(stock, ent_rec[e[got]], give[got])
            short = need - np.bincount(owner, weights=give, minlength=ev.size).astype(np.int64)
            ev_short.append((line, short))
        k0[active] = np.where(event, stop + 1, E)

        # every class moves past the records that ran dry
        P = P.copy()
        move = np.flatnonzero((P < PE).ravel())
        flat_p, flat_e = P.ravel(), PE.ravel()
        move = move[stock[ent_rec[flat_p[move]]] == 0]
        while move.size:
            flat_p[move] += 1
            move = move[flat_p[move] < flat_e[move]]
            move = move[stock[ent_rec[flat_p[move]]] == 0]
        ptr[active] = P
        active = active[k0[active] < end[active]]
    del columns, columns_of

    # per sorted line: units got from stock and still short
    settled = line_ent >= 0
    short = np.where(settled, 0, qty)
    pos_parts = [np.flatnonzero(settled), *ev_pos]
    ent_parts = [line_ent[settled], *ev_ent]
    qty_parts = [qty[settled], *ev_qty]
    for line, left in ev_short:
        short[line] = left
    return _result(inp, rc, perm, cls, short, np.concatenate(pos_parts), np.concatenate(ent_parts),
                   np.concatenate(qty_parts), ent_rec, ent_rank, rec_wh)


def _result(inp: Inputs, rc: RouteClasses, perm: np.ndarray, cls: np.ndarray, short: np.ndarray,
            pos: np.ndarray, ent: np.ndarray, units: np.ndarray, ent_rec: np.ndarray, ent_rank: np.ndarray,
            rec_wh: np.ndarray) -> AllocationArrays:
    """The contract's arrays from takings (sorted position, candidate entry, units) and
    what each sorted line is still short: back orders at the route's first warehouse for
    SKUs that allow them, records sorted by line, rank, back order."""
    n = perm.shape[0]
    no_route = rc.route_len[cls] == 0
    back = (short > 0) & inp.sku_backorder[inp.line_sku[perm]] & ~no_route
    b = np.flatnonzero(back)
    line = np.concatenate([perm[pos], perm[b]])
    rank = np.concatenate([ent_rank[ent], np.zeros(b.size, np.int64)])
    bo = np.concatenate([np.zeros(pos.size, bool), np.ones(b.size, bool)])
    wh = np.concatenate([rec_wh[ent_rec[ent]], rc.route_wh[cls[b], 0]])
    qty = np.concatenate([units, short[b]])
    # records go to their line's slots; only lines with several are sorted (rank, back order)
    counts = np.bincount(line, minlength=n)
    start = np.cumsum(counts) - counts
    dest = start[line]
    several = np.flatnonzero(counts[line] > 1)
    several = several[np.lexsort((bo[several], rank[several], line[several]))]
    ml = line[several]
    new = np.ones(ml.size, bool)
    new[1:] = ml[1:] != ml[:-1]
    heads = np.flatnonzero(new)
    dest[several] += np.arange(ml.size) - heads[np.cumsum(new) - 1]
    reason_sorted = np.where(short > 0, Reason.SHORT, Reason.FILLED).astype(np.uint8)
    reason_sorted[back] = Reason.BACKORDERED
    reason_sorted[no_route] = Reason.NO_WAREHOUSE
    short = np.where(back, 0, short)
    unfilled = np.empty(n, np.int64)
    reason = np.empty(n, np.uint8)
    unfilled[perm] = short
    reason[perm] = reason_sorted
    return AllocationArrays.placed(dest, line, wh, qty, bo, unfilled, reason)
