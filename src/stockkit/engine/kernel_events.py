"""The event kernel: split lines on routes that rank warehouses differently.

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

from stockkit.engine.inputs import Inputs
from stockkit.engine.kernel_intervals import (
    RouteClasses,
    by_group_then_rank,
    order_units,
    service_keys,
    short_at_turn,
)
from stockkit.engine.policy import AllocationArrays, Fill, Reason, RouteOrder, ShipComplete
from stockkit.engine.problem import expand, group_candidates, runs

__all__ = ["MAX_CLASSES", "ORDER_ROUNDS", "ORDER_WORK", "ROUNDS_PER_RECORD", "SHARED_COLUMNS", "Candidates", "OrderDecisions", "Takes",
           "allocate_events", "candidates", "event_pass", "events_apply", "whole_orders"]

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


def _sorted_lines(inp: Inputs) -> np.ndarray:
    """Input lines in (SKU, service) order."""
    n = inp.line_order.shape[0]
    service = service_keys(inp)
    bits_n = max(int(n - 1).bit_length(), 1)
    bits_s = max(int(service.max()).bit_length(), 1) if service is not None and n else 0
    bits_sku = max(int(inp.n_skus).bit_length(), 1)
    if service is not None and bits_s + bits_sku <= 62:
        keys = inp.line_sku << bits_s
        keys |= service
        keys.sort()
        keys &= (1 << bits_n) - 1
        return keys
    if service is not None and bits_n + bits_sku <= 62:
        by_rank, keys = by_group_then_rank(inp.line_sku, service, bits_n)
        keys &= (1 << bits_n) - 1
        return by_rank[keys]
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
    positive = inp.stock_available > 0
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


def event_pass(sku: np.ndarray, cls: np.ndarray, qty: np.ndarray, stock: np.ndarray, cands: Candidates,
               n_cls: int, whole: np.ndarray | None = None) -> Takes | None:
    """Serve lines (sorted by SKU, then service order; ``cls`` their route class) event by
    event against ``stock`` (per record, changed in place), as the sequential rules do with
    split lines and partial fill (see the module docstring). Lines flagged in ``whole``
    take nothing unless their route fills them whole (``Fill.LINE``). Lines of quantity 0
    take nothing and cost nothing: they mark places in the sequence. None after
    :data:`ROUNDS_PER_RECORD` rounds per record of the group that has most."""
    n = sku.shape[0]
    ent_rec, offsets = cands.ent_rec, cands.offsets
    # per class, the cumulative demand of its lines among the first k sorted lines: one
    # non-decreasing column each, so a class alone on its record finds its event by searchsorted
    table = np.zeros((n_cls, n + 1), np.int64)
    table[cls, np.arange(1, n + 1)] = qty
    np.cumsum(table, axis=1, out=table)
    columns = list(table)
    columns_of = {1 << c: columns[c] for c in range(n_cls)}
    n_ent = ent_rec.size
    ent_rec_safe = np.append(ent_rec, 0)                 # one past the end reads record 0, masked

    new = np.ones(n, bool)
    new[1:] = sku[1:] != sku[:-1]
    starts = np.flatnonzero(new)
    k0 = starts.copy()
    end = np.append(starts[1:], n)
    group0 = sku[starts][:, None] * n_cls + np.arange(n_cls)
    asks = table[:, end].T                               # per SKU and class: demand up to its end
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
        # the classes on each (SKU, class)'s record, as a bit mask (MAX_CLASSES <= 8)
        mask = np.packbits(same, axis=2, bitorder="little")[:, :, 0].astype(np.int64)
        cap = np.where(valid, stock[R], 0)
        Q0 = np.stack([column[K0] for column in columns], axis=1)
        # one search per record in use (for its lowest class), and only where the open
        # lines of its classes ask more than it holds
        rows, classes = np.nonzero(valid & ((mask & -mask) == 1 << np.arange(n_cls)))
        on = same[rows, classes]
        base = (on * Q0[rows]).sum(axis=1)
        target = base + cap[rows, classes]
        asked = (on * asks[active[rows]]).sum(axis=1)
        short = asked > target
        rows, classes, target = rows[short], classes[short], target[short]
        bits_of = mask[rows, classes]
        rows_parts, hi_parts = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)]
        for bits in np.unique(bits_of).tolist():
            # the first prefix whose demand on the record exceeds what it holds; classes
            # sharing a record read the sum of their columns, made when first needed (at
            # most SHARED_COLUMNS sums are kept; other sets of classes bisect)
            if bits not in columns_of and len(columns_of) < n_cls + SHARED_COLUMNS:
                columns_of[bits] = sum(columns[c] for c in range(n_cls) if bits >> c & 1)
            these = np.flatnonzero(bits_of == bits)
            r = rows[these]
            if bits in columns_of:
                at = np.searchsorted(columns_of[bits], target[these], side="right")
            else:
                at = _bisect([columns[c] for c in range(n_cls) if bits >> c & 1], target[these], K0[r], E[r])
            rows_parts.append(r)
            hi_parts.append(at)
        rows, hi = np.concatenate(rows_parts), np.concatenate(hi_parts)
        first = np.full(m, n + 1, np.int64)
        np.minimum.at(first, rows, hi)
        event = first <= E
        stop = np.where(event, first - 1, E)             # lines [K0, stop) settle whole

        # the settled lines: their class's record gives all
        own, k = expand(K0, stop)
        at = own * n_cls + cls[k]
        line_ent[k] = np.where(valid.ravel()[at], P.ravel()[at], -1)
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
            if whole is not None:
                # a line its route cannot fill whole takes nothing (unless it may back order)
                refused = (np.add.reduceat(have, seg_start) < need) & whole[line]
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
    del table, asks, columns, columns_of

    # per sorted line: units still short; takings: settled lines give their whole quantity
    settled = (line_ent >= 0) & (qty > 0)
    short = np.where(line_ent >= 0, 0, qty)
    for line, left in ev_short:
        short[line] = left
    return Takes(np.concatenate([np.flatnonzero(settled), *ev_pos]), np.concatenate([line_ent[settled], *ev_ent]),
                 np.concatenate([qty[settled], *ev_qty]), short)


def allocate_events(inp: Inputs, rc: RouteClasses) -> AllocationArrays | None:
    """Allocate the lines of ``inp`` event by event (the caller checked
    :func:`events_apply`), or None when that would take too many rounds (see the module
    docstring), for the caller to use another kernel. With ``Fill.ORDER``,
    :func:`whole_orders` first decides which orders are filled, settling some of their
    lines; one pass over the others then gives the rest of the records."""
    n_cls = rc.route_wh.shape[0]
    perm = _sorted_lines(inp)
    sku = inp.line_sku[perm]
    cls = rc.channel_class[inp.line_channel[perm]]
    qty = inp.line_quantity[perm]
    cands = candidates(inp, rc)
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
        takes = event_pass(sku, cls, qty, cands.stock.copy(), cands, n_cls,
                           whole=limited if fill is Fill.LINE else None)
    if takes is None:
        return None
    result = _result(inp, rc, perm, cls, takes, cands)
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
    held = np.zeros(cands.ent_rec.size + 1, np.int64)
    np.cumsum(stock[cands.ent_rec], out=held[1:])
    return held[cands.offsets[group + 1]] - held[cands.offsets[group]]


def _left_on_route(takes: Takes, lines: np.ndarray, sku_start: np.ndarray, sku: np.ndarray, cls: np.ndarray,
                   stock: np.ndarray, cands: Candidates, rc: RouteClasses) -> np.ndarray:
    """Per line of ``lines`` (positions in a pass that started from ``stock`` and gave
    ``takes``), the units on its route's records just before its turn: what they held,
    less what the earlier lines of its SKU took from them."""
    left = _route_stock(stock, sku[lines] * rc.route_wh.shape[0] + cls[lines], cands)
    by = np.argsort(takes.pos, kind="stable")
    pos, units = takes.pos[by], takes.units[by]
    took_wh = cands.rec_wh[cands.ent_rec[takes.ent[by]]]
    upto, since = np.searchsorted(pos, lines), np.searchsorted(pos, sku_start[lines])
    taken = np.zeros(units.size + 1, np.int64)
    for c in np.unique(cls[lines]).tolist():
        rows = np.flatnonzero(cls[lines] == c)
        np.cumsum(np.where(rc.wh_rank[c, took_wh] >= 0, units, 0), out=taken[1:])
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
    optimistic pass over the other filled lines of the SKUs where an open line fell short:
    an open line whose route would not hold its quantity even with only those served
    before it never will, and its order is refused. Refused orders' lines leave the
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
        # then the optimistic pass, over the other filled lines of the SKUs where an open
        # line fell short; the open lines there only look: one whose route would not hold
        # its quantity even then never will
        short_sku = np.logical_or.reduceat(is_open & ~got, heads)[run]
        probe = np.flatnonzero(short_sku & is_open & ~got)
        takers = np.flatnonzero(short_sku & ~is_open & ~settled)
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


def _result(inp: Inputs, rc: RouteClasses, perm: np.ndarray, cls: np.ndarray, takes: Takes,
            cands: Candidates) -> AllocationArrays:
    """The contract's arrays from a pass over every sorted line: back orders at the
    route's first warehouse for SKUs that allow them, records sorted by line, rank, back order."""
    n = perm.shape[0]
    pos, ent, units, short = takes
    ent_rec, ent_rank, rec_wh = cands.ent_rec, cands.ent_rank, cands.rec_wh
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
