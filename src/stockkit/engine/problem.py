"""The engine's working form of a problem: lines in service order, routes, stock records.

Built once from validated :class:`~stockkit.engine.inputs.Inputs`; every kernel reads it.
Lines are renumbered by service position (priority, order, input position), so "earlier"
is simply "smaller position" everywhere in the kernels.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from stockkit.engine.inputs import Inputs
from stockkit.engine.policy import RouteOrder

__all__ = ["EARTH_RADIUS_KM", "Problem", "build_problem", "haversine_km"]

EARTH_RADIUS_KM = 6371.0088


def haversine_km(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray) -> np.ndarray:
    """Great-circle distance in kilometres, elementwise, between points given in degrees."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp = p2 - p1
    dl = np.radians(lon2) - np.radians(lon1)
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.minimum(a, 1.0)))


class Problem(NamedTuple):
    """Lines in service order and what they draw on.

    ``route_wh[line_route[p], j]`` is the warehouse of rank ``j`` for the line at position
    ``p`` (``-1`` past ``route_len``). Stock records are sorted by ``sku * n_warehouses +
    warehouse`` in ``rec_key``; ``stock`` has one extra record at the end, the empty record
    every missing (sku, warehouse) pair maps to.
    """

    seq: np.ndarray            # position -> input line
    sku: np.ndarray
    qty: np.ndarray
    backorder: np.ndarray      # bool per position
    order: np.ndarray          # dense order number per position, increasing
    order_start: np.ndarray    # per order: first position
    order_len: np.ndarray      # per order: number of lines
    line_route: np.ndarray
    route_wh: np.ndarray       # (n_routes, D) int64, -1 padded
    route_len: np.ndarray
    route_slot: np.ndarray     # (n_routes, D): column of each rank's warehouse in its channel's route
    rec_key: np.ndarray
    stock: np.ndarray          # (m + 1,) int64 >= 0
    n_warehouses: int


def _routes(inp: Inputs) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(line_route, route_wh, route_len, route_slot) in input line order."""
    n_ch = inp.n_channels
    by_link = np.lexsort((inp.link_warehouse, inp.link_priority, inp.link_channel))
    l_ch = inp.link_channel[by_link]
    l_wh = inp.link_warehouse[by_link]
    l_prio = inp.link_priority[by_link]
    ch_len = np.bincount(l_ch, minlength=n_ch).astype(np.int64)
    ch_start = np.concatenate(([0], np.cumsum(ch_len)[:-1])) if n_ch else np.zeros(0, np.int64)
    # at least one column, so a line without warehouses still has a (-1) rank 0
    depth = max(int(ch_len.max()) if n_ch else 0, 1)
    rank = np.arange(l_ch.shape[0]) - ch_start[l_ch]
    ch_wh = np.full((n_ch, depth), -1, dtype=np.int64)
    ch_wh[l_ch, rank] = l_wh
    ch_prio = np.zeros((n_ch, depth), dtype=np.int64)
    ch_prio[l_ch, rank] = l_prio
    line_route = inp.line_channel.copy()
    ch_slot = np.broadcast_to(np.arange(depth), (n_ch, depth))
    if inp.policy.route is not RouteOrder.NEAREST:
        return line_route, ch_wh, ch_len, ch_slot
    located = np.flatnonzero(~np.isnan(inp.line_lat))
    if located.size == 0:
        return line_route, ch_wh, ch_len, ch_slot
    ch = inp.line_channel[located]
    wh = ch_wh[ch]
    valid = wh >= 0
    safe = np.where(valid, wh, 0)
    dist = haversine_km(inp.line_lat[located][:, None], inp.line_lon[located][:, None],
                        inp.warehouse_lat[safe], inp.warehouse_lon[safe])
    dist[~valid] = np.inf
    # the channel row is already in (priority, warehouse) order, so a stable sort on
    # distance breaks ties exactly as the contract says
    order = np.argsort(dist, axis=1, kind="stable")
    own = np.take_along_axis(wh, order, axis=1)
    route_wh = np.concatenate([ch_wh, own])
    route_len = np.concatenate([ch_len, ch_len[ch]])
    line_route[located] = n_ch + np.arange(located.size)
    return line_route, route_wh, route_len, np.concatenate([ch_slot, order])


def build_problem(inp: Inputs) -> Problem:
    """Sort lines into service order and index routes and stock for the kernels."""
    n = inp.line_order.shape[0]
    seq = np.lexsort((np.arange(n), inp.line_order, inp.line_priority))
    order_raw = inp.line_order[seq]
    prio_raw = inp.line_priority[seq]
    new_order = np.ones(n, dtype=bool)
    if n:
        new_order[1:] = (order_raw[1:] != order_raw[:-1]) | (prio_raw[1:] != prio_raw[:-1])
    order = np.cumsum(new_order) - 1
    order_start = np.flatnonzero(new_order)
    order_len = np.diff(np.append(order_start, n))
    line_route, route_wh, route_len, route_slot = _routes(inp)
    w = max(inp.n_warehouses, 1)
    key = inp.stock_sku * w + inp.stock_warehouse
    by_key = np.argsort(key, kind="stable")
    stock = np.append(np.maximum(inp.stock_available[by_key], 0), 0)
    return Problem(
        seq=seq,
        sku=inp.line_sku[seq],
        qty=inp.line_quantity[seq],
        backorder=inp.sku_backorder[inp.line_sku[seq]] if n else np.zeros(0, bool),
        order=order,
        order_start=order_start,
        order_len=order_len,
        line_route=line_route[seq],
        route_wh=route_wh,
        route_len=route_len,
        route_slot=route_slot,
        rec_key=key[by_key],
        stock=stock,
        n_warehouses=w,
    )
