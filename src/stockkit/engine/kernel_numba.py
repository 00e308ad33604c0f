"""The compiled kernel (optional ``numba`` extra): the sequential rules as a loop.

A first-come-first-served loop over lines in service order, compiled by numba, walking
each line's candidate records (see :mod:`stockkit.engine.problem`). It is the same
algorithm as the definition, so it is exact by construction, and fast because it is
compiled. numba is imported on first use; :func:`available` says whether it is installed.
"""

from __future__ import annotations

import importlib.util
import math

import numpy as np

from stockkit.engine.policy import Fill, Policy, ShipComplete
from stockkit.engine.problem import LazyNearest, Problem

__all__ = ["allocate_compiled", "available"]


def available() -> bool:
    """Whether numba is installed here (it is imported on first use, not before: importing
    numba takes longer than importing the rest of stockkit)."""
    return importlib.util.find_spec("numba") is not None


def _skip(nxt, stock, ec_rec, e):  # pragma: no cover - compiled
    """First candidate at or after ``e`` whose record still has stock (records never
    refill, so the path to it is compressed for the next line of the same group)."""
    end = ec_rec.shape[0]
    r = e
    while r < end and stock[ec_rec[r]] == 0:
        r = nxt[r]
    while e < r:
        following = nxt[e]
        nxt[e] = r
        e = following
    return r


def _take(i, e, units, stock, ec_rec, ec_rank, ec_wh, out_pos, out_rank, out_wh, out_qty, out_bo, n_out,
          undo_rec, undo_qty, n_undo):  # pragma: no cover - compiled
    """Book ``units`` of candidate ``e`` for line ``i``: one record out, stock down, and an
    undo entry (the undo arrays hold an order's every candidate); returns the new counts."""
    out_pos[n_out] = i
    out_rank[n_out] = ec_rank[e]
    out_wh[n_out] = ec_wh[e]
    out_qty[n_out] = units
    out_bo[n_out] = False
    stock[ec_rec[e]] -= units
    undo_rec[n_undo] = ec_rec[e]
    undo_qty[n_undo] = units
    return n_out + 1, n_undo + 1


def _gather(i, sku, cls, sku_ptr, sku_rec, sku_wh, link_rank, lx, ly, lz, wx, wy, wz, stock,
            ec_rec, ec_wh, keys, ties, start):  # pragma: no cover - compiled
    """Write line ``i``'s candidates (its SKU's records still holding stock on its channel)
    at ``start`` of the candidate arrays, unsorted, with their closeness (the dot product
    of unit vectors, larger is nearer) in ``keys``; returns how many."""
    k = 0
    for j in range(sku_ptr[sku], sku_ptr[sku + 1]):
        w = sku_wh[j]
        tie = link_rank[cls, w]
        if tie < 0 or stock[sku_rec[j]] <= 0:
            continue
        keys[k] = lx[i] * wx[w] + ly[i] * wy[w] + lz[i] * wz[w]
        ties[k] = tie
        ec_rec[start + k] = sku_rec[j]
        ec_wh[start + k] = w
        k += 1
    return k


def _nearer(i, a, b, keys, ties, ec_wh, start, lp1, lc1, ll1, wp2, wc2, wl2):  # pragma: no cover - compiled
    """Whether candidate ``a`` comes before ``b`` on line ``i``'s route: nearer, or as near
    and of lower link priority. Near ties of the dot product are decided by the haversine
    term, as the array kernels do."""
    if abs(keys[a] - keys[b]) > 1e-12:
        return keys[a] > keys[b]
    wa, wb = ec_wh[start + a], ec_wh[start + b]
    ta = min(math.sin((wp2[wa] - lp1[i]) / 2) ** 2 + lc1[i] * wc2[wa] * math.sin((wl2[wa] - ll1[i]) / 2) ** 2, 1.0)
    tb = min(math.sin((wp2[wb] - lp1[i]) / 2) ** 2 + lc1[i] * wc2[wb] * math.sin((wl2[wb] - ll1[i]) / 2) ** 2, 1.0)
    if ta != tb:
        return ta < tb
    return ties[a] < ties[b]



_FILLED, _BACKORDERED, _SHORT, _NO_WAREHOUSE, _NO_SINGLE, _INCOMPLETE = 0, 1, 2, 3, 4, 5


def _loop(qty, sku, sku_bo, order_start, first_wh, ec_start, ec_end, ec_rec, ec_rank, ec_wh, stock0, group_total,
          split, fill, sc, undo_size, located, line_cls, sku_ptr, sku_rec, sku_wh, link_rank, lp1, lc1, ll1, wp2, wc2,
          wl2, lx, ly, lz, wx, wy, wz, scratch, out_pos, out_rank, out_wh, out_qty, out_bo):  # pragma: no cover - compiled
    n = qty.shape[0]
    stock = stock0.copy()
    unfilled = np.zeros(n, np.int64)
    reason = np.zeros(n, np.uint8)
    keys = np.zeros(ec_rec.shape[0] - scratch + 1)
    ties = np.zeros(ec_rec.shape[0] - scratch + 1, np.int64)
    undo_rec = np.zeros(undo_size, np.int64)
    undo_qty = np.zeros(undo_size, np.int64)
    n_out = 0
    n_orders = order_start.shape[0]
    # exhausted candidates are skipped with compressed pointers (not with Fill.ORDER,
    # where a refused order gives its stock back)
    nxt = np.arange(1, ec_rec.shape[0] + 2)
    cap = out_pos.shape[0]
    for o in range(n_orders):
        lo = order_start[o]
        hi = order_start[o + 1] if o + 1 < n_orders else n
        first_out = n_out
        if sc != 0:
            done = False
            if first_wh[lo] < 0:
                for i in range(lo, hi):
                    unfilled[i] = qty[i]
                    reason[i] = _NO_WAREHOUSE
                continue
            for e in range(ec_start[lo], ec_end[lo]):
                w = ec_wh[e]
                whole = True
                for i in range(lo, hi):
                    found = False
                    for f in range(ec_start[i], ec_end[i]):
                        if ec_wh[f] == w:
                            found = stock[ec_rec[f]] >= group_total[i]
                            break
                    if not found:
                        whole = False
                        break
                if whole:
                    for i in range(lo, hi):
                        for f in range(ec_start[i], ec_end[i]):
                            if ec_wh[f] == w:
                                if n_out >= cap:
                                    return stock, unfilled, reason, -1
                                n_out, n_undo = _take(
                                    i, f, qty[i], stock, ec_rec, ec_rank, ec_wh, out_pos, out_rank, out_wh,
                                    out_qty, out_bo, n_out, undo_rec, undo_qty, 0)
                                break
                    done = True
                    break
            if done:
                continue
            if sc == 2:
                for i in range(lo, hi):
                    unfilled[i] = qty[i]
                    reason[i] = _INCOMPLETE
                continue
        n_undo = 0
        failed = False
        for i in range(lo, hi):
            q = qty[i]
            if first_wh[i] < 0:
                unfilled[i] = q
                reason[i] = _NO_WAREHOUSE
                failed = True
                continue
            bo_ok = sku_bo[i]
            start_out = n_out
            need = q
            took_first = False
            lazy = located[i]
            ci = ec_start[i]
            cj = ec_end[i]
            if lazy:
                # nearest-first line: its candidates are ranked here, one pick at a time
                k = _gather(i, sku[i], line_cls[i], sku_ptr, sku_rec, sku_wh, link_rank, lx, ly, lz, wx, wy, wz,
                            stock, ec_rec, ec_wh, keys, ties, scratch)
                if split and fill != 0 and not bo_ok:
                    total = 0
                    for e in range(scratch, scratch + k):
                        total += stock[ec_rec[e]]
                    if total < q:
                        unfilled[i] = q
                        reason[i] = _SHORT
                        failed = True
                        continue
                picks = 0
                while need:
                    best = -1
                    for c in range(k):
                        have = stock[ec_rec[scratch + c]]
                        if not (have >= need if not split else have > 0):
                            continue
                        # dot products decide unless they nearly tie, then the haversine term
                        near_tie = best >= 0 and abs(keys[c] - keys[best]) <= 1e-12
                        if best < 0 or (keys[c] > keys[best] and not near_tie) or (
                                near_tie and _nearer(i, c, best, keys, ties, ec_wh, scratch, lp1, lc1, ll1, wp2,
                                                     wc2, wl2)):
                            best = c
                    if best < 0:
                        break
                    e = scratch + best
                    first = bo_ok and ec_wh[e] == first_wh[i]
                    ec_rank[e] = 0 if first else picks + 1
                    took_first = took_first or first
                    give = min(need, stock[ec_rec[e]])
                    if n_out >= cap:
                        return stock, unfilled, reason, -1
                    n_out, n_undo = _take(i, e, give, stock, ec_rec, ec_rank, ec_wh, out_pos, out_rank, out_wh,
                                          out_qty, out_bo, n_out, undo_rec, undo_qty, n_undo)
                    need -= give
                    picks += 1
                if need and bo_ok and not split:
                    for c in range(k):
                        e = scratch + c
                        if ec_wh[e] == first_wh[i] and stock[ec_rec[e]] > 0:
                            give = stock[ec_rec[e]]
                            ec_rank[e] = 0
                            if n_out >= cap:
                                return stock, unfilled, reason, -1
                            n_out, n_undo = _take(i, e, give, stock, ec_rec, ec_rank, ec_wh, out_pos, out_rank,
                                                  out_wh, out_qty, out_bo, n_out, undo_rec, undo_qty, n_undo)
                            took_first = True
                            need -= give
            elif split:
                e0 = ci if fill == 2 else _skip(nxt, stock, ec_rec, ci)
                if fill != 0 and not bo_ok:
                    total = 0
                    for e in range(e0, cj):
                        total += stock[ec_rec[e]]
                        if total >= q:
                            break
                    if total < q:
                        unfilled[i] = q
                        reason[i] = _SHORT
                        failed = True
                        continue
                e = e0
                while e < cj:
                    have = stock[ec_rec[e]]
                    if have <= 0:
                        e = e + 1 if fill == 2 else _skip(nxt, stock, ec_rec, e)
                        continue
                    give = min(need, have)
                    if n_out >= cap:
                        return stock, unfilled, reason, -1
                    n_out, n_undo = _take(
                        i, e, give, stock, ec_rec, ec_rank, ec_wh, out_pos, out_rank, out_wh, out_qty, out_bo,
                        n_out, undo_rec, undo_qty, n_undo)
                    if ec_rank[e] == 0:
                        took_first = True
                    need -= give
                    if need == 0:
                        break
                    e += 1
            else:
                for e in range(ci, cj):
                    if stock[ec_rec[e]] >= q:
                        if n_out >= cap:
                            return stock, unfilled, reason, -1
                        n_out, n_undo = _take(
                            i, e, q, stock, ec_rec, ec_rank, ec_wh, out_pos, out_rank, out_wh, out_qty, out_bo,
                            n_out, undo_rec, undo_qty, n_undo)
                        need = 0
                        break
                if need and bo_ok:
                    e = ci
                    if e < cj and ec_rank[e] == 0 and stock[ec_rec[e]] > 0:
                        give = stock[ec_rec[e]]
                        if n_out >= cap:
                            return stock, unfilled, reason, -1
                        n_out, n_undo = _take(
                            i, e, give, stock, ec_rec, ec_rank, ec_wh, out_pos, out_rank, out_wh, out_qty, out_bo,
                            n_out, undo_rec, undo_qty, n_undo)
                        took_first = True
                        need -= give
            if need and bo_ok:
                if n_out >= cap:
                    return stock, unfilled, reason, -1
                # the back order sits at rank 0: after a stock record there, before the rest
                at = start_out + 1 if took_first else start_out
                for k in range(n_out, at, -1):
                    out_pos[k] = out_pos[k - 1]
                    out_rank[k] = out_rank[k - 1]
                    out_wh[k] = out_wh[k - 1]
                    out_qty[k] = out_qty[k - 1]
                    out_bo[k] = out_bo[k - 1]
                out_pos[at] = i
                out_rank[at] = 0
                out_wh[at] = first_wh[i]
                out_qty[at] = need
                out_bo[at] = True
                n_out += 1
                reason[i] = _BACKORDERED
            elif need:
                if not split:
                    unfilled[i] = q
                    reason[i] = _NO_SINGLE
                    failed = True
                elif fill == 0:
                    unfilled[i] = need
                    reason[i] = _SHORT
                else:
                    unfilled[i] = q
                    reason[i] = _SHORT
                    failed = True
            else:
                reason[i] = _FILLED
        if fill == 2 and failed:
            for k in range(n_undo):
                stock[undo_rec[k]] += undo_qty[k]
            n_out = first_out
            for i in range(lo, hi):
                if unfilled[i] == 0:
                    reason[i] = _INCOMPLETE
                unfilled[i] = qty[i]
    return stock, unfilled, reason, n_out


_compiled = None


def _unit_vectors(lat: np.ndarray, cos_lat: np.ndarray, lon: np.ndarray) -> tuple[np.ndarray, ...]:
    return cos_lat * np.cos(lon), cos_lat * np.sin(lon), np.sin(lat)


def allocate_compiled(pb: Problem, policy: Policy, group_total: np.ndarray):
    """Run the compiled loop; returns (records sorted, unfilled, reason) in positions, like
    :func:`~stockkit.engine.kernel_rounds.allocate_rounds`."""
    global _compiled, _skip, _take, _gather, _nearer
    if _compiled is None:
        import numba

        jit = numba.njit(cache=True, nogil=True)
        # the helpers first: the loop picks up whatever these names hold when it compiles
        _skip, _take, _gather, _nearer = jit(_skip), jit(_take), jit(_gather), jit(_nearer)
        _compiled = jit(_loop)
    n = pb.qty.shape[0]
    cap = n + n // 8 + 64  # most lines give one record; a retry doubles it
    fill = {Fill.PARTIAL: 0, Fill.LINE: 1, Fill.ORDER: 2}[policy.fill]
    sc = {ShipComplete.OFF: 0, ShipComplete.PREFER: 1, ShipComplete.REQUIRE: 2}[policy.ship_complete]
    per_order = np.add.reduceat(pb.ec_end - pb.ec_start, pb.order_start) if n else np.zeros(1, np.int64)
    undo_size = int(per_order.max()) + 1
    lazy = pb.lazy
    scratch = pb.ec_rec.shape[0]
    if lazy is None:
        lazy = LazyNearest(np.zeros(n, bool), np.zeros(n, np.int64), np.zeros(1, np.int64), *(np.zeros(0, np.int64),) * 2,
                           np.zeros((1, 1), np.int64), *(np.zeros(0),) * 6)
        room = 1
    else:
        room = int(np.diff(lazy.sku_ptr).max()) + 1
        undo_size = max(undo_size, room * int(np.diff(np.append(pb.order_start, n)).max()) + 1)
    # room after the shared candidates where each nearest-first line ranks its own
    ec_rec = np.concatenate([pb.ec_rec, np.zeros(room, np.int64)])
    ec_rank = np.concatenate([pb.ec_rank, np.zeros(room, np.int64)])
    ec_wh = np.concatenate([pb.ec_wh, np.zeros(room, np.int64)])
    while True:
        out = [np.empty(cap, np.int64) for _ in range(4)] + [np.empty(cap, np.bool_)]
        _, unfilled, reason, count = _compiled(
            pb.qty, pb.sku, pb.backorder, pb.order_start, pb.first_wh, pb.ec_start, pb.ec_end, ec_rec, ec_rank,
            ec_wh, pb.stock, group_total, policy.split, fill, sc, undo_size, lazy.located, lazy.line_cls,
            lazy.sku_ptr, lazy.sku_rec, lazy.sku_wh, lazy.link_rank, lazy.lat, lazy.cos_lat, lazy.lon, lazy.wh_lat,
            lazy.wh_cos_lat, lazy.wh_lon, *_unit_vectors(lazy.lat, lazy.cos_lat, lazy.lon),
            *_unit_vectors(lazy.wh_lat, lazy.wh_cos_lat, lazy.wh_lon), scratch, *out)
        if count >= 0:
            return tuple(a[:count] for a in out), unfilled, reason
        cap *= 2
