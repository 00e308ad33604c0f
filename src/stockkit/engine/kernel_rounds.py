"""The general exact kernel: rounds over depletion and failure events.

Works for every policy and topology (lines of one SKU ordering the warehouses
differently, split off, fill per line or per order, ship complete, back orders).

Each round starts from the current stock. Every open line gets a *plan* computed from that
stock alone: take its whole quantity from one stock record (its most preferred warehouse
with stock, or that holds all of it when split is off, or its order's ship-complete
warehouse), or an outcome that lower stock cannot change (no warehouse, nothing anywhere,
back order of everything). Stock only ever goes down, so these plans are exact for every
line that comes before the first *event* of its SKU: the first line whose cumulative
demand on its record exceeds what the record holds. Per SKU everything before that event
is settled at once (cumsum over lines sorted by record); the unit at the event (a line, or
a whole order when orders are all-or-nothing or ship complete) is then resolved exactly
against the stock left, all such units of all SKUs together, in arrays. Lines after the
event wait for the next round. Orders that must fail whatever happens are set aside and
explained at the end from the history of what each record gave before their turn.

All arrays are positions in service order (see :mod:`stockkit.engine.problem`).
"""

from __future__ import annotations

import numpy as np

from stockkit.engine.policy import Fill, Policy, Reason, ShipComplete
from stockkit.engine.problem import Problem

__all__ = ["Records", "allocate_rounds"]

# plan kinds
_TAKE, _BACKORDER, _FAIL, _DONE = 0, 1, 2, 3
_BIG = np.iinfo(np.int64).max


class Records:
    """Allocation records collected chunk by chunk, in positions."""

    def __init__(self) -> None:
        self.parts: list[tuple[np.ndarray, ...]] = []

    def add(self, pos, rank, wh, qty, backorder: bool) -> None:
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


def _record_at(pb: Problem, pos: np.ndarray, rank: np.ndarray) -> np.ndarray:
    """Stock record of the warehouse of rank ``rank`` for each line (the empty record when
    there is none)."""
    route = pb.line_route[pos]
    ok = rank < pb.route_len[route]
    wh = pb.route_wh[route, np.where(ok, rank, 0)]
    key = pb.sku[pos] * pb.n_warehouses + wh
    idx = np.searchsorted(pb.rec_key, key)
    empty = pb.rec_key.shape[0]
    idx_safe = np.minimum(idx, max(empty - 1, 0))
    found = ok & (wh >= 0) & (idx < empty)
    if empty:
        found &= pb.rec_key[idx_safe] == key
    return np.where(found, idx, empty)


def _stock_matrix(pb: Problem, stock: np.ndarray, pos: np.ndarray) -> np.ndarray:
    """(lines, D) stock each line would see at each rank (0 past its route)."""
    depth = pb.route_wh.shape[1]
    out = np.zeros((pos.shape[0], depth), dtype=np.int64)
    for j in range(depth):
        out[:, j] = stock[_record_at(pb, pos, np.full(pos.shape[0], j))]
    return out


def _segments(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(starts, segment id per element) of runs of equal values in ``keys``."""
    if keys.size == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    new = np.ones(keys.shape[0], dtype=bool)
    new[1:] = keys[1:] != keys[:-1]
    return np.flatnonzero(new), np.cumsum(new) - 1


class _State:
    def __init__(self, pb: Problem, policy: Policy) -> None:
        n = pb.qty.shape[0]
        self.pb = pb
        self.policy = policy
        self.stock = pb.stock.copy()
        self.unfilled = pb.qty.copy()
        self.reason = np.zeros(n, dtype=np.uint8)
        self.records = Records()
        self.log: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        # units of the same (order, SKU): the k-th line of its group, and the group's first line
        order_sku = np.lexsort((np.arange(n), pb.sku, pb.order))
        keys = pb.order[order_sku] * (int(pb.sku.max()) + 1 if n else 1) + pb.sku[order_sku]
        starts, seg = _segments(keys)
        self.group_first = np.empty(n, np.int64)
        self.group_first[order_sku] = order_sku[starts][seg]
        self.group_rank = np.empty(n, np.int64)
        self.group_rank[order_sku] = np.arange(n) - starts[seg]
        group_total = np.add.reduceat(pb.qty[order_sku], starts) if n else np.zeros(0, np.int64)
        self.group_total = np.empty(n, np.int64)
        self.group_total[order_sku] = group_total[seg]

    def consume(self, rec: np.ndarray, pos: np.ndarray, qty: np.ndarray) -> None:
        np.subtract.at(self.stock, rec, qty)
        if self.policy.fill is Fill.ORDER:
            self.log.append((rec, pos, qty))

    # -- exact resolution of whole units against a given stock matrix ----------------
    def resolve(self, pos: np.ndarray, smat: np.ndarray, sc_open: np.ndarray, apply: bool) -> None:
        """Allocate the lines ``pos`` (whole units, in position order) exactly, each seeing
        ``smat`` (stock per rank at its unit's turn). ``apply`` books the result (records,
        stock); otherwise only reasons and unfilled are written (failing orders)."""
        pb, policy = self.pb, self.policy
        depth = smat.shape[1]
        qty = pb.qty[pos]
        lens = pb.route_len[pb.line_route[pos]]
        in_route = np.arange(depth)[None, :] < lens[:, None]
        smat = np.where(in_route, smat, 0)
        gives = np.zeros_like(smat)
        bo = np.zeros(pos.shape[0], np.int64)
        reason = np.zeros(pos.shape[0], np.uint8)
        unfilled = np.zeros(pos.shape[0], np.int64)
        normal = np.ones(pos.shape[0], dtype=bool)
        ostarts, oseg = _segments(pb.order[pos])

        if policy.ship_complete is not ShipComplete.OFF and sc_open.any():
            fits = (smat >= self.group_total[pos][:, None]) & in_route
            all_fit = np.logical_and.reduceat(fits, ostarts, axis=0)[oseg]
            found = all_fit.any(axis=1)
            col = np.argmax(all_fit, axis=1)
            take = sc_open & found
            gives[take, col[take]] = qty[take]
            normal &= ~take
            if policy.ship_complete is ShipComplete.REQUIRE:
                refuse = sc_open & ~found
                reason[refuse] = np.where(lens[refuse] == 0, Reason.NO_WAREHOUSE, Reason.ORDER_INCOMPLETE)
                unfilled[refuse] = qty[refuse]
                normal &= ~refuse

        idx = np.flatnonzero(normal)
        if idx.size:
            keep_partial = policy.fill is Fill.PARTIAL
            group = self.group_first[pos[idx]]
            rank_in_group = self.group_rank[pos[idx]]
            _, group_row = np.unique(group, return_inverse=True)
            taken = np.zeros((int(group_row.max()) + 1, depth), np.int64)
            for g in range(int(rank_in_group.max()) + 1):
                sel = idx[rank_in_group == g]
                rows = group_row[rank_in_group == g]
                # lines of one order may rank the warehouses differently (own ship-to):
                # what earlier lines took is kept per warehouse slot of the channel
                slot = pb.route_slot[pb.line_route[pos[sel]]]
                have = smat[sel] - np.take_along_axis(taken[rows], slot, axis=1)
                q = qty[sel]
                bo_ok = pb.backorder[pos[sel]]
                give = np.zeros_like(have)
                if policy.split:
                    before = np.cumsum(have, axis=1) - have
                    give = np.clip(q[:, None] - before, 0, have)
                    short = q - give.sum(axis=1)
                    r = np.where(short > 0, Reason.SHORT, Reason.FILLED).astype(np.uint8)
                    back = np.where(bo_ok, short, 0)
                    lost = (short > 0) & ~bo_ok
                    if not keep_partial:
                        give[lost] = 0
                        short = np.where(lost, q, short)
                    short = np.where(bo_ok, 0, short)
                else:
                    fit = have >= q[:, None]
                    has = fit.any(axis=1)
                    col = np.argmax(fit, axis=1)
                    give[has, col[has]] = q[has]
                    fallback = ~has & bo_ok
                    give[fallback, 0] = np.minimum(have[fallback, 0], q[fallback])
                    back = np.where(fallback, q - give[:, 0], 0)
                    r = np.where(has, Reason.FILLED, Reason.NO_SINGLE_WAREHOUSE).astype(np.uint8)
                    short = np.where(has | bo_ok, 0, q)
                r = np.where(back > 0, Reason.BACKORDERED, r).astype(np.uint8)
                none = lens[sel] == 0
                r[none] = Reason.NO_WAREHOUSE
                short[none] = q[none]
                back[none] = 0
                give[none] = 0
                gives[sel] = give
                bo[sel] = back
                reason[sel] = r
                unfilled[sel] = short
                np.add.at(taken, (rows[:, None], slot), give)

        if policy.fill is Fill.ORDER:
            failed = np.logical_or.reduceat(unfilled > 0, ostarts)[oseg] if pos.size else unfilled > 0
            reason = np.where(failed & (unfilled == 0), Reason.ORDER_INCOMPLETE, reason).astype(np.uint8)
            unfilled = np.where(failed, qty, unfilled)
            gives[failed] = 0
            bo[failed] = 0

        self.reason[pos] = reason
        self.unfilled[pos] = unfilled
        if not apply:
            return
        rows, cols = np.nonzero(gives)
        rpos = pos[rows]
        wh = pb.route_wh[pb.line_route[rpos], cols]
        self.records.add(rpos, cols, wh, gives[rows, cols], False)
        recs = _record_at(pb, rpos, cols)
        self.consume(recs, rpos, gives[rows, cols])
        b = np.flatnonzero(bo)
        bpos = pos[b]
        self.records.add(bpos, np.zeros(b.size, np.int64), pb.route_wh[pb.line_route[bpos], 0], bo[b], True)

    def stock_before(self, pos: np.ndarray) -> np.ndarray:
        """(lines, D) stock each line saw at its turn, from the log of what was taken."""
        pb = self.pb
        depth = pb.route_wh.shape[1]
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
        out = np.zeros((pos.shape[0], depth), np.int64)
        for j in range(depth):
            r = _record_at(pb, pos, np.full(pos.shape[0], j))
            taken = cum[np.searchsorted(key, r * n1 + pos)] - cum[np.searchsorted(key, r * n1)]
            out[:, j] = pb.stock[r] - taken
        return out


def allocate_rounds(pb: Problem, policy: Policy) -> tuple[tuple[np.ndarray, ...], np.ndarray, np.ndarray]:
    """Run the rounds; returns (records sorted, unfilled, reason), all in positions."""
    st = _State(pb, policy)
    n = pb.qty.shape[0]
    sc = policy.ship_complete is not ShipComplete.OFF
    by_order = policy.fill is Fill.ORDER
    # order units: lines decided together; ship-complete orders are units until no
    # warehouse can take them whole, then (unless Fill.ORDER) their lines go on alone
    order_unit = np.full(n, by_order or sc)
    sc_open = np.full(n, sc)
    ptr = np.zeros(n, np.int64)
    order_ptr = np.zeros(pb.order_start.shape[0], np.int64)
    frontier = np.full(int(pb.sku.max()) + 1 if n else 0, _BIG, np.int64)
    deferred: list[np.ndarray] = []
    active = np.arange(n)
    lens_all = pb.route_len[pb.line_route]

    while active.size:
        stock = st.stock
        A = active
        kind = np.full(A.size, _TAKE, np.int64)
        fail_reason = np.zeros(A.size, np.uint8)
        rank = np.zeros(A.size, np.int64)
        lens = lens_all[A]
        qty = pb.qty[A]
        planned = np.zeros(A.size, bool)

        if sc:
            open_idx = np.flatnonzero(sc_open[A])
            if open_idx.size:
                L = A[open_idx]
                ostarts, oseg = _segments(pb.order[L])
                orders = pb.order[L[ostarts]]
                todo = np.arange(orders.size)
                while todo.size:
                    # lines of the orders still searching
                    sel = np.isin(oseg, todo)
                    li = np.flatnonzero(sel)
                    p = order_ptr[orders[oseg[li]]]
                    ok = p < lens_all[L[li]]
                    fits = ok & (stock[_record_at(pb, L[li], p)] >= st.group_total[L[li]])
                    ls, _lseg = _segments(oseg[li])
                    all_fit = np.logical_and.reduceat(fits, ls)
                    o_ok = np.logical_and.reduceat(ok, ls)
                    advance = oseg[li][ls][o_ok & ~all_fit]
                    order_ptr[orders[advance]] += 1
                    todo = advance
                p = order_ptr[pb.order[L]]
                found = p < lens_all[L]
                hit = open_idx[found]
                kind[hit] = _TAKE
                rank[hit] = p[found]
                planned[hit] = True
                missed = open_idx[~found]
                if policy.ship_complete is ShipComplete.REQUIRE:
                    kind[missed] = _DONE
                    mp = A[missed]
                    st.reason[mp] = np.where(lens[missed] == 0, Reason.NO_WAREHOUSE, Reason.ORDER_INCOMPLETE)
                    st.unfilled[mp] = pb.qty[mp]
                    planned[missed] = True
                else:
                    sc_open[A[missed]] = False
                    if not by_order:
                        order_unit[A[missed]] = False

        idx = np.flatnonzero(~planned)
        if idx.size:
            P = A[idx]
            p = ptr[P]
            q = qty[idx]
            ln = lens[idx]
            todo = np.arange(idx.size)
            while todo.size:
                pt = p[todo]
                have = stock[_record_at(pb, P[todo], pt)]
                short = (have < q[todo]) if not policy.split else (have == 0)
                move = todo[(pt < ln[todo]) & short]
                p[move] += 1
                todo = move
            ptr[P] = p
            bo_ok = pb.backorder[P]
            nothing = p >= ln
            target = stock[_record_at(pb, P, np.minimum(p, np.maximum(ln - 1, 0)))]
            k = np.full(idx.size, _TAKE, np.int64)
            fr = np.zeros(idx.size, np.uint8)
            r = p.copy()
            if policy.split:
                need = q if not by_order else st.group_total[P]
                check = ~nothing & ~bo_ok & (need > target) & (policy.fill is not Fill.PARTIAL)
                ci = np.flatnonzero(check)
                if ci.size:
                    total = _stock_matrix(pb, stock, P[ci]).sum(axis=1)
                    lacking = ci[total < need[ci]]
                    k[lacking] = _FAIL
                    fr[lacking] = Reason.SHORT
                k[nothing & bo_ok] = _BACKORDER
                k[nothing & ~bo_ok] = _FAIL
                fr[nothing & ~bo_ok] = Reason.SHORT
            else:
                first = stock[_record_at(pb, P, np.zeros(idx.size, np.int64))]
                k[nothing & ~bo_ok] = _FAIL
                fr[nothing & ~bo_ok] = Reason.NO_SINGLE_WAREHOUSE
                k[nothing & bo_ok & (first == 0)] = _BACKORDER
                r[nothing & bo_ok] = 0
            k[ln == 0] = _FAIL
            fr[ln == 0] = Reason.NO_WAREHOUSE
            kind[idx] = k
            fail_reason[idx] = fr
            rank[idx] = r

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
            st.records.add(b, np.zeros(b.size, np.int64), pb.route_wh[pb.line_route[b], 0], pb.qty[b], True)
        # orders that fail whatever happens: set aside, explained at the end
        ostarts, oseg = _segments(pb.order[A])
        order_fails = np.logical_or.reduceat(unit & (kind == _FAIL), ostarts)[oseg]
        deferred.append(A[order_fails])
        keep = ~done & ~order_fails
        A, kind, rank, unit = A[keep], kind[keep], rank[keep], unit[keep]
        if A.size == 0:
            break

        # cumulative demand per record, in position order, finds the events
        take = kind == _TAKE
        rec = np.full(A.size, pb.rec_key.shape[0], np.int64)
        rec[take] = _record_at(pb, A[take], rank[take])
        demand = np.where(take, pb.qty[A], 0)
        by_rec = np.argsort(rec, kind="stable")
        rs, rseg = _segments(rec[by_rec])
        cum = np.cumsum(demand[by_rec])
        cum_in = cum - (cum[rs] - demand[by_rec][rs])[rseg]
        valid = np.empty(A.size, bool)
        valid[by_rec] = cum_in <= st.stock[rec[by_rec]]
        valid |= ~take

        sku = pb.sku[A]
        bad_idx = np.flatnonzero(~valid)
        u_sku, first = np.unique(sku[bad_idx], return_index=True)
        frontier[u_sku] = A[bad_idx[first]]
        ustarts, useg = _segments(np.where(unit, pb.order_start[pb.order[A]], A))
        unit_start = A[ustarts]
        while True:
            unit_bad = np.logical_or.reduceat(A >= frontier[sku], ustarts)
            lines_bad = np.flatnonzero(unit_bad[useg])
            s2, f2 = np.unique(sku[lines_bad], return_index=True)
            newer = A[lines_bad[f2]] < frontier[s2]
            if not newer.any():
                break
            frontier[s2[newer]] = A[lines_bad[f2]][newer]
        bad_line = unit_bad[useg]
        resolvable = unit_bad & np.logical_and.reduceat(frontier[sku] >= unit_start[useg], ustarts)

        # settle everything before the events
        s_idx = np.flatnonzero(~bad_line)
        if s_idx.size:
            sp = A[s_idx]
            t = take[s_idx]
            tp, tr = sp[t], rank[s_idx][t]
            st.records.add(tp, tr, pb.route_wh[pb.line_route[tp], tr], pb.qty[tp], False)
            st.consume(rec[s_idx][t], tp, pb.qty[tp])
            st.unfilled[sp] = 0
            st.reason[sp] = np.where(t, Reason.FILLED, Reason.BACKORDERED)
            b = sp[~t]
            st.records.add(b, np.zeros(b.size, np.int64), pb.route_wh[pb.line_route[b], 0], pb.qty[b], True)
        frontier[sku] = _BIG

        # resolve the units at the events exactly
        r_idx = np.flatnonzero(resolvable[useg])
        if r_idx.size:
            rp = A[r_idx]
            st.resolve(rp, _stock_matrix(pb, st.stock, rp), sc_open[rp], apply=True)
        remaining = bad_line & ~resolvable[useg]
        active = A[remaining]

    if deferred:
        failed = np.concatenate(deferred)
        if failed.size:
            failed.sort()
            st.resolve(failed, st.stock_before(failed), sc_open[failed], apply=False)
    return st.records.sorted(), st.unfilled, st.reason
