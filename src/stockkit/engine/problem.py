"""The engine's working form of a problem: lines in service order and, per line, the
stock records it may draw on, in its policy order.

Built once from validated :class:`~stockkit.engine.inputs.Inputs` for the rounds kernel.
Lines are renumbered by service position (priority, order, input position), so "earlier"
is simply "smaller position". Only records that hold stock at the start can ever give
anything (stock only goes down), so a line's *candidates* are the records of its SKU with
stock at warehouses of its route, in route order: a flat array with ``[ec_start, ec_end)``
per line. Lines on a priority route share the candidates of their (SKU, route) group;
nearest-first lines get their own, sorted by distance. Most of those lines settle at their
nearest candidate, so by default only that one is laid out at first and the rest of a
line's list when a kernel asks for it (see :class:`PendingNearest`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from stockkit.engine.inputs import Inputs
from stockkit.engine.kernel_intervals import RouteClasses, group_candidates, route_classes, service_order
from stockkit.engine.policy import RouteOrder, ShipComplete
from stockkit.engine.ragged import expand, run_starts

__all__ = ["EARTH_RADIUS_KM", "LazyNearest", "PendingNearest", "Problem", "build_problem", "haversine_km",
           "haversine_radians_km", "nearest_first", "nearest_lists", "nearest_usable"]

EARTH_RADIUS_KM = 6371.0088


def haversine_km(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray) -> np.ndarray:
    """Great-circle distance in kilometres, elementwise, between points given in degrees."""
    p2 = np.radians(lat2)
    return haversine_radians_km(np.radians(lat1), np.radians(lon1), p2, np.cos(p2), np.radians(lon2))


def haversine_radians_km(p1: np.ndarray, l1: np.ndarray, p2: np.ndarray, cos_p2: np.ndarray,
                         l2: np.ndarray) -> np.ndarray:
    """:func:`haversine_km` (the same floats) from latitudes and longitudes in radians and
    the cosines of the second latitudes, for when those are kept between calls."""
    a = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * cos_p2 * np.sin((l2 - l1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.minimum(a, 1.0)))


class Problem(NamedTuple):
    """Lines in service order and the records they draw on (see the module docstring).

    ``ec_rank`` orders a line's records as its route does and is 0 exactly for the line's
    first warehouse (``first_wh``), where back orders are booked. ``stock`` has one extra,
    always empty record at the end. With ``pending``, some nearest-first lines list only
    their first candidate so far (see :class:`PendingNearest`).
    """

    seq: np.ndarray            # position -> input line
    sku: np.ndarray
    qty: np.ndarray
    backorder: np.ndarray      # bool per position
    order: np.ndarray          # dense order number per position, increasing
    order_start: np.ndarray    # per order: first position
    first_wh: np.ndarray       # per position: warehouse of rank 0, -1 without warehouses
    ec_start: np.ndarray
    ec_end: np.ndarray
    ec_rec: np.ndarray
    ec_rank: np.ndarray
    ec_wh: np.ndarray
    stock: np.ndarray
    lazy: LazyNearest | None = None
    pending: PendingNearest | None = None


class PendingNearest(NamedTuple):
    """Nearest-first lines laid out up to their first candidate only.

    A ``partial`` line's range ``[ec_start, ec_end)`` holds its nearest candidate alone;
    its whole candidate *set* is the (SKU, route) group ``[set_start, set_end)`` of the
    candidate arrays (whose ``ec_rank`` there is the rank on the route, which breaks ties
    of distance). :func:`nearest_usable` finds a line's nearest candidate among those a
    kernel can still use, :func:`nearest_lists` ranks a line's whole list.
    """

    partial: np.ndarray        # bool per position
    set_start: np.ndarray      # per position
    set_end: np.ndarray
    lat: np.ndarray            # radians per position
    cos_lat: np.ndarray
    lon: np.ndarray
    wh_lat: np.ndarray         # radians per warehouse
    wh_cos_lat: np.ndarray
    wh_lon: np.ndarray
    points: np.ndarray         # unit vectors (rows) per position and per warehouse: their
    wh_points: np.ndarray      # dot product orders warehouses by distance
    entry_wh: np.ndarray       # warehouse per entry of the sets


class LazyNearest(NamedTuple):
    """What a kernel needs to rank a nearest-first line's candidates itself, line by line,
    instead of reading them materialised (``located`` lines have empty ranges then)."""

    located: np.ndarray        # bool per position
    line_cls: np.ndarray       # route class per position
    sku_ptr: np.ndarray        # records with stock by SKU: offsets ...
    sku_rec: np.ndarray        # ... record index (into stock)
    sku_wh: np.ndarray         # ... and warehouse
    link_rank: np.ndarray      # (classes, warehouses): rank on the route, -1 when not linked
    lat: np.ndarray            # radians per position (NaN without ship-to)
    cos_lat: np.ndarray
    lon: np.ndarray
    wh_lat: np.ndarray         # radians per warehouse
    wh_cos_lat: np.ndarray
    wh_lon: np.ndarray


#: up to this many entries one ``lexsort`` costs less than the packed sort and its checks
_SMALL_SORT = 1 << 9


def _by_owner_then_distance(owner: np.ndarray, dist: np.ndarray, tie: np.ndarray) -> np.ndarray:
    """Stable order of entries by (owner, dist, tie); ``owner`` is non-decreasing.

    One packed ``np.sort`` on (owner, distance rounded to 30 bits, position within the
    owner) does almost all of it; owners where the rounding hid an exact difference (two
    candidates within metres of each other) are sorted again exactly with ``lexsort``.
    """
    size = owner.size
    if size == 0:
        return np.zeros(0, np.int64)
    counts = np.bincount(owner)
    first = np.cumsum(counts) - counts
    within = np.arange(size) - first[owner]
    bits_w = max(int(within.max()).bit_length(), 1)
    bits_o = max(int(owner.max()).bit_length(), 1)
    if bits_o + 30 + bits_w > 62 or size <= _SMALL_SORT:
        return np.lexsort((tie, dist, owner))
    top = float(dist.max()) or 1.0
    coarse = np.minimum((dist * ((1 << 30) - 1) / top).astype(np.int64), (1 << 30) - 1)
    packed = np.sort((owner << (30 + bits_w)) | (coarse << bits_w) | within)
    by = first[packed >> (30 + bits_w)] + (packed & ((1 << bits_w) - 1))
    d, t, o = dist[by], tie[by], owner[by]
    wrong = (o[1:] == o[:-1]) & ((d[1:] < d[:-1]) | ((d[1:] == d[:-1]) & (t[1:] < t[:-1])))
    if wrong.any():
        redo = np.isin(owner, o[1:][wrong])
        exact = np.flatnonzero(redo)[np.lexsort((tie[redo], dist[redo], owner[redo]))]
        by[np.isin(o, o[1:][wrong])] = exact
    return by


def build_problem(inp: Inputs, lazy_nearest: bool = False, eager: bool | None = None) -> Problem:
    """Sort lines into service order and find each line's candidate records.

    ``lazy_nearest``: leave nearest-first lines' candidates to the kernel (see
    :class:`LazyNearest`). Otherwise nearest-first lines get their own sorted lists:
    whole when ``eager``, else only their first candidate until a kernel asks for the
    rest (see :class:`PendingNearest`); ``eager`` defaults to whether orders may ship
    complete (those look at whole lists at once). Only the rounds kernel completes
    pending lists: another kernel given ``lazy_nearest=False`` must ask for ``eager``.
    """
    n = inp.line_order.shape[0]
    seq = service_order(inp)
    order_raw = inp.line_order[seq]
    new_order = np.ones(n, dtype=bool)
    new_order[1:] = order_raw[1:] != order_raw[:-1]
    order = np.cumsum(new_order) - 1
    order_start = np.flatnonzero(new_order)

    positive = inp.stock_available > 0
    rec_sku, rec_wh = inp.stock_sku[positive], inp.stock_warehouse[positive]
    stock = np.append(inp.stock_available[positive], 0)
    rc = route_classes(inp)
    n_cls = rc.route_wh.shape[0]
    sku = inp.line_sku[seq]
    backorder = inp.sku_backorder[sku]
    cls = rc.channel_class[inp.line_channel[seq]]
    first_wh = rc.route_wh[cls, 0]
    nearest = inp.policy.route is RouteOrder.NEAREST
    lat, lon = (inp.line_lat[seq], inp.line_lon[seq]) if nearest else (inp.line_lat, inp.line_lon)
    located = np.flatnonzero(~np.isnan(lat)) if nearest else np.zeros(0, np.int64)
    if lazy_nearest and located.size == n:
        # every line ranks its candidates in the kernel: no (SKU, route) lists to lay out
        g_rec = g_rank = g_wh = np.zeros(0, np.int64)
        ec_start, ec_end = np.zeros(n, np.int64), np.zeros(n, np.int64)
    else:
        g_rec, g_rank, g_offsets = group_candidates(inp, rc, rec_sku, rec_wh)
        g_wh = rec_wh[g_rec]
        group = sku * n_cls + cls
        ec_start, ec_end = g_offsets[group], g_offsets[group + 1]
    ec_rec, ec_rank, ec_wh = g_rec, g_rank, g_wh
    lazy = pending = None
    if located.size:
        first_wh = nearest_first(inp, rc, sku, cls, lat, lon, located, first_wh)
        p1, p2 = np.radians(lat), np.radians(inp.warehouse_lat)
        l1, l2 = np.radians(lon), np.radians(inp.warehouse_lon)
    if located.size and lazy_nearest:
        by_sku = np.argsort(rec_sku, kind="stable")
        sku_offsets = np.searchsorted(rec_sku[by_sku], np.arange(inp.n_skus + 1))
        flags = np.zeros(n, bool)
        flags[located] = True
        ec_start, ec_end = ec_start.copy(), ec_end.copy()
        ec_start[located] = ec_end[located] = 0
        lazy = LazyNearest(flags, cls, sku_offsets, by_sku, rec_wh[by_sku], rc.wh_rank, p1, np.cos(p1), l1,
                           p2, np.cos(p2), l2)
    elif located.size:
        # nearest-first lines: their (SKU, route) group's records, by (distance, priority, warehouse)
        if eager is None:
            eager = inp.policy.ship_complete is not ShipComplete.OFF
        points = np.full((n, 3), np.nan)
        if not eager:
            points[located] = _unit_vectors(p1[located], l1[located])
        pending = PendingNearest(np.zeros(n, bool), ec_start, ec_end, p1, np.cos(p1), l1, p2, np.cos(p2), l2,
                                 points, _unit_vectors(p2, l2), g_wh)
        if eager:
            idx, counts = _sorted_entries(pending, g_wh, g_rank, located)
        else:
            # the nearest candidate alone; near ties of the fast test are ranked exactly
            idx, tied = nearest_usable(pending, located)
            counts = (idx >= 0).astype(np.int64)
            tied = np.flatnonzero(tied)
            if tied.size:
                t_idx, t_counts = _sorted_entries(pending, g_wh, g_rank, located[tied])
                idx[tied] = t_idx[np.cumsum(t_counts) - t_counts]
            idx = idx[idx >= 0]
        rec, rank, wh = _listed(g_rec, g_wh, first_wh, backorder, located, idx, counts)
        own_start = g_rec.size + np.cumsum(counts) - counts
        ec_rec = np.concatenate([g_rec, rec])
        ec_rank = np.concatenate([g_rank, rank])
        ec_wh = np.concatenate([g_wh, wh])
        ec_start, ec_end = ec_start.copy(), ec_end.copy()
        ec_start[located] = own_start
        ec_end[located] = own_start + counts
        if eager:
            pending = None
        else:
            pending.partial[located] = pending.set_end[located] - pending.set_start[located] > 1
    return Problem(
        seq=seq, sku=sku, qty=inp.line_quantity[seq], backorder=backorder,
        order=order, order_start=order_start, first_wh=first_wh,
        ec_start=ec_start, ec_end=ec_end, ec_rec=ec_rec, ec_rank=ec_rank, ec_wh=ec_wh,
        stock=stock, lazy=lazy, pending=pending,
    )


def nearest_usable(pending: PendingNearest, lines: np.ndarray,
                   usable: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None,
                   usable_entries: Callable[[np.ndarray], np.ndarray] | None = None,
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Per line of ``lines`` (positions) the entry of its candidate set nearest to it among
    those ``usable(rows, entries)`` accepts (``rows`` index ``lines``; all when None), -1
    when there is none, and whether another usable entry is too close to call by the fast
    test (then :func:`nearest_lists` ranks the line exactly).

    ``usable_entries(entries)``, when whether an entry is usable does not depend on the
    line, says it once per entry of the lines' sets: the sets shrink to their usable
    entries before any distance is taken."""
    lo, hi = pending.set_start[lines], pending.set_end[lines]
    if usable_entries is None:
        return _nearest_entries(lo, hi, _rows(pending.points, lines), pending.wh_points, pending.entry_wh, usable)
    if (hi == lo).any():
        # an empty set starts where the next one does: only the others are told apart by it
        some = np.flatnonzero(hi > lo)
        best, tied = np.full(lines.size, -1, np.int64), np.zeros(lines.size, bool)
        best[some], tied[some] = nearest_usable(pending, lines[some], usable_entries=usable_entries)
        return best, tied
    # the distinct sets of the lines, each cut down to its usable entries
    sets, first, which = np.unique(lo, return_index=True, return_inverse=True)
    owner, entries = expand(sets, hi[first])
    ok = usable_entries(entries)
    n_wh = pending.wh_points.shape[0]
    if lines.size * n_wh <= _DENSE_FACTOR * int((hi - lo).sum()):
        return _nearest_dense(pending, lines, which, owner[ok], entries[ok], sets.size)
    kept = entries[ok]
    counts = np.bincount(owner[ok], minlength=sets.size)
    start = np.cumsum(counts) - counts
    best, tied = _nearest_entries(start[which], (start + counts)[which], _rows(pending.points, lines), pending.wh_points,
                                  pending.entry_wh[kept], None)
    found = best >= 0
    best[found] = kept[best[found]]
    return best, tied


def _nearest_dense(pending: PendingNearest, lines: np.ndarray, which: np.ndarray, owner: np.ndarray,
                   entries: np.ndarray, n_sets: int) -> tuple[np.ndarray, np.ndarray]:
    """:func:`nearest_usable` against every warehouse at once: line ``i`` may use the
    ``entries`` of set ``which[i]`` (``owner`` numbers their sets), at most one per
    warehouse. Taken in row blocks that stay in cache."""
    n_wh = pending.wh_points.shape[0]
    set_entry = np.full((n_sets, n_wh), -1, np.int64)
    set_entry[owner, pending.entry_wh[entries]] = entries
    best = np.empty(lines.size, np.int64)
    tied = np.empty(lines.size, bool)
    step = max(_CHUNK_PAIRS // n_wh, 1)
    for a in range(0, lines.size, step):
        b = min(a + step, lines.size)
        ent = _rows(set_entry, which[a:b])
        at, found, tied[a:b] = _top(np.where(ent >= 0, _rows(pending.points, lines[a:b]) @ pending.wh_points.T, -np.inf))
        best[a:b] = np.where(found, ent[np.arange(b - a), at], -1)
    return best, tied


def _rows(table: np.ndarray, index: np.ndarray) -> np.ndarray:
    """``table[index]`` for a 2-d ``table``: ``np.take`` gathers whole rows two to three
    times faster than fancy indexing does."""
    return np.take(table, index, axis=0)


def _top(dots: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row of ``dots`` (-inf: not a candidate): the column of the largest, whether
    there is one, and whether another comes within :data:`_NEAR_TIE` of it. Overwrites
    ``dots``."""
    at = np.argmax(dots, axis=1)
    r = np.arange(dots.shape[0])
    top = dots[r, at]
    found = top > -np.inf
    if dots.shape[1] == 1:
        return at, found, np.zeros(dots.shape[0], bool)
    dots[r, at] = -np.inf
    return at, found, found & (dots.max(axis=1) >= top - _NEAR_TIE)


def nearest_lists(pb: Problem, lines: np.ndarray) -> tuple[np.ndarray, ...]:
    """The whole candidate lists of the pending nearest-first ``lines`` (positions; see
    :class:`PendingNearest`): (record, rank, warehouse) of every candidate, line after line
    in their order, and how many each line has."""
    idx, counts = _sorted_entries(pb.pending, pb.ec_wh, pb.ec_rank, lines)
    return (*_listed(pb.ec_rec, pb.ec_wh, pb.first_wh, pb.backorder, lines, idx, counts), counts)


def _sorted_entries(pending: PendingNearest, ec_wh, ec_tie, lines) -> tuple[np.ndarray, np.ndarray]:
    """The entries of each line's candidate set, line after line by (distance, ``ec_tie``),
    and how many each line has."""
    owner, idx = expand(pending.set_start[lines], pending.set_end[lines])
    wh = ec_wh[idx]
    p1, c1, l1 = pending.lat[lines], pending.cos_lat[lines], pending.lon[lines]
    p2, c2, l2 = pending.wh_lat, pending.wh_cos_lat, pending.wh_lon
    # the haversine term a = sin²(dφ/2) + cos φ1 cos φ2 sin²(dλ/2) orders points exactly
    # as the distance 2R·asin(√a) does, at a fraction of the cost
    term = np.sin((p2[wh] - p1[owner]) / 2) ** 2 + c1[owner] * c2[wh] * np.sin((l2[wh] - l1[owner]) / 2) ** 2
    by = _by_owner_then_distance(owner, np.minimum(term, 1.0), ec_tie[idx])
    return idx[by], np.bincount(owner, minlength=lines.size)


def _listed(ec_rec, ec_wh, first_wh, backorder, lines, idx, counts) -> tuple[np.ndarray, ...]:
    """(record, rank, warehouse) of the entries ``idx``, ``counts`` per line of ``lines``
    in list order: the rank is the place in the list, 0 at a back-order line's first warehouse."""
    wh = ec_wh[idx]
    owner = np.repeat(np.arange(lines.size), counts)
    position = np.arange(idx.size) - np.repeat(np.cumsum(counts) - counts, counts)
    rank = np.where((wh == first_wh[lines][owner]) & backorder[lines][owner], 0, position + 1)
    return ec_rec[idx], rank, wh


def _unit_vectors(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Points (radians) as rows of unit vectors: the dot product of two is the cosine of
    the angle between them, larger for nearer points."""
    cos_lat = np.cos(lat)
    return np.stack([cos_lat * np.cos(lon), cos_lat * np.sin(lon), np.sin(lat)], axis=1)


#: dot products of unit vectors closer than this are too close to order two warehouses
#: by (their rounding error is ~1e-16); the exact term decides then, as in kernel_numba
_NEAR_TIE = 1e-12
#: lines sharing a candidate set with at least this many (line, candidate) pairs take
#: one matrix product for the set; the rest are batched by set size
_SHARED_WORK = 2048
_SHARED_LINES = 64
#: up to this many (line, padded candidate) pairs go in one batch
_ONE_BATCH = 1 << 14
#: sets cut down to their usable entries are read against every warehouse at once when
#: that is at most this many times the (line, candidate) pairs (measured on workload M)
_DENSE_FACTOR = 8
#: (line, candidate) pairs in one batch at most: the temporaries stay in cache (~512 kB each)
_CHUNK_PAIRS = 1 << 16


def _nearest_entries(lo: np.ndarray, hi: np.ndarray, points: np.ndarray, wh_points: np.ndarray, entry_wh: np.ndarray,
                     usable: Callable[[np.ndarray, np.ndarray], np.ndarray] | None) -> tuple[np.ndarray, np.ndarray]:
    """Per line the entry of ``[lo, hi)`` nearest to its point (unit vectors ``points``;
    an entry is at the warehouse ``entry_wh`` of ``wh_points``) among those ``usable``
    accepts: the index, -1 when there is none, and whether another one comes within
    :data:`_NEAR_TIE` of it (then only the exact term can tell)."""
    n = lo.size
    best = np.full(n, -1, np.int64)
    tied = np.zeros(n, bool)
    size = hi - lo

    def pick(rows: np.ndarray, cand: np.ndarray, dots: np.ndarray, inside: np.ndarray | None = None) -> None:
        if usable is not None:
            inside = usable(rows, cand) if inside is None else inside & usable(rows, cand)
        if inside is not None:
            dots = np.where(inside, dots, -np.inf)
        at, found, tied[rows] = _top(dots)
        best[rows] = np.where(found, lo[rows] + at, -1)

    lines = np.flatnonzero(size > 0)
    if lines.size == 0:
        return best, tied
    width = 1 << int(np.ceil(np.log2(size.max())))
    if lines.size * width <= _ONE_BATCH:
        # few lines (as in a round of the rounds kernel): one padded batch costs least
        _padded(lines, width, lo, size, points, wh_points, entry_wh, pick)
        return best, tied
    # lines by candidate set (its start), then runs of lines sharing one
    bits = max(int(lines.size - 1).bit_length(), 1)
    lines = lines[np.sort((lo[lines] << bits) | np.arange(lines.size)) & ((1 << bits) - 1)]
    s_lo = lo[lines]
    starts = run_starts(s_lo)
    ends = np.append(starts[1:], lines.size)
    shared = (ends - starts >= _SHARED_LINES) & ((ends - starts) * size[lines[starts]] >= _SHARED_WORK)
    rest = np.ones(lines.size, bool)
    for a, b in zip(starts[shared].tolist(), ends[shared].tolist()):
        rest[a:b] = False
        cand = np.arange(lo[lines[a]], hi[lines[a]])
        chunk = max(_CHUNK_PAIRS // cand.size, 1)
        for c in range(a, b, chunk):
            rows = lines[c:min(b, c + chunk)]
            pick(rows, cand[None, :], _rows(points, rows) @ wh_points[entry_wh[cand]].T)
    # the rest by set size rounded up to a power of two: few batches, at most twice the work
    lines = np.sort(lines[rest])        # in position order again: the gathers below run ahead
    bucket = np.ceil(np.log2(size[lines])).astype(np.int64)
    for b in np.unique(bucket).tolist():
        same = lines[bucket == b]
        chunk = max(_CHUNK_PAIRS >> b, 1)
        for c in range(0, same.size, chunk):
            _padded(same[c:c + chunk], 1 << b, lo, size, points, wh_points, entry_wh, pick)
    return best, tied


def _padded(rows: np.ndarray, width: int, lo: np.ndarray, size: np.ndarray, points: np.ndarray, wh_points: np.ndarray,
            entry_wh: np.ndarray, pick: Callable[..., None]) -> None:
    """``pick`` on the dot products of ``rows`` with the ``width`` entries from their
    ``lo``: the entries past a set's end only pad (masked), and the last entry stands in
    for those past the table's end."""
    step = np.arange(width)
    cand = np.minimum(lo[rows][:, None] + step, entry_wh.shape[0] - 1)
    inside = step < size[rows][:, None]
    wh = entry_wh[cand]
    # coordinate by coordinate: gathers from a small table and elementwise products cost
    # less than a stack of tiny matrix products
    p = _rows(points, rows)
    x, y, z = wh_points.T
    dots = x[wh] * p[:, 0:1]
    dots += y[wh] * p[:, 1:2]
    dots += z[wh] * p[:, 2:3]
    pick(rows, cand, dots, inside)


def nearest_first(inp: Inputs, rc: RouteClasses, sku, cls, lat, lon, located, first_wh) -> np.ndarray:
    """``first_wh`` with the nearest warehouse of the whole route for located lines that
    may book back orders (the only lines for which the first warehouse matters)."""
    first_wh = first_wh.copy()
    needs = np.flatnonzero(inp.sku_backorder[sku[located]])
    for block in range(0, needs.size, 1 << 16):
        some = located[needs[block:block + (1 << 16)]]
        route = rc.route_wh[cls[some]]
        ok = route >= 0
        safe = np.where(ok, route, 0)
        d_all = haversine_km(lat[some][:, None], lon[some][:, None], inp.warehouse_lat[safe], inp.warehouse_lon[safe])
        d_all[~ok] = np.inf
        # ties by route column, which is (priority, warehouse) order
        first_wh[some] = np.where(ok[:, 0], route[np.arange(some.size), np.argmin(d_all, axis=1)], -1)
    return first_wh
