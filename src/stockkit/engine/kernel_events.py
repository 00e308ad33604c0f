"""The event kernel: split lines on routes that rank warehouses differently.

Where channels share warehouses but rank them differently (overlapping channels), lines of
one SKU draw on different records, so the interval form does not hold. But between two
moments at which one of the SKU's records runs dry, every line of a route class takes its
whole quantity from that class's current record (its most preferred one with stock). So
per SKU the greedy is a short sequence of *events*, one per record that runs dry, and the
lines between two events are settled in one go.

Lines are sorted by (SKU, service order). A row per class holds the cumulative demand of
the class's lines among the first ``k`` sorted lines, so the demand a stretch of lines puts
on a record is a difference of entries, summed over the classes currently drawing on that
record (every row is non-decreasing). Each round, for every SKU still open and every
record in use whose classes' open lines ask more than it holds, a search finds the first
line whose demand the record cannot meet: in every :data:`STRIDE`-th entry of the rows
first (of their sum, for classes sharing the record), which stays in cache, then by
bisection within the stride. The earliest such line per SKU is the event. Lines before it
take their quantity from their class's record; the event line takes what its record has
left and walks on along its route, as the sequential rules say; pointers then move past
records that ran dry. Classes whose open lines ask nothing are left out. Each round
empties at least one record of every open SKU, so a SKU leaves after at most as many
rounds as it has records, and a round costs in proportion to the open SKUs, not to their
lines. With ``Fill.LINE`` an event line that its route cannot fill whole takes nothing
instead (a round then refuses a line rather than emptying a record); a wave that would
take many such rounds is handed back to the caller.

With ``Fill.ORDER`` an order that cannot be filled whole takes nothing, which couples SKUs
(an order's failure on one SKU leaves stock for later orders on its others).
:func:`whole_orders` first decides which orders are filled, in rounds of two event
passes that bound what the still-open orders before a line may take; one pass over the
filled orders' lines then gives the records, and the failed orders' lines are told short
or failed with their order from what that pass left on their route at their turn.

:func:`event_pass` is the one pass all of this runs: over any subset of the lines, from
any stock, reporting what each line got. Exact for ``split=True``, no ship complete and
priority routes (one order per route class) with at most :data:`MAX_CLASSES` classes;
other policies go to the rounds kernel.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from stockkit.engine import kernel_intervals
from stockkit.engine.inputs import Inputs
from stockkit.engine.kernel_intervals import (
    RouteClasses,
    by_group_then_rank,
    group_candidates,
    order_units,
    service_keys,
    service_layout,
    short_at_turn,
)
from stockkit.engine.policy import AllocationArrays, Fill, Reason, RouteOrder, ShipComplete
from stockkit.engine.ragged import cumsum_in_runs, expand, run_starts, runs
from stockkit.engine.threads import PARALLEL_FROM_LINES, chunks, run_calls, run_parts

__all__ = ["MAX_CLASSES", "ORDER_ROUNDS", "ORDER_WORK", "ROUNDS_PER_RECORD", "SHARED_COLUMNS", "STRIDE", "Candidates",
           "OrderDecisions", "Takes", "allocate_events", "candidates", "event_pass", "events_apply", "whole_orders"]

#: a search for an event first reads every this many'th entry of the rows of cumulative
#: demand (an array that stays in cache), then bisects the stride
STRIDE = 64

#: sums of those coarse rows kept for sets of classes that share a record (one entry per
#: :data:`STRIDE` lines each); other sets bisect their SKU's whole open range
SHARED_COLUMNS = 4

#: with ``Fill.LINE`` a round may refuse a line instead of emptying a record; a wave that
#: needs more rounds than this many per record of its largest (SKU, class) group (lines
#: that ask more than their route holds, one after another) is left to the rounds kernel
ROUNDS_PER_RECORD = 4

#: the kernel keeps a row of 8 bytes per line and class and compares every pair of
#: classes of a SKU each round: it serves waves with at most this many route classes
MAX_CLASSES = 8

# per set of classes (bits), how many it holds and its lowest
_SET_SIZE = np.array([bin(b).count("1") for b in range(1 << MAX_CLASSES)])
_LOWEST = np.array([(b & -b).bit_length() - 1 for b in range(1 << MAX_CLASSES)])

#: rounds :func:`whole_orders` takes at most (workload M needs 14); a wave needing
#: more goes to another kernel
ORDER_ROUNDS = 256

#: lines :func:`whole_orders` sends through event passes, at most, per line entering its
#: rounds (workload M: 2.7); past that (orders that alternately just fail and fit,
#: deciding a few a round) the wave goes to another kernel before the rounds get costly
ORDER_WORK = 16


def events_apply(inp: Inputs, rc: RouteClasses) -> bool:
    """Whether :func:`allocate_events` is exact for ``inp`` (see the module docstring)."""
    policy = inp.policy
    return (policy.split and policy.ship_complete is ShipComplete.OFF
            and (policy.route is RouteOrder.PRIORITY or bool(np.isnan(inp.line_lat).all()))
            and rc.route_wh.shape[0] <= MAX_CLASSES)


def _sort_lines(inp: Inputs) -> tuple[np.ndarray, np.ndarray]:
    """Input lines in (SKU, service) order, and their SKUs (read off the sort keys where
    they hold them, instead of gathered)."""
    n = inp.line_order.shape[0]
    bits_sku = max(int(inp.n_skus).bit_length(), 1)
    layout = service_layout(inp, kernel_intervals.PACK_BITS - bits_sku)
    bits_n = layout.bits_n
    if layout.width + bits_sku <= kernel_intervals.PACK_BITS:
        keys = inp.line_sku << layout.width
        keys |= service_keys(inp, layout)
        keys.sort()
        sku = keys >> layout.width
        keys &= (1 << bits_n) - 1
        return keys, sku
    ranked = by_group_then_rank(inp, inp.line_sku, layout) if bits_n + bits_sku <= kernel_intervals.PACK_BITS else None
    if ranked is not None:
        by_rank, keys = ranked
        sku = keys >> bits_n
        keys &= (1 << bits_n) - 1
        return by_rank[keys], sku
    perm = np.lexsort((np.arange(n), inp.line_order, inp.line_priority, inp.line_sku))
    return perm, inp.line_sku[perm]


class Candidates(NamedTuple):
    """The records a wave's lines draw on: records with stock per (SKU, route class) group
    in route order (``ent_rec[offsets[g]:offsets[g + 1]]``), their rank on the route, each
    record's warehouse, and its units at the start (one extra, always empty slot, read as
    "none")."""

    ent_rec: np.ndarray
    ent_rank: np.ndarray
    offsets: np.ndarray
    rec_wh: np.ndarray
    stock: np.ndarray


def candidates(inp: Inputs, rc: RouteClasses) -> Candidates:
    """The :class:`Candidates` of ``inp``."""
    positive = np.flatnonzero(inp.stock_available > 0)
    rec_sku, rec_wh = inp.stock_sku[positive], inp.stock_warehouse[positive]
    ent_rec, ent_rank, offsets = group_candidates(inp, rc, rec_sku, rec_wh)
    return Candidates(ent_rec, ent_rank, offsets, rec_wh, np.append(inp.stock_available[positive], 0))


class Takes(NamedTuple):
    """What an event pass gave: takings (line position, candidate entry, units > 0), and
    per line the units it is still short."""

    pos: np.ndarray
    ent: np.ndarray
    units: np.ndarray
    short: np.ndarray


_NO_TAKES = Takes(*(np.zeros(0, np.int64),) * 4)


class OrderDecisions(NamedTuple):
    """What :func:`whole_orders` decided, per sorted line: whether its order is filled,
    and whether the line was settled in the rounds; what the settled lines took
    (``settled_takes``, at sorted positions) and the stock they left."""

    filled: np.ndarray
    settled: np.ndarray
    settled_takes: Takes
    stock: np.ndarray


def _columns(cls: np.ndarray, qty: np.ndarray, n_cls: int) -> np.ndarray:
    """Per class, the cumulative demand of its lines among the first ``k`` lines
    (``k = 0..n``): one non-decreasing row each."""
    n = qty.shape[0]
    table = np.empty((n_cls, n + 1), np.int64)
    table[:, 0] = 0
    small = cls.astype(np.int8)         # compared once a class: an eighth of the reads (MAX_CLASSES < 128)
    for c in range(n_cls):
        row = table[c, 1:]
        np.multiply(qty, small == c, out=row)
        np.cumsum(row, out=row)
    return table


def event_pass(sku: np.ndarray, cls: np.ndarray, qty: np.ndarray, stock: np.ndarray, cands: Candidates,
               n_cls: int, whole: np.ndarray | None = None) -> Takes | None:
    """Serve lines (sorted by SKU, then service order; ``cls`` their route class) event by
    event against ``stock`` (per record, changed in place), as the sequential rules do with
    split lines and partial fill (see the module docstring). Lines flagged in ``whole``
    take nothing unless their route fills them whole (``Fill.LINE``). Lines of quantity 0
    take nothing and cost nothing: they mark places in the sequence. None after
    :data:`ROUNDS_PER_RECORD` rounds per record of the group that has most, and 64 more."""
    n = sku.shape[0]
    ent_rec, offsets = cands.ent_rec, cands.offsets
    # per class, the cumulative demand of its lines among the first k sorted lines: one
    # non-decreasing row each, searched where a class's record may run dry
    table = _columns(cls, qty, n_cls)
    # every STRIDE-th entry of the rows, and sums of them for classes sharing a record
    coarse_of = {1 << c: np.ascontiguousarray(table[c, ::STRIDE]) for c in range(n_cls)}
    ent_rec_safe = np.append(ent_rec, 0)                 # a pointer at the very end reads record 0, masked
    apart = -1 - np.arange(n_cls)[:, None]               # per class, a record no other class has

    starts = run_starts(sku)
    # the open SKUs' state, a column per SKU still open (a row per class): the first open
    # line, the end of its lines, each class's demand up to that end, its pointer into its
    # route's candidates and the route's end
    K0 = starts
    E = np.append(starts[1:], n)
    asks = np.take(table, E, axis=1)
    group = sku[starts] * n_cls + np.arange(n_cls)[:, None]
    P, PE = offsets[group], offsets[group + 1]
    del group

    line_ent = np.full(n, -1, np.int64)                  # the record entry a settled line takes all from
    ev_pos: list[np.ndarray] = []                        # event lines' takings: position, entry, units
    ev_ent: list[np.ndarray] = []
    ev_qty: list[np.ndarray] = []
    ev_short: list[tuple[np.ndarray, np.ndarray]] = []   # event lines left short: position, units
    rounds = 0
    budget = None
    while K0.size:
        rounds += 1
        if rounds > 64:
            # the budget, worked out only when a wave takes long
            if budget is None:
                budget = ROUNDS_PER_RECORD * int(np.diff(offsets).max(initial=0)) + 64
            if rounds > budget:
                return None
        m = K0.size
        Q0 = np.take(table, K0, axis=1)
        wants = asks - Q0                                # per class, what its open lines ask
        # a class draws while its open lines ask anything and its route has a record; one
        # that does not never will again (its open lines only get fewer), so it is left out
        live = (wants > 0) & (P < PE)
        R = np.where(live, ent_rec_safe[P], apart)
        cap = stock[np.maximum(R, -1)]                   # the extra, empty slot for classes left out
        share = np.zeros(m, bool)                        # open SKUs where classes draw on one record
        for j in range(1, n_cls):
            for i in range(j):
                share |= R[i] == R[j]
        # per record in use where the open lines of its classes ask more than it holds:
        # the SKU, the classes (bits) and the demand at which it runs dry
        classes, rows = np.nonzero((wants > cap) & live & ~share)
        at = classes * m + rows
        target = Q0.ravel()[at] + cap.ravel()[at]
        bits = 1 << classes
        if share.any():
            also = _shared_records(np.flatnonzero(share), R, live, Q0, wants, cap)
            rows, bits, target = (np.concatenate(part) for part in zip((rows, bits, target), also))
        first = np.full(m, n + 1, np.int64)              # per SKU, the first line its records cannot serve
        np.minimum.at(first, rows, _first_over(table, coarse_of, bits, target, K0[rows], E[rows]))
        event = first <= E
        stop = np.where(event, first - 1, E)             # lines [K0, stop) settle whole

        # the settled lines: their class's record gives all (one record per open SKU and
        # class; classes sharing one take from it in turn)
        for c in range(n_cls):
            rows = np.flatnonzero(live[c])
            stock[R[c][rows]] -= table[c][stop[rows]] - Q0[c][rows]
        own, k = expand(K0, stop)
        line_ent[k] = np.where(live, P, -1).ravel()[cls[k] * m + own]

        # the event lines: what their record has left, then on along their route
        ev = np.flatnonzero(event)
        if ev.size:
            line = stop[ev]
            c = cls[line]
            need = qty[line]
            lo, hi = P[c, ev], PE[c, ev]
            owner, e = expand(lo, hi)
            have = stock[ent_rec[e]]
            seg_start = np.cumsum(hi - lo) - (hi - lo)
            before = cumsum_in_runs(have, seg_start, owner, before=True)
            give = np.clip(need[owner] - before, 0, have)
            if whole is not None:
                # a line its route cannot fill whole takes nothing (unless it may back order)
                refused = (np.add.reduceat(have, seg_start) < need) & whole[line]
                give[refused[owner]] = 0
            got = give > 0
            ev_pos.append(line[owner[got]])
            ev_ent.append(e[got])
            ev_qty.append(give[got])
            np.subtract.at(stock, ent_rec[e[got]], give[got])
            # float sums are exact here: the array kernels take units totalling below 2**52
            short = need - np.bincount(owner, weights=give, minlength=ev.size).astype(np.int64)
            ev_short.append((line, short))

        # every class moves past the records that ran dry
        flat_p, flat_e = P.ravel(), PE.ravel()           # a copy where P is not contiguous
        move = np.flatnonzero(live.ravel())
        move = move[stock[R.ravel()[move]] == 0]
        while move.size:
            flat_p[move] += 1
            move = move[flat_p[move] < flat_e[move]]
            move = move[stock[ent_rec[flat_p[move]]] == 0]
        P = flat_p.reshape(n_cls, m)
        K0 = np.where(event, stop + 1, E)
        keep = K0 < E
        if not keep.all():
            keep = np.flatnonzero(keep)
            K0, E = K0[keep], E[keep]
            asks, P, PE = (np.take(a, keep, axis=1) for a in (asks, P, PE))
    del table, coarse_of

    # per sorted line: units still short; takings: settled lines give their whole quantity
    settled = (line_ent >= 0) & (qty > 0)
    short = np.where(line_ent >= 0, 0, qty)
    for line, left in ev_short:
        short[line] = left
    return Takes(np.concatenate([np.flatnonzero(settled), *ev_pos]), np.concatenate([line_ent[settled], *ev_ent]),
                 np.concatenate([qty[settled], *ev_qty]), short)


def _shared_records(rows: np.ndarray, R: np.ndarray, live: np.ndarray, Q0: np.ndarray, wants: np.ndarray,
                    cap: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """At the open SKUs ``rows`` where classes share a record (per class and open SKU:
    its record ``R``, whether it draws, its demand before the open lines and theirs, what
    its record holds): per record in use whose classes' open lines ask more than it
    holds, the SKU, the classes on it (bits) and the demand (the sum of their rows of the
    table) at which it runs dry; by the number of classes, then the classes."""
    n_cls, size = R.shape[0], rows.size
    R, live, Q0, wants, cap = (np.take(a, rows, axis=1) for a in (R, live, Q0, wants, cap))
    # per class, the lowest class on its record (classes left out are apart from all)
    lowest = np.repeat(np.arange(n_cls)[:, None], size, axis=1)
    for c in range(1, n_cls):
        for i in range(c - 1, -1, -1):
            lowest[c][R[i] == R[c]] = i
    # sums per record, at its lowest class
    at = (lowest * size + np.arange(size)).ravel()
    base, asked, bits = (np.zeros(n_cls * size, np.int64) for _ in range(3))
    np.add.at(base, at, Q0.ravel())
    np.add.at(asked, at, wants.ravel())
    np.add.at(bits, at, np.repeat(1 << np.arange(n_cls), size))
    lead = np.flatnonzero(((lowest == np.arange(n_cls)[:, None]) & live).ravel())
    lead = lead[asked[lead] > cap.ravel()[lead]]
    lead = lead[np.argsort((_SET_SIZE[bits[lead]] << MAX_CLASSES | bits[lead]).astype(np.uint16), kind="stable")]
    return rows[lead % size], bits[lead], base[lead] + cap.ravel()[lead]


def _first_over(table: np.ndarray, coarse_of: dict[int, np.ndarray], bits: np.ndarray, target: np.ndarray,
                lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Per entry (ordered by the number of rows in its set), the first ``k`` in
    ``(lo, hi]`` at which the sum of the ``bits`` rows of ``table`` exceeds ``target``;
    the sum is non-decreasing, at most ``target`` at ``lo`` and more at ``hi``.
    ``coarse_of``: per set of rows, every :data:`STRIDE`-th entry of their sum (at most
    :data:`SHARED_COLUMNS` sets beyond the single rows are kept). Changes ``lo`` and ``hi``."""
    n_cls, width = table.shape
    if not bits.size:
        return hi
    size = _SET_SIZE[bits]
    # the coarse entries narrow each search to a stride, at few cache misses
    heads = [0, *(np.flatnonzero(bits[1:] != bits[:-1]) + 1).tolist(), bits.size]
    for a, b in zip(heads[:-1], heads[1:]):
        group = int(bits[a])
        if group not in coarse_of and len(coarse_of) < n_cls + SHARED_COLUMNS:
            coarse_of[group] = sum(coarse_of[1 << c] for c in range(n_cls) if group >> c & 1)
        if group in coarse_of:
            j = np.searchsorted(coarse_of[group], target[a:b], side="right")
            np.maximum(lo[a:b], (j - 1) * STRIDE, out=lo[a:b])
            np.minimum(hi[a:b], j * STRIDE, out=hi[a:b])
    # then a bisection in the flat table, adding the rows of each entry's set
    flat = table.ravel()
    slots = []                                           # (first entry with the slot, table offsets)
    rest = bits.copy()
    for slot in range(n_cls):
        at = int(np.searchsorted(size, slot, side="right"))
        if at == size.size:
            break
        low = rest[at:] & -rest[at:]
        rest[at:] ^= low
        slots.append((at, _LOWEST[low] * width))
    for _ in range(int((hi - lo).max(initial=0)).bit_length()):
        mid = (lo + hi) >> 1
        total = flat[slots[0][1] + mid]
        for at, offset in slots[1:]:
            total[at:] += flat[offset + mid[at:]]
        over = total > target
        np.copyto(hi, mid, where=over)
        np.copyto(lo, mid, where=~over)
    return hi


def _passes_side_by_side(sku: np.ndarray, cls: np.ndarray, qty: np.ndarray, cands: Candidates, n_cls: int,
                         whole: np.ndarray | None, threads: int) -> Takes | None:
    """:func:`event_pass` over every sorted line from the whole stock, in ``threads`` runs
    of whole SKUs side by side (SKUs share no stock, and each run writes its own SKUs'
    records); None when a run takes too many rounds."""
    n = sku.shape[0]
    stock = cands.stock.copy()
    # each chunk's first line moved back to the first line of its SKU
    bounds = [0, *np.searchsorted(sku, sku[[lo for lo, _ in chunks(n, threads)[1:]]]).tolist(), n]
    parts = [(lo, hi) for lo, hi in zip(bounds[:-1], bounds[1:], strict=True) if hi > lo] or [(0, 0)]
    passes = run_parts(lambda part: event_pass(sku[part[0]:part[1]], cls[part[0]:part[1]], qty[part[0]:part[1]], stock,
                                               cands, n_cls, None if whole is None else whole[part[0]:part[1]]), parts)
    if any(p is None for p in passes):
        return None
    if len(passes) == 1:
        return passes[0]
    return Takes(*(np.concatenate([p.pos + lo for p, (lo, _) in zip(passes, parts, strict=True)]),
                   np.concatenate([p.ent for p in passes]), np.concatenate([p.units for p in passes]),
                   np.concatenate([p.short for p in passes])))


def allocate_events(inp: Inputs, rc: RouteClasses, threads: int = 1) -> AllocationArrays | None:
    """Allocate the lines of ``inp`` event by event (the caller checked
    :func:`events_apply`), or None when that would take too many rounds (see the module
    docstring), for the caller to use another kernel. With ``Fill.ORDER``,
    :func:`whole_orders` first decides which orders are filled, settling some of their
    lines; one pass over the others then gives the rest of the records. Otherwise the
    pass runs in ``threads`` runs of whole SKUs side by side (waves of at least
    :data:`~stockkit.engine.threads.PARALLEL_FROM_LINES` lines); so do sorting the lines
    and listing the candidates."""
    n_cls = rc.route_wh.shape[0]
    # sorting the lines and listing the candidates do not depend on each other
    (perm, sku), cands = run_calls((lambda: _sort_lines(inp), lambda: candidates(inp, rc)),
                                   threads > 1 and inp.line_order.shape[0] >= PARALLEL_FROM_LINES)
    # classes gathered as bytes: a fraction of the cache misses of eight
    cls = rc.channel_class.astype(np.int8)[inp.line_channel][perm].astype(np.int64)
    qty = inp.line_quantity[perm]
    limited = ~inp.sku_backorder[sku]
    fill = inp.policy.fill
    if fill is Fill.ORDER:
        unit = order_units(inp.line_order)[perm]
        routed = rc.route_len[cls] > 0
        decided = whole_orders(sku, cls, qty, unit, limited & routed, ~routed, cands, rc)
        if decided is None:
            return None
        ok = decided.filled
        # the lines settled in the rounds took theirs already; one pass serves the other
        # filled lines (the failed ones take nothing)
        rest = np.flatnonzero(~decided.settled & ok)
        tail = event_pass(sku[rest], cls[rest], qty[rest], decided.stock, cands, n_cls)
        if tail is None:
            return None
        short = np.zeros(sku.size, np.int64)
        short[rest] = tail.short
        settled = decided.settled_takes
        takes = Takes(np.concatenate([settled.pos, rest[tail.pos]]), np.concatenate([settled.ent, tail.ent]),
                      np.concatenate([settled.units, tail.units]), short)
    else:
        takes = _passes_side_by_side(sku, cls, qty, cands, n_cls, limited if fill is Fill.LINE else None, threads)
    if takes is None:
        return None
    result = _result(inp, rc, perm, cls, ~limited, takes, cands)
    if fill is Fill.ORDER:
        _explain_failed_orders(result, perm, sku, cls, qty, unit, ~ok, routed, takes, cands, rc,
                               inp.sku_backorder)
    return result


def _explain_failed_orders(result: AllocationArrays, perm: np.ndarray, sku: np.ndarray, cls: np.ndarray,
                           qty: np.ndarray, unit: np.ndarray, failed: np.ndarray, routed: np.ndarray, takes: Takes,
                           cands: Candidates, rc: RouteClasses, backorder: np.ndarray) -> None:
    """Set what the lines of orders that were not filled (``failed``, per sorted line;
    they took nothing in ``takes``) lack, and why: a routed line is short when it lacked
    stock at its order's turn (after its order's earlier lines of the SKU took theirs),
    else failed with its order; lines of SKUs that may back order never lack."""
    f = np.flatnonzero(failed)
    result.line_unfilled[perm[f]] = qty[f]
    f = f[routed[f]]
    result.line_reason[perm[f]] = Reason.ORDER_INCOMPLETE
    f = f[~backorder[sku[f]]]
    n_cls = rc.route_wh.shape[0]
    have = np.zeros(sku.size, np.int64)
    heads, run = runs(sku)
    have[f] = _left_on_route(takes, f, heads[run], sku, cls, cands.stock, cands, rc)
    short = short_at_turn(f, qty, have, sku * n_cls + cls, unit)
    result.line_reason[perm[f[short]]] = Reason.SHORT


def _route_stock(stock: np.ndarray, group: np.ndarray, cands: Candidates) -> np.ndarray:
    """Units in ``stock`` on the records of each (SKU, route class) ``group``."""
    lo, hi = cands.offsets[group], cands.offsets[group + 1]
    length = hi - lo
    if 4 * int(length.sum()) < cands.ent_rec.size:
        # few groups (the rounds' probes): sum their own routes rather than every record
        _, e = expand(lo, hi)
        held = np.zeros(e.size + 1, np.int64)
        np.cumsum(stock[cands.ent_rec[e]], out=held[1:])
        end = np.cumsum(length)
        return held[end] - held[end - length]
    held = np.zeros(cands.ent_rec.size + 1, np.int64)
    np.cumsum(stock[cands.ent_rec], out=held[1:])
    return held[hi] - held[lo]


def _left_on_route(takes: Takes, lines: np.ndarray, sku_start: np.ndarray, sku: np.ndarray, cls: np.ndarray,
                   stock: np.ndarray, cands: Candidates, rc: RouteClasses) -> np.ndarray:
    """Per line of ``lines`` (positions in a pass that started from ``stock`` and gave
    ``takes``), the units on its route's records just before its turn: what they held,
    less what the earlier lines of its SKU took from them."""
    left = _route_stock(stock, sku[lines] * rc.route_wh.shape[0] + cls[lines], cands)
    by = np.argsort(takes.pos, kind="stable")
    units = takes.units[by]
    took_wh = cands.rec_wh[cands.ent_rec[takes.ent[by]]]
    # the takings before each line, counted per line (positions are line numbers) rather
    # than searched for
    before = np.zeros(sku.shape[0] + 1, np.int64)
    np.cumsum(np.bincount(takes.pos, minlength=sku.shape[0]), out=before[1:])
    upto, since = before[lines], before[sku_start[lines]]
    taken = np.zeros(units.size + 1, np.int64)
    line_cls = cls[lines]
    for c in np.flatnonzero(np.bincount(line_cls, minlength=rc.route_wh.shape[0])).tolist():
        rows = np.flatnonzero(line_cls == c)
        np.cumsum(units * (rc.wh_rank[c] >= 0)[took_wh], out=taken[1:])
        left[rows] -= taken[upto[rows]] - taken[since[rows]]
    return left


def whole_orders(sku: np.ndarray, cls: np.ndarray, qty: np.ndarray, unit: np.ndarray, limited: np.ndarray,
                 doomed: np.ndarray, cands: Candidates, rc: RouteClasses) -> OrderDecisions | None:
    """Which orders are filled whole as the sequential rules decide (``Fill.ORDER``), per
    line (see :class:`OrderDecisions`); None after :data:`ORDER_ROUNDS` rounds, or once
    the passes have taken :data:`ORDER_WORK` lines per line entering the rounds.

    Lines come sorted by (SKU, service order), ``unit`` numbering their orders (an order's
    lines of one SKU are one run). An order is filled when each of its ``limited`` lines,
    taking along its route after the filled orders before it and its own earlier lines,
    gets its whole quantity; an order with a ``doomed`` line never is; other lines
    (back-orderable) never stop an order.

    What filled orders take is a partial-fill pass over their lines alone (they all fit),
    and such a pass leaves less of every record when lines are added before it (the
    greedy is monotone). So each round runs two event passes from the stock that settled
    lines left. First a pessimistic one over the lines of every order not refused: a line
    that gets its whole quantity there gets it for real, so an order whose lines all do is
    filled; a line with no other order's open line before it in its SKU sees the real
    stock there, so if it falls short its order is refused (the earliest open order is
    such, so every round decides at least one). Filled lines before their SKU's first open
    line are then settled: what they took there is exact and leaves the stock. Then an
    optimistic pass over the other filled lines before the last open line of their SKU
    that fell short (of an order not refused yet): an open line whose route would not hold
    its quantity even with only those served before it never will, and its order is
    refused. Refused orders' lines leave the
    rounds, and so do SKUs whose every line got its quantity in the pessimistic pass or
    that have no open order left. SKUs whose demand each of their lines' routes could meet
    alone never enter them.
    """
    n = sku.shape[0]
    n_cls = rc.route_wh.shape[0]
    size = int(unit.max()) + 1 if n else 0
    status = np.zeros(size, np.int8)                   # 0 open, 1 filled, 2 not filled
    status[unit[doomed]] = 2
    stock = cands.stock.copy()
    # a SKU whose demand each of its lines' routes could meet alone never stops an order
    keep = np.flatnonzero(limited & (status[unit] != 2))
    heads, run = runs(sku[keep])
    if keep.size:
        route = _route_stock(stock, sku[keep] * n_cls + cls[keep], cands)
        tight = np.add.reduceat(qty[keep], heads) > np.minimum.reduceat(route, heads)
        keep = keep[tight[run]]
    fails = np.zeros(size, bool)                       # per order: refused this round
    was_settled = np.zeros(n, bool)
    took = [(_NO_TAKES.pos, _NO_TAKES.ent, _NO_TAKES.units)]
    rounds = 0
    work = ORDER_WORK * keep.size + (1 << 16)
    while keep.size:
        rounds += 1
        work -= keep.size
        if rounds > ORDER_ROUNDS or work < 0:
            return None
        s, c, q, u = sku[keep], cls[keep], qty[keep], unit[keep]
        m = keep.size
        heads, run = runs(s)
        is_open = status[u] == 0
        look = np.flatnonzero(is_open)
        pessimistic = event_pass(s, c, q, stock.copy(), cands, n_cls)
        if pessimistic is None:
            return None
        got = pessimistic.short == 0
        # an order whose lines are all filled in the pessimistic pass is filled; a line
        # with no other order's open line before it in its SKU sees the real stock there:
        # if it falls short, its order is refused
        first_open = np.minimum.reduceat(np.where(is_open, np.arange(m), m), heads)[run]
        short_of = u[look[~got[look]]]                  # open orders with a line short here
        status[u[look]] = 1
        status[short_of] = 0
        fails[u[look[~got[look] & (u[look] == u[first_open[look]])]]] = True
        # filled lines before the first other line of their SKU are settled: what they
        # took in the pessimistic pass is exact, and leaves the stock
        is_open = status[u] == 0
        look = np.flatnonzero(is_open)
        settled = np.arange(m) < np.minimum.reduceat(np.where(is_open, np.arange(m), m), heads)[run]
        gone = settled[pessimistic.pos]
        np.subtract.at(stock, cands.ent_rec[pessimistic.ent[gone]], pessimistic.units[gone])
        took.append((keep[pessimistic.pos[gone]], pessimistic.ent[gone], pessimistic.units[gone]))
        was_settled[keep[settled]] = True
        # then the optimistic pass, over the other filled lines before the last open line
        # of their SKU that fell short (of an order not refused yet: the lines after it
        # cannot change what it finds); the open lines only look: one whose route would not
        # hold its quantity even then never will
        asks = is_open & ~got & ~fails[u]
        probe = np.flatnonzero(asks)
        last_probe = np.maximum.reduceat(np.where(asks, np.arange(m), -1), heads)[run]
        takers = np.flatnonzero(~is_open & ~settled & (np.arange(m) < last_probe))
        work -= takers.size
        optimistic = event_pass(s[takers], c[takers], q[takers], stock.copy(), cands, n_cls) if takers.size \
            else _NO_TAKES
        if optimistic is None:
            return None
        left = _left_on_route(optimistic._replace(pos=takers[optimistic.pos]), probe, heads[run], s, c, stock,
                              cands, rc)
        fails[u[probe[left < q[probe]]]] = True
        refused = u[look][fails[u[look]]]
        status[refused] = 2
        fails[refused] = False
        # lines leave: settled ones, refused orders' lines, and SKUs where every line was
        # filled even with every open order filled or where no order is left open
        st = status[u]
        done = (np.logical_and.reduceat(got, heads) | ~np.logical_or.reduceat(st == 0, heads))[run]
        keep = keep[~settled & ~done & (st != 2)]
    pos, ent, units = (np.concatenate(part) for part in zip(*took))
    # orders still open have no line that can fall short: they are filled
    return OrderDecisions(status[unit] != 2, was_settled, Takes(pos, ent, units, _NO_TAKES.short), stock)


def _result(inp: Inputs, rc: RouteClasses, perm: np.ndarray, cls: np.ndarray, backorder: np.ndarray, takes: Takes,
            cands: Candidates) -> AllocationArrays:
    """The contract's arrays from a pass over every sorted line (``backorder``: whether its
    SKU may back order): back orders at the route's first warehouse for SKUs that allow
    them, records sorted by line, rank, back order."""
    n = perm.shape[0]
    pos, ent, units, short = takes
    no_route = rc.route_len[cls] == 0
    back = (short > 0) & backorder & ~no_route
    b = np.flatnonzero(back)
    # every record's (input line, rank); back orders rank with the route's first
    # warehouse, and come after a stock record there as they come after every stock
    # record here (the sorts keep the order of equal keys)
    line = np.concatenate([perm[pos], perm[b]])
    rank = np.concatenate([cands.ent_rank[ent], np.zeros(b.size, np.int64)])
    size = line.size
    bits_rank = max(int(rc.route_wh.shape[1] - 1).bit_length(), 1)
    bits_at = max(int(size - 1).bit_length(), 1)
    if max(int(n - 1).bit_length(), 1) + bits_rank + bits_at <= kernel_intervals.PACK_BITS:
        # one packed sort, built in place
        keys = line << bits_rank
        keys |= rank
        keys <<= bits_at
        keys |= np.arange(size)
        keys.sort()
        by = keys & ((1 << bits_at) - 1)
        keys >>= bits_at + bits_rank
        line = keys
        del rank
    else:
        by = np.lexsort((rank, line))
        line = line[by]
    wh = np.concatenate([cands.rec_wh[cands.ent_rec[ent]], rc.route_wh[cls[b], 0]])[by]
    qty = np.concatenate([units, short[b]])[by]
    bo = by >= pos.size
    reason_sorted = (short > 0).view(np.uint8) * np.uint8(Reason.SHORT - Reason.FILLED) + np.uint8(Reason.FILLED)
    reason_sorted[back] = Reason.BACKORDERED
    reason_sorted[no_route] = Reason.NO_WAREHOUSE
    reason = np.empty(n, np.uint8)
    reason[perm] = reason_sorted
    # only lines left short have units unfilled
    unfilled = np.zeros(n, np.int64)
    left = np.flatnonzero(short > 0)
    left = left[~back[left]]
    unfilled[perm[left]] = short[left]
    return AllocationArrays(line, wh, qty, bo, unfilled, reason)
