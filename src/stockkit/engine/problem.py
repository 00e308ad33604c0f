"""The engine's working form of a problem: lines in service order and, per line, the
stock records it may draw on, in its policy order.

Built once from validated :class:`~stockkit.engine.inputs.Inputs` for the rounds kernel.
Lines are renumbered by service position (priority, order, input position), so "earlier"
is simply "smaller position". Only records that hold stock at the start can ever give
anything (stock only goes down), so a line's *candidates* are the records of its SKU with
stock at warehouses of its route, in route order: a flat array with ``[ec_start, ec_end)``
per line. Lines on a priority route share the candidates of their (SKU, route) group;
nearest-first lines get their own, sorted by distance.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from stockkit.engine.inputs import Inputs
from stockkit.engine.kernel_intervals import RouteClasses, route_classes, service_keys
from stockkit.engine.policy import RouteOrder

__all__ = ["EARTH_RADIUS_KM", "LazyNearest", "Problem", "build_problem", "haversine_km"]

EARTH_RADIUS_KM = 6371.0088


def haversine_km(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray) -> np.ndarray:
    """Great-circle distance in kilometres, elementwise, between points given in degrees."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp = p2 - p1
    dl = np.radians(lon2) - np.radians(lon1)
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.minimum(a, 1.0)))


class Problem(NamedTuple):
    """Lines in service order and the records they draw on (see the module docstring).

    ``ec_rank`` orders a line's records as its route does and is 0 exactly for the line's
    first warehouse (``first_wh``), where back orders are booked. ``stock`` has one extra,
    always empty record at the end.
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


def expand(starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(owner, index) of every element of the ragged ranges ``[starts[i], ends[i])``."""
    lengths = ends - starts
    total = int(lengths.sum())
    owner = np.repeat(np.arange(starts.shape[0]), lengths)
    index = np.arange(total) + np.repeat(starts - (np.cumsum(lengths) - lengths), lengths)
    return owner, index


def _group_candidates(inp: Inputs, rc: RouteClasses, rec_sku, rec_wh) -> tuple[np.ndarray, ...]:
    """Records with stock per (SKU, route class) group, in route order, with group offsets."""
    n_cls = rc.route_wh.shape[0]
    ranks = rc.wh_rank[:, rec_wh]
    ent_cls, ent_rec = np.nonzero(ranks >= 0)
    ent_rank = ranks[ent_cls, ent_rec]
    group = rec_sku[ent_rec] * n_cls + ent_cls
    depth = rc.route_wh.shape[1]
    n_ent = ent_rec.size
    by = np.sort((group * depth + ent_rank) * (n_ent + 1) + np.arange(n_ent)) % (n_ent + 1)
    counts = np.bincount(group, minlength=inp.n_skus * n_cls)
    offsets = np.concatenate(([0], np.cumsum(counts)))
    return ent_rec[by], ent_rank[by], offsets


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
    if bits_o + 30 + bits_w > 62:
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


def build_problem(inp: Inputs, lazy_nearest: bool = False) -> Problem:
    """Sort lines into service order and find each line's candidate records
    (``lazy_nearest``: leave nearest-first lines' candidates to the kernel, see
    :class:`LazyNearest`)."""
    n = inp.line_order.shape[0]
    keys = service_keys(inp)
    if keys is None:
        seq = np.lexsort((np.arange(n), inp.line_order, inp.line_priority))
    else:
        seq = np.sort(keys) & ((1 << max(int(n - 1).bit_length(), 1)) - 1)
    order_raw = inp.line_order[seq]
    new_order = np.ones(n, dtype=bool)
    new_order[1:] = order_raw[1:] != order_raw[:-1]
    order = np.cumsum(new_order) - 1
    order_start = np.flatnonzero(new_order)

    positive = inp.stock_available > 0
    rec_sku, rec_wh = inp.stock_sku[positive], inp.stock_warehouse[positive]
    stock = np.append(inp.stock_available[positive], 0)
    rc = route_classes(inp)
    g_rec, g_rank, g_offsets = _group_candidates(inp, rc, rec_sku, rec_wh)
    n_cls = rc.route_wh.shape[0]
    sku = inp.line_sku[seq]
    cls = rc.channel_class[inp.line_channel[seq]]
    group = sku * n_cls + cls
    ec_start, ec_end = g_offsets[group], g_offsets[group + 1]
    ec_rec, ec_rank = g_rec, g_rank
    first_wh = rc.route_wh[cls, 0]

    nearest = inp.policy.route is RouteOrder.NEAREST
    lat, lon = (inp.line_lat[seq], inp.line_lon[seq]) if nearest else (inp.line_lat, inp.line_lon)
    located = np.flatnonzero(~np.isnan(lat)) if nearest else np.zeros(0, np.int64)
    lazy = None
    if located.size:
        by_sku = np.argsort(rec_sku, kind="stable")
        sku_offsets = np.searchsorted(rec_sku[by_sku], np.arange(inp.n_skus + 1))
        first_wh = _nearest_first(inp, rc, sku, cls, lat, lon, located, first_wh)
    if located.size and lazy_nearest:
        flags = np.zeros(n, bool)
        flags[located] = True
        ec_start, ec_end = ec_start.copy(), ec_end.copy()
        ec_start[located] = ec_end[located] = 0
        p1, p2 = np.radians(lat), np.radians(inp.warehouse_lat)
        lazy = LazyNearest(flags, cls, sku_offsets, by_sku, rec_wh[by_sku], rc.wh_rank, p1, np.cos(p1),
                           np.radians(lon), p2, np.cos(p2), np.radians(inp.warehouse_lon))
    elif located.size:
        # nearest-first lines: their SKU's records on their route, by (distance, priority, warehouse)
        owner, idx = expand(sku_offsets[sku[located]], sku_offsets[sku[located] + 1])
        rec = by_sku[idx]
        wh = rec_wh[by_sku][idx]            # gathers from the small table of records
        n_wh = rc.wh_rank.shape[1]
        # rank on the line's route (ties of distance go by it), -1 when not linked
        tie = rc.wh_rank.ravel()[(cls[located] * n_wh)[owner] + wh]
        linked = tie >= 0
        if not linked.all():
            owner, rec, wh, tie = owner[linked], rec[linked], wh[linked], tie[linked]
        # the haversine term a = sin²(dφ/2) + cos φ1 cos φ2 sin²(dλ/2) orders points exactly
        # as the distance 2R·asin(√a) does, at a fraction of the cost
        p1, l1 = np.radians(lat[located]), np.radians(lon[located])
        p2, l2 = np.radians(inp.warehouse_lat), np.radians(inp.warehouse_lon)
        c1, c2 = np.cos(p1), np.cos(p2)
        term = np.sin((p2[wh] - p1[owner]) / 2) ** 2 + c1[owner] * c2[wh] * np.sin((l2[wh] - l1[owner]) / 2) ** 2
        by = _by_owner_then_distance(owner, np.minimum(term, 1.0), tie)
        owner, rec, wh = owner[by], rec[by], wh[by]
        counts = np.bincount(owner, minlength=located.size)
        own_start = g_rec.size + np.cumsum(counts) - counts
        position = np.arange(owner.size) - np.repeat(np.cumsum(counts) - counts, counts)
        rank = np.where((wh == first_wh[located][owner]) & inp.sku_backorder[sku[located]][owner], 0, position + 1)
        ec_rec = np.concatenate([g_rec, rec])
        ec_rank = np.concatenate([g_rank, rank])
        ec_start, ec_end = ec_start.copy(), ec_end.copy()
        ec_start[located] = own_start
        ec_end[located] = own_start + counts
    return Problem(
        seq=seq, sku=sku, qty=inp.line_quantity[seq], backorder=inp.sku_backorder[sku],
        order=order, order_start=order_start, first_wh=first_wh,
        ec_start=ec_start, ec_end=ec_end, ec_rec=ec_rec, ec_rank=ec_rank, ec_wh=np.append(rec_wh, -1)[ec_rec],
        stock=stock, lazy=lazy,
    )


def _nearest_first(inp: Inputs, rc: RouteClasses, sku, cls, lat, lon, located, first_wh) -> np.ndarray:
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
