"""The general exact kernel: rounds over depletion and failure events.

Works for every policy and topology (lines of one SKU ordering the warehouses
differently, split off, fill per line or per order, ship complete, back orders).

Each round starts from the current stock. Every open line gets a *plan* computed from that
stock alone: take its whole quantity from one stock record (its most preferred record with
stock, or the first that holds all of it when split is off, or its order's ship-complete
warehouse), or an outcome that lower stock cannot change (no warehouse, nothing anywhere,
back order of everything, an order that must fail). Stock only ever goes down, so these
plans are exact for every line that comes before the first *event* of its SKU: the first
line whose cumulative demand on its record exceeds what the record holds. Per SKU
everything before that event is settled at once (cumsum over lines sorted by record); the
unit at the event (a line, or a whole order when orders are all-or-nothing or ship
complete) is then resolved exactly against the stock left, all such units of all SKUs
together, in arrays. Lines after the event wait for the next round. Orders that must fail
whatever happens are set aside and explained at the end from the log of what each record
gave before their turn.

All arrays are positions in service order; a line's candidates are the ragged
``[ec_start, ec_end)`` ranges of :class:`~stockkit.engine.problem.Problem`. Nearest-first
lines may list only their first candidate (see :class:`~stockkit.engine.problem.PendingNearest`):
their whole list is ranked and appended to the candidate arrays when a line cannot take
from its first candidate or is resolved at an event; until then the records a line could
still reach are its whole candidate set.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from stockkit.engine.policy import Fill, Policy, Reason, ShipComplete
from stockkit.engine.problem import Problem, nearest_lists, nearest_usable
from stockkit.engine.ragged import cumsum_in_runs, expand, runs

__all__ = ["Records", "allocate_rounds", "order_sku_groups", "sorted_by"]

# plan kinds
_TAKE, _BACKORDER, _FAIL, _DONE = 0, 1, 2, 3
_BIG = np.iinfo(np.int64).max


class Records:
    """Allocation records collected chunk by chunk, in positions."""

    def __init__(self) -> None:
        self.parts: list[tuple[np.ndarray, ...]] = []

    def add(self, pos, rank, wh, qty, backorder: bool) -> None:
        """Add records (position, rank, warehouse, quantity), all back orders or none."""
        if len(pos):
            self.parts.append((pos, rank, wh, qty, np.full(len(pos), backorder)))

    def sorted(self) -> tuple[np.ndarray, ...]:
        """(pos, rank, warehouse, quantity, back order) sorted by position, rank, back order."""
        if not self.parts:
            empty = np.zeros(0, np.int64)
            return empty, empty, empty, empty, np.zeros(0, bool)
        cols = [np.concatenate([p[i] for p in self.parts]) for i in range(5)]
        by = np.lexsort((cols[4], cols[1], cols[0]))
        return tuple(c[by] for c in cols)


def sorted_by(keys: np.ndarray) -> np.ndarray:
    """Stable argsort of non-negative ``keys`` with one packed ``np.sort`` when it fits."""
    n = keys.shape[0]
    if n == 0:
        return np.zeros(0, np.int64)
    bits = max(int(n - 1).bit_length(), 1)
    if int(keys.max()).bit_length() + bits <= 62:
        return np.sort((keys << bits) | np.arange(n)) & ((1 << bits) - 1)
    return np.argsort(keys, kind="stable")


def _first_per_key(keys: np.ndarray, values: np.ndarray, size: int, fill: int) -> np.ndarray:
    """Array of ``size``: for each key, the value at its first occurrence (``fill`` if none)."""
    out = np.full(size, fill, np.int64)
    out[keys[::-1]] = values[::-1]      # the last write wins: the first occurrence
    return out


def order_sku_groups(pb: Problem) -> tuple[np.ndarray, np.ndarray]:
    """Per line: its rank among the lines of its order with the same SKU, and their total."""
    n = pb.qty.shape[0]
    n_skus = int(pb.sku.max()) + 1 if n else 1
    key = pb.order * n_skus + pb.sku
    by = sorted_by(key)
    starts, seg = runs(key[by])
    rank = np.empty(n, np.int64)
    rank[by] = np.arange(n) - starts[seg]
    totals = np.add.reduceat(pb.qty[by], starts) if n else np.zeros(0, np.int64)
    total = np.empty(n, np.int64)
    total[by] = totals[seg]
    return rank, total


class _State:
    def __init__(self, pb: Problem, policy: Policy) -> None:
        n = pb.qty.shape[0]
        self.policy = policy
        self.stock = pb.stock.copy()
        self.empty = self.stock.shape[0] - 1
        # per record, scratch for _unsettled: _BIG except while a pass writes to it
        self.since = np.full(self.stock.shape[0], _BIG, np.int64)
        self.ptr = pb.ec_start.copy()
        self.partial = None
        if pb.pending is not None and pb.pending.partial.any():
            self.partial = pb.pending.partial.copy()
            # the candidate arrays grow as lines are laid out: room to double, and one
            # empty record past the end for pointers that ran off their range
            size = pb.ec_rec.shape[0]
            self.bufs = [np.empty(2 * size + 1, np.int64) for _ in range(3)]
            for buf, col in zip(self.bufs, (pb.ec_rec, pb.ec_rank, pb.ec_wh)):
                buf[:size] = col
            self.bufs[0][size] = self.empty
            self.size = size
            rec_buf, rank_buf, wh_buf = self.bufs
            pb = pb._replace(ec_start=pb.ec_start.copy(), ec_end=pb.ec_end.copy(), ec_rec=rec_buf[:size],
                             ec_rank=rank_buf[:size], ec_wh=wh_buf[:size])
            self.ec_rec = rec_buf[:size + 1]
        else:
            self.ec_rec = np.append(pb.ec_rec, self.empty)
        self.pb = pb
        self.unfilled = pb.qty.copy()
        self.reason = np.zeros(n, dtype=np.uint8)
        self.records = Records()
        self.log: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self.group_rank, self.group_total = order_sku_groups(pb)

    def lay_out(self, pos: np.ndarray) -> None:
        """Append the whole candidate lists of the lines ``pos`` that list only their
        first one (their pointer is at it: it moves to the start of the new range)."""
        if self.partial is None:
            return
        pos = pos[self.partial[pos]]
        if pos.size == 0:
            return
        rec, rank, wh, counts = nearest_lists(self.pb, pos)
        size, total = self.size, self.size + rec.size
        if total + 1 > self.bufs[0].shape[0]:
            grown = [np.empty(2 * total + 1, np.int64) for _ in range(3)]
            for new, old in zip(grown, self.bufs):
                new[:size] = old[:size]
            self.bufs = grown
        for buf, col in zip(self.bufs, (rec, rank, wh)):
            buf[size:total] = col
        self.bufs[0][total] = self.empty
        self.size = total
        start = size + np.cumsum(counts) - counts
        pb = self.pb
        pb.ec_start[pos] = start
        pb.ec_end[pos] = start + counts
        self.ptr[pos] = start
        self.partial[pos] = False
        rec_buf, rank_buf, wh_buf = self.bufs
        self.pb = pb._replace(ec_rec=rec_buf[:total], ec_rank=rank_buf[:total], ec_wh=wh_buf[:total])
        self.ec_rec = rec_buf[:total + 1]

    def advance(self, pos: np.ndarray, qty: np.ndarray) -> None:
        """Move the lines ``pos`` that list only their first candidate and cannot take
        ``qty`` from it (split: anything) to their nearest candidate that can, found among
        their whole candidate set: the lines before it cannot take from it either, as
        stock only goes down. A line without one is left an empty range (until it is
        resolved); lines that need the exact order get their whole list."""
        if self.partial is None:
            return
        pb, split = self.pb, self.policy.split
        at = pb.ec_start[pos]
        have = self.stock[self.ec_rec[at]]
        lacking = self.partial[pos] & (at < pb.ec_end[pos]) & ((have < qty) if not split else (have == 0))
        rows = np.flatnonzero(lacking)
        if rows.size == 0:
            return
        lines, q = pos[rows], qty[rows]
        stock, ec_rec = self.stock, pb.ec_rec
        if split:
            # any stock will do: the same entries for every line
            best, tied = nearest_usable(pb.pending, lines, usable_entries=lambda e: stock[ec_rec[e]] > 0)
        else:
            def usable(r: np.ndarray, e: np.ndarray) -> np.ndarray:
                return stock[ec_rec[e]] >= q[r][:, None]
            best, tied = nearest_usable(pb.pending, lines, usable)
        # a back-orderable line no warehouse holds whole looks at its first candidate
        whole = tied | ((best < 0) & pb.backorder[lines]) if not split else tied
        self.lay_out(lines[whole])
        pb = self.pb
        moved = np.flatnonzero(~whole & (best >= 0))
        slot, e = pb.ec_start[lines[moved]], best[moved]
        wh = pb.ec_wh[e]
        pb.ec_rec[slot] = pb.ec_rec[e]
        pb.ec_wh[slot] = wh
        pb.ec_rank[slot] = np.where((wh == pb.first_wh[lines[moved]]) & pb.backorder[lines[moved]], 0, 1)
        none = lines[~whole & (best < 0)]
        pb.ec_end[none] = pb.ec_start[none]

    def candidate_sets(self, pos: np.ndarray, lo: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Ranges of the candidate arrays holding the candidates of lines ``pos`` from
        ``lo`` on, in any order: a line that lists only its first candidate (at ``lo``)
        may reach its whole candidate set."""
        hi = self.pb.ec_end[pos]
        if self.partial is None:
            return lo, hi
        part = self.partial[pos]
        pending = self.pb.pending
        return np.where(part, pending.set_start[pos], lo), np.where(part, pending.set_end[pos], hi)

    def consume(self, rec: np.ndarray, pos: np.ndarray, qty: np.ndarray) -> None:
        np.subtract.at(self.stock, rec, qty)
        if self.policy.fill is Fill.ORDER:
            self.log.append((rec, pos, qty))

    def complete_entries(self, pos: np.ndarray, have_of: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> np.ndarray:
        """For whole orders ``pos``: per line the candidate entry at the first warehouse of
        the order's route that holds every line's SKU total, or -1."""
        self.lay_out(pos)
        pb = self.pb
        owner, idx = expand(pb.ec_start[pos], pb.ec_end[pos])
        ok = have_of(pos[owner], idx) >= self.group_total[pos][owner]
        ostarts, oseg = runs(pb.order[pos])
        n_lines = np.diff(np.append(ostarts, pos.size))
        wh = pb.ec_wh[idx]
        width = int(wh.max()) + 1 if wh.size else 1
        key = oseg[owner] * width + wh
        _, inverse, counts = np.unique(key[ok], return_inverse=True, return_counts=True)
        complete = np.zeros(owner.size, bool)
        complete[ok] = counts[inverse] == n_lines[oseg[owner[ok]]]
        # the first line's candidates are in route order; its first complete one wins
        first_line = ostarts[oseg[owner]] == owner
        pick = complete & first_line
        chosen_wh = _first_per_key(oseg[owner[pick]], wh[pick], ostarts.size, -1)
        chosen = np.full(pos.size, -1, np.int64)
        hit = wh == chosen_wh[oseg[owner]]
        chosen[owner[hit]] = idx[hit]
        return chosen

    def resolve(self, pos: np.ndarray, sc_open: np.ndarray, apply: bool,
                have_of: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> None:
        """Allocate the lines ``pos`` (whole units, in position order) exactly; ``have_of``
        gives the stock each candidate held at the unit's turn. ``apply`` books the result
        (records, stock); otherwise only reasons and unfilled are written."""
        policy = self.policy
        if apply or not policy.split or policy.ship_complete is not ShipComplete.OFF:
            self.lay_out(pos)
            starts, ends = self.pb.ec_start[pos], self.pb.ec_end[pos]
        else:
            # split lines' reasons and unfilled units depend on the totals their candidates
            # held, not on the order they are drawn in: whole candidate sets will do
            starts, ends = self.candidate_sets(pos, self.pb.ec_start[pos])
        pb = self.pb
        m = pos.shape[0]
        qty = pb.qty[pos]
        owner, idx = expand(starts, ends)
        have = have_of(pos[owner], idx)
        give = np.zeros(idx.size, np.int64)
        bo = np.zeros(m, np.int64)
        reason = np.zeros(m, np.uint8)
        unfilled = np.zeros(m, np.int64)
        normal = np.ones(m, dtype=bool)
        ostarts, oseg = runs(pb.order[pos])
        nowh = pb.first_wh[pos] < 0

        if policy.ship_complete is not ShipComplete.OFF and sc_open.any():
            chosen = self.complete_entries(pos, have_of)
            take = sc_open & (chosen >= 0)
            at = take[owner] & (idx == chosen[owner])
            give[at] = qty[owner[at]]
            normal &= ~take
            if policy.ship_complete is ShipComplete.REQUIRE:
                refuse = sc_open & (chosen < 0)
                reason[refuse] = np.where(nowh[refuse], Reason.NO_WAREHOUSE, Reason.ORDER_INCOMPLETE)
                unfilled[refuse] = qty[refuse]
                normal &= ~refuse

        lines = np.flatnonzero(normal)
        if lines.size:
            keep_partial = policy.fill is Fill.PARTIAL
            g_rank = self.group_rank[pos[lines]]
            # what earlier lines of the same order took, per (order, record): one slot for
            # each, needed only when an order has several lines of one SKU
            if g_rank.max() > 0:
                key = oseg[owner] * (self.empty + 1) + pb.ec_rec[idx]
                by = sorted_by(key)
                slot = np.empty(idx.size, np.int64)
                slot[by] = runs(key[by])[1]
            else:
                slot = np.zeros(idx.size, np.int64)
            tent = np.zeros(int(slot.max()) + 1 if slot.size else 0, np.int64)
            for g in range(int(g_rank.max()) + 1):
                sel = lines[g_rank == g]
                lo, hi = starts[sel], ends[sel]
                own, _ = expand(lo, hi)
                # entries of these lines inside the unit's flat arrays
                base = np.searchsorted(owner, sel)
                flat = np.repeat(base - (np.cumsum(hi - lo) - (hi - lo)), hi - lo) + np.arange(own.size)
                h = have[flat] - tent[slot[flat]]
                q = qty[sel]
                bo_ok = pb.backorder[pos[sel]]
                g_give = np.zeros(flat.size, np.int64)
                seg_first = np.cumsum(hi - lo) - (hi - lo)
                if policy.split:
                    before = cumsum_in_runs(h, seg_first, own, before=True)
                    g_give = np.clip(q[own] - before, 0, h)
                    got = np.bincount(own, weights=g_give, minlength=sel.size).astype(np.int64)
                    short = q - got
                    r = np.where(short > 0, Reason.SHORT, Reason.FILLED).astype(np.uint8)
                    back = np.where(bo_ok, short, 0)
                    lost = (short > 0) & ~bo_ok
                    if not keep_partial:
                        g_give[lost[own]] = 0
                        short = np.where(lost, q, short)
                    short = np.where(bo_ok, 0, short)
                else:
                    fit = h >= q[own]
                    before = cumsum_in_runs(fit.astype(np.int64), seg_first, own, before=True)
                    first_fit = fit & (before == 0)
                    g_give[first_fit] = q[own[first_fit]]
                    has = np.bincount(own[first_fit], minlength=sel.size) > 0
                    fallback = ~has & bo_ok
                    # a back-orderable line that no warehouse holds whole: what its first
                    # warehouse has, the rest back ordered there
                    head = np.zeros(flat.size, bool)
                    head[seg_first[hi > lo]] = True
                    head &= fallback[own] & (pb.ec_rank[idx[flat]] == 0)
                    g_give[head] = np.minimum(h[head], q[own[head]])
                    took = np.bincount(own[head], weights=g_give[head], minlength=sel.size).astype(np.int64)
                    back = np.where(fallback, q - took, 0)
                    r = np.where(has, Reason.FILLED, Reason.NO_SINGLE_WAREHOUSE).astype(np.uint8)
                    short = np.where(has | bo_ok, 0, q)
                r = np.where(back > 0, Reason.BACKORDERED, r).astype(np.uint8)
                none = nowh[sel]
                r[none] = Reason.NO_WAREHOUSE
                short[none] = q[none]
                back[none] = 0
                give[flat] = g_give
                bo[sel] = back
                reason[sel] = r
                unfilled[sel] = short
                np.add.at(tent, slot[flat], g_give)

        if policy.fill is Fill.ORDER and m:
            failed = np.logical_or.reduceat(unfilled > 0, ostarts)[oseg]
            reason = np.where(failed & (unfilled == 0), Reason.ORDER_INCOMPLETE, reason).astype(np.uint8)
            unfilled = np.where(failed, qty, unfilled)
            give[failed[owner]] = 0
            bo[failed] = 0

        self.reason[pos] = reason
        self.unfilled[pos] = unfilled
        if not apply:
            return
        got = np.flatnonzero(give)
        gpos, gidx = pos[owner[got]], idx[got]
        self.records.add(gpos, pb.ec_rank[gidx], pb.ec_wh[gidx], give[got], False)
        self.consume(pb.ec_rec[gidx], gpos, give[got])
        b = np.flatnonzero(bo)
        self.records.add(pos[b], np.zeros(b.size, np.int64), pb.first_wh[pos[b]], bo[b], True)

    def current(self, _pos: np.ndarray, idx: np.ndarray) -> np.ndarray:
        """Stock of candidates ``idx`` now."""
        return self.stock[self.pb.ec_rec[idx]]

    def before_turn(self) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
        """Stock of candidates just before a line's turn, from the log of what was taken."""
        pb = self.pb
        n1 = pb.qty.shape[0] + 1
        if self.log:
            rec = np.concatenate([x[0] for x in self.log])
            lpos = np.concatenate([x[1] for x in self.log])
            q = np.concatenate([x[2] for x in self.log])
        else:
            rec = lpos = q = np.zeros(0, np.int64)
        key = rec * n1 + lpos
        by = np.argsort(key, kind="stable")
        key = key[by]
        cum = np.concatenate(([0], np.cumsum(q[by])))

        def have_of(pos: np.ndarray, idx: np.ndarray) -> np.ndarray:
            r = self.pb.ec_rec[idx]
            at = r * n1 + pos
            # sorted needles walk the log once instead of jumping about it (3x faster on
            # millions of them); sorting by (record, position) sorts the records too
            by = sorted_by(at)
            at = at[by]
            taken = np.empty(at.size, np.int64)
            taken[by] = cum[np.searchsorted(key, at)] - cum[np.searchsorted(key, at - at % n1)]
            return pb.stock[r] - taken

        return have_of


def _unsettled(st: _State, A: np.ndarray, entry: np.ndarray, rec: np.ndarray, valid: np.ndarray,
               take: np.ndarray | None = None,
               units: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """Lines that must wait, when lines split and are their own units: the invalid ones,
    and every valid line whose record an earlier waiting line might still draw on.

    A waiting line may take from any candidate after its current one, from its own turn
    on; a valid line is exact (and may settle now, even after its SKU's first event) when
    no waiting line before it lists its record among those. Lines that wait make more
    lines wait, so this runs to a fixed point. Lines of one (SKU, route) group share their
    current candidate, so the records a group's waiting lines reach are one range.
    """
    # only the candidates and records of waiting lines are looked at: a round costs in
    # proportion to its open lines, not to the whole candidate table
    waiting = ~valid
    while True:
        if units is not None:
            # a unit waits as a whole
            starts, seg = units
            waiting = np.logical_or.reduceat(waiting, starts)[seg]
        idx = np.flatnonzero(waiting if take is None else waiting & take)
        # earliest waiting line per current candidate (A is in position order)
        cur, first_at = np.unique(entry[idx], return_index=True)
        first = A[idx[first_at]]
        owner, reach = expand(*st.candidate_sets(first, cur + 1))
        reach_rec = st.pb.ec_rec[reach]
        if st.partial is not None:
            # a whole candidate set holds the line's current record too
            other = reach_rec != st.pb.ec_rec[cur][owner]
            owner, reach_rec = owner[other], reach_rec[other]
        # per record, the earliest waiting line that may reach it (_BIG: none)
        since = st.since
        np.minimum.at(since, reach_rec, first[owner])
        more = ~waiting & (A >= since[rec])
        since[reach_rec] = _BIG
        if take is not None:
            more &= take
        if not more.any():
            return waiting
        waiting |= more


def _window_end(pb: Problem, start: int, size: int) -> int:
    """The first order boundary at or after position ``start + size`` (or the end)."""
    n = pb.qty.shape[0]
    if start + size >= n:
        return n
    at = int(np.searchsorted(pb.order_start, start + size))
    return int(pb.order_start[at]) if at < pb.order_start.shape[0] else n


#: lines open in the rounds at a time (see :func:`allocate_rounds`); orders decided whole
#: (per-order fill, ship complete) settle fewer lines per round and do best with fewer
#: (measured on the benchmark workloads S and M)
WINDOW = 1 << 11
ORDER_WINDOW = 1 << 9
#: nearest-first lines listing only their first candidate (one line at a time, or whole
#: orders): rounds cost more for themselves (a line whose record ran dry looks for its
#: nearest one left), so fewer, larger windows do best
NEAREST_WINDOW = 1 << 13
NEAREST_ORDER_WINDOW = 1 << 10


def allocate_rounds(pb: Problem, policy: Policy, window: int | None = None,
                    min_rate: tuple[int, int] | None = None) -> tuple[tuple[np.ndarray, ...], np.ndarray,
                                                                       np.ndarray] | None:
    """Run the rounds; returns (records sorted, unfilled, reason), all in positions, or
    None when ``min_rate`` = (grace, lines) is given and, after ``grace`` rounds, fewer
    than ``lines`` lines per round have left the rounds (no limit by default).

    Lines enter in windows of about ``window`` positions of service order, topped up with
    the next whole orders when fewer than half stay open: lines after the window come
    after every open line, so they cannot change how those are served (``window``
    defaults to :data:`ORDER_WINDOW` when orders are decided whole, else :data:`WINDOW`;
    :data:`NEAREST_ORDER_WINDOW` and :data:`NEAREST_WINDOW` when nearest-first lines list
    only their first candidate)."""
    st = _State(pb, policy)
    n = pb.qty.shape[0]
    sc = policy.ship_complete is not ShipComplete.OFF
    by_order = policy.fill is Fill.ORDER
    # nearest-first lines that list only their first candidate: a waiting line may reach
    # every record of its SKU, so the fixed point of _unsettled would cost more than the
    # few lines it lets settle past their SKU's first event; they wait for the next round
    reach_all = st.partial is not None
    if window is None:
        window = ((NEAREST_ORDER_WINDOW if reach_all else ORDER_WINDOW) if by_order or sc
                  else NEAREST_WINDOW if reach_all else WINDOW)
    window = max(window, 2)
    # order units: lines decided together; ship-complete orders are units until no
    # warehouse can take them whole, then (unless Fill.ORDER) their lines go on alone
    order_unit = np.full(n, by_order or sc)
    sc_open = np.full(n, sc)
    ptr = st.ptr
    frontier = np.full(int(pb.sku.max()) + 1 if n else 0, _BIG, np.int64)
    deferred: list[np.ndarray] = []
    # lines enter the rounds in windows of service order: a round costs in proportion to
    # the open lines, and lines far behind the first events cannot settle anyway
    horizon = _window_end(pb, 0, window)
    active = np.arange(horizon)
    empty = st.empty

    rounds = 0
    while True:
        if active.size < window // 2 and horizon < n:
            # top up with the next whole orders; they come after every open line
            end = _window_end(pb, horizon, window - active.size)
            active = np.concatenate([active, np.arange(horizon, end)])
            horizon = end
        if not active.size:
            break
        if min_rate is not None and rounds >= min_rate[0] and horizon - active.size < min_rate[1] * rounds:
            return None
        rounds += 1
        stock = st.stock
        pb, ec_rec = st.pb, st.ec_rec       # one past the end of ec_rec reads the empty record
        A = active
        kind = np.full(A.size, _TAKE, np.int64)
        fail_reason = np.zeros(A.size, np.uint8)
        entry = np.full(A.size, -1, np.int64)
        qty = pb.qty[A]
        nowh = pb.first_wh[A] < 0
        planned = np.zeros(A.size, bool)

        if sc:
            open_idx = np.flatnonzero(sc_open[A])
            if open_idx.size:
                chosen = st.complete_entries(A[open_idx], st.current)
                found = chosen >= 0
                hit = open_idx[found]
                entry[hit] = chosen[found]
                planned[hit] = True
                missed = open_idx[~found]
                if policy.ship_complete is ShipComplete.REQUIRE:
                    kind[missed] = _DONE
                    mp = A[missed]
                    st.reason[mp] = np.where(nowh[missed], Reason.NO_WAREHOUSE, Reason.ORDER_INCOMPLETE)
                    st.unfilled[mp] = pb.qty[mp]
                    planned[missed] = True
                else:
                    sc_open[A[missed]] = False
                    if not by_order:
                        order_unit[A[missed]] = False

        idx = np.flatnonzero(~planned)
        if idx.size:
            P = A[idx]
            q = qty[idx]
            if st.partial is not None:
                st.advance(P, q)
                pb, ec_rec = st.pb, st.ec_rec
            p = ptr[P]
            end = pb.ec_end[P]
            todo = np.arange(idx.size)
            while todo.size:
                pt = p[todo]
                have = stock[ec_rec[pt]]
                short = (have < q[todo]) if not policy.split else (have == 0)
                move = todo[(pt < end[todo]) & short]
                p[move] += 1
                todo = move
            ptr[P] = p
            bo_ok = pb.backorder[P]
            nothing = p >= end
            e = np.where(nothing, -1, p)
            k = np.full(idx.size, _TAKE, np.int64)
            fr = np.zeros(idx.size, np.uint8)
            if policy.split:
                if policy.fill is not Fill.PARTIAL:
                    need = q if not by_order else st.group_total[P]
                    ci = np.flatnonzero(~nothing & ~bo_ok & (need > stock[ec_rec[p]]))
                    if ci.size:
                        owner, cidx = expand(*st.candidate_sets(P[ci], pb.ec_start[P[ci]]))
                        total = np.bincount(owner, weights=stock[pb.ec_rec[cidx]], minlength=ci.size)
                        lacking = ci[total < need[ci]]
                        k[lacking] = _FAIL
                        fr[lacking] = Reason.SHORT
                k[nothing & bo_ok] = _BACKORDER
                k[nothing & ~bo_ok] = _FAIL
                fr[nothing & ~bo_ok] = Reason.SHORT
            else:
                k[nothing & ~bo_ok] = _FAIL
                fr[nothing & ~bo_ok] = Reason.NO_SINGLE_WAREHOUSE
                first = pb.ec_start[P]
                listed = first < end
                at_first = np.zeros(idx.size, bool)
                at_first[listed] = pb.ec_rank[first[listed]] == 0
                first_have = np.where(at_first, stock[ec_rec[first]], 0)
                fallback = nothing & bo_ok
                k[fallback & (first_have == 0)] = _BACKORDER
                # takes what its first warehouse has and back orders the rest: more than the
                # record holds, so it is an event and gets resolved exactly
                e[fallback & (first_have > 0)] = first[fallback & (first_have > 0)]
            no = nowh[idx]
            k[no] = _FAIL
            fr[no] = Reason.NO_WAREHOUSE
            kind[idx] = k
            fail_reason[idx] = fr
            entry[idx] = e

        unit = order_unit[A]
        # terminal lines that are their own unit
        done = (kind == _DONE) | (~unit & (kind != _TAKE))
        d = np.flatnonzero(done & (kind != _DONE))
        if d.size:
            dp = A[d]
            bo_line = kind[d] == _BACKORDER
            st.reason[dp] = np.where(bo_line, Reason.BACKORDERED, fail_reason[d])
            st.unfilled[dp] = np.where(bo_line, 0, pb.qty[dp])
            b = dp[bo_line]
            st.records.add(b, np.zeros(b.size, np.int64), pb.first_wh[b], pb.qty[b], True)
        # orders that fail whatever happens: set aside, explained at the end
        if unit.any():
            ostarts, oseg = runs(pb.order[A])
            order_fails = np.logical_or.reduceat(unit & (kind == _FAIL), ostarts)[oseg]
            deferred.append(A[order_fails])
            keep = ~done & ~order_fails
        else:
            keep = ~done
        A, kind, entry, unit = A[keep], kind[keep], entry[keep], unit[keep]
        if A.size == 0:
            active = A
            continue

        # cumulative demand per record, in position order, finds the events
        take = kind == _TAKE
        rec = np.where(take, ec_rec[np.where(take, entry, -1)], empty)
        demand = np.where(take, pb.qty[A], 0)
        by_rec = sorted_by(rec)
        rec_sorted = rec[by_rec]
        dem_sorted = demand[by_rec]
        rs, rseg = runs(rec_sorted)
        cum_in = cumsum_in_runs(dem_sorted, rs, rseg)
        valid = np.empty(A.size, bool)
        valid[by_rec] = cum_in <= stock[rec_sorted]

        sku = pb.sku[A]
        bad_idx = np.flatnonzero(~valid)
        frontier[sku[bad_idx[::-1]]] = A[bad_idx[::-1]]
        if unit.any():
            ustarts, useg = runs(np.where(unit, pb.order_start[pb.order[A]], A))
            unit_start = A[ustarts]
            while True:
                unit_bad = np.logical_or.reduceat(A >= frontier[sku], ustarts)
                lines_bad = np.flatnonzero(unit_bad[useg])
                lower = A[lines_bad] < frontier[sku[lines_bad]]
                if not lower.any():
                    break
                moved = lines_bad[lower][::-1]
                frontier[sku[moved]] = A[moved]
            resolvable = (unit_bad & np.logical_and.reduceat(frontier[sku] >= unit_start[useg], ustarts))[useg]
            if policy.split and not sc and not reach_all:
                # whole units may settle after an event too, when nothing waiting reaches them
                bad_line = _unsettled(st, A, entry, rec, valid, take, (ustarts, useg))
                resolvable &= bad_line
            else:
                bad_line = unit_bad[useg]
        elif policy.split and policy.fill is not Fill.ORDER and not reach_all:
            bad_line = _unsettled(st, A, entry, rec, valid)
            resolvable = A == frontier[sku]
        else:
            bad_line = A >= frontier[sku]
            resolvable = A == frontier[sku]

        # settle everything before the events
        s_idx = np.flatnonzero(~bad_line)
        if s_idx.size:
            pb = st.pb
            sp = A[s_idx]
            t = take[s_idx]
            tp, te = sp[t], entry[s_idx][t]
            st.records.add(tp, pb.ec_rank[te], pb.ec_wh[te], pb.qty[tp], False)
            st.consume(rec[s_idx][t], tp, pb.qty[tp])
            st.unfilled[sp] = 0
            st.reason[sp] = np.where(t, Reason.FILLED, Reason.BACKORDERED)
            b = sp[~t]
            st.records.add(b, np.zeros(b.size, np.int64), pb.first_wh[b], pb.qty[b], True)
        frontier[sku] = _BIG

        # resolve the units at the events exactly
        r_idx = np.flatnonzero(resolvable)
        if r_idx.size:
            rp = A[r_idx]
            st.resolve(rp, sc_open[rp], True, st.current)
        active = A[bad_line & ~resolvable]

    if deferred:
        failed = np.sort(np.concatenate(deferred))
        if failed.size:
            st.resolve(failed, sc_open[failed], False, st.before_turn())
    return st.records.sorted(), st.unfilled, st.reason
