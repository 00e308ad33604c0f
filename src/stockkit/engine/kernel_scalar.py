"""The Python kernel: the sequential rules in plain Python integers.

Two uses. For one order of a few lines the array kernels spend more on numpy call overhead
than on the work; this loop touches only the stock of the SKUs involved. And it is exact
for every valid quantity: Python integers do not overflow, so inputs whose totals are too
large for the array kernels' ``int64`` / ``float64`` sums come here. It is the engine's own
implementation (the oracle in :mod:`stockkit.testing.allocation_oracle` stays the
definition, and the tests hold the two equal).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Sequence

import numpy as np

from stockkit.engine.inputs import Inputs
from stockkit.engine.policy import (
    AllocationArrays,
    Fill,
    Policy,
    Reason,
    RouteOrder,
    ShipComplete,
)
from stockkit.engine.problem import haversine_km

__all__ = ["Outcome", "allocate_python", "allocate_scalar", "channel_routes", "nearest_route", "to_arrays"]

#: (line, rank, warehouse, quantity, back order) records, unfilled per line, reason per line
Outcome = tuple[list[tuple[int, int, int, int, bool]], list[int], list[int]]


def _serve(sku: int, qty: int, route: Sequence[int], left: dict[tuple[int, int], int], split: bool,
           backorder: bool, keep_partial: bool) -> tuple[list[tuple[int, int, int, bool]], int, int]:
    """One line against ``left`` (changed only when the line takes something):
    ((rank, warehouse, units, back order) takes, unfilled, reason)."""
    if not route:
        return [], qty, Reason.NO_WAREHOUSE
    takes: list[tuple[int, int, int, bool]] = []
    need = qty
    if split:
        for rank, wh in enumerate(route):
            have = left[(sku, wh)]
            if have > 0:
                give = min(need, have)
                takes.append((rank, wh, give, False))
                need -= give
                if not need:
                    break
    else:
        for rank, wh in enumerate(route):
            if left[(sku, wh)] >= qty:
                takes.append((rank, wh, qty, False))
                need = 0
                break
        else:
            have = left[(sku, route[0])] if backorder else 0
            if have > 0:
                takes.append((0, route[0], have, False))
                need -= have
    if need and backorder:
        takes.append((0, route[0], need, True))
        need = 0
    elif need and not (split and keep_partial):
        return [], qty, Reason.SHORT if split else Reason.NO_SINGLE_WAREHOUSE
    for _, wh, give, back in takes:
        if not back:
            left[(sku, wh)] -= give
    if need:
        return takes, need, Reason.SHORT
    return takes, 0, Reason.BACKORDERED if any(t[3] for t in takes) else Reason.FILLED


def allocate_scalar(
    lines: Sequence[tuple[int, int, int]],
    orders: Sequence[Sequence[int]],
    route_of: Callable[[int], Sequence[int]],
    left: dict[tuple[int, int], int],
    backorder: Callable[[int], bool],
    policy: Policy,
) -> Outcome:
    """Allocate ``lines`` ((line index, sku, quantity)), served order by order as listed in
    ``orders`` (line indices in service sequence), against ``left`` ((sku, warehouse) ->
    units, changed in place; a missing key reads as 0 units, as in a
    ``collections.defaultdict(int)``). ``route_of(line)`` gives the line's candidate
    warehouses in policy order."""
    n = len(lines)
    unfilled = [0] * n
    reason = [int(Reason.FILLED)] * n
    records: list[tuple[int, int, int, int, bool]] = []
    split, sc = policy.split, policy.ship_complete
    for members in orders:
        if sc is not ShipComplete.OFF:
            route = route_of(members[0])
            wanted: dict[int, int] = {}
            for i in members:
                wanted[lines[i][1]] = wanted.get(lines[i][1], 0) + lines[i][2]
            chosen = next((rank for rank, wh in enumerate(route)
                           if all(left[(s, wh)] >= q for s, q in wanted.items())), None)
            if chosen is not None:
                wh = route[chosen]
                for i in members:
                    _, s, q = lines[i]
                    left[(s, wh)] -= q
                    records.append((i, chosen, wh, q, False))
                continue
            if sc is ShipComplete.REQUIRE or not route:
                for i in members:
                    unfilled[i] = lines[i][2]
                    reason[i] = Reason.NO_WAREHOUSE if not route else Reason.ORDER_INCOMPLETE
                continue
        if policy.fill is Fill.ORDER:
            # the order's lines take in turn; if one fails, what the others took goes back
            served = [(i, *_serve(lines[i][1], lines[i][2], route_of(i), left, split,
                                  backorder(lines[i][1]), False)) for i in members]
            if all(u == 0 for _, _, u, _ in served):
                for i, takes, _, r in served:
                    reason[i] = r
                    records.extend((i, *t) for t in takes)
            else:
                for i, takes, u, r in served:
                    for _, wh, give, back in takes:
                        if not back:
                            left[(lines[i][1], wh)] += give
                    unfilled[i] = lines[i][2]
                    reason[i] = r if u else Reason.ORDER_INCOMPLETE
            continue
        for i in members:
            takes, unfilled[i], reason[i] = _serve(lines[i][1], lines[i][2], route_of(i), left, split,
                                                   backorder(lines[i][1]), policy.fill is Fill.PARTIAL)
            records.extend((i, *t) for t in takes)
    records.sort(key=lambda r: (r[0], r[1], r[4]))
    return records, unfilled, reason


def channel_routes(link_channel: Sequence[int], link_warehouse: Sequence[int], link_priority: Sequence[int],
                   n_channels: int) -> list[list[int]]:
    """Per channel its warehouses in priority order: link priority, ties by warehouse index."""
    routes: list[list[int]] = [[] for _ in range(n_channels)]
    for _, wh, ch in sorted(zip(link_priority, link_warehouse, link_channel)):
        routes[ch].append(wh)
    return routes


def nearest_route(route: Sequence[int], lat: float, lon: float, warehouse_lat: np.ndarray,
                  warehouse_lon: np.ndarray) -> list[int]:
    """``route`` (in priority order) sorted by haversine distance from (``lat``, ``lon``);
    equal distances keep their priority order."""
    wh = np.array(route, dtype=np.int64)
    dist = haversine_km(np.float64(lat), np.float64(lon), warehouse_lat[wh], warehouse_lon[wh])
    return wh[np.argsort(dist, kind="stable")].tolist()


def to_arrays(outcome: Outcome) -> AllocationArrays:
    """The contract's arrays for an :data:`Outcome` (lines numbered as the input's)."""
    records, unfilled, reason = outcome
    return AllocationArrays(
        np.array([r[0] for r in records], dtype=np.int64),
        np.array([r[2] for r in records], dtype=np.int64),
        np.array([r[3] for r in records], dtype=np.int64),
        np.array([r[4] for r in records], dtype=bool),
        np.array(unfilled, dtype=np.int64),
        np.array(reason, dtype=np.uint8),
    )


#: stock tables up to this many records are read record by record; larger ones are first
#: cut down to the lines' SKUs with one numpy pass
_SCAN_RECORDS = 32


def allocate_python(inp: Inputs) -> AllocationArrays:
    """Allocate validated ``inp`` with the plain-Python loop (exact for every valid quantity;
    reads only the stock of the lines' SKUs)."""
    n = inp.line_order.shape[0]
    sku, qty = inp.line_sku.tolist(), inp.line_quantity.tolist()
    order, prio, channel = inp.line_order.tolist(), inp.line_priority.tolist(), inp.line_channel.tolist()
    orders: list[list[int]] = []
    last = None
    for i in sorted(range(n), key=lambda i: (prio[i], order[i], i)):
        if orders and order[i] == last:
            orders[-1].append(i)
        else:
            orders.append([i])
            last = order[i]
    skus = set(sku)
    s_sku, s_wh, s_avail = inp.stock_sku, inp.stock_warehouse, inp.stock_available
    if s_sku.shape[0] > _SCAN_RECORDS:
        wanted = np.zeros(inp.n_skus, bool)
        wanted[inp.line_sku] = True
        mine = wanted[s_sku]
        s_sku, s_wh, s_avail = s_sku[mine], s_wh[mine], s_avail[mine]
    left = defaultdict(int, {(s, w): max(0, a) for s, w, a in zip(s_sku.tolist(), s_wh.tolist(), s_avail.tolist())
                             if s in skus})
    routes = channel_routes(inp.link_channel.tolist(), inp.link_warehouse.tolist(), inp.link_priority.tolist(),
                            inp.n_channels)
    if inp.policy.route is RouteOrder.NEAREST:
        lat, lon = inp.line_lat.tolist(), inp.line_lon.tolist()
        ranked: dict[tuple[int, float, float], list[int]] = {}

        def route_of(i: int) -> Sequence[int]:
            if math.isnan(lat[i]):
                return routes[channel[i]]
            key = (channel[i], lat[i], lon[i])
            if key not in ranked:
                ranked[key] = nearest_route(routes[channel[i]], lat[i], lon[i], inp.warehouse_lat, inp.warehouse_lon)
            return ranked[key]
    else:
        def route_of(i: int) -> Sequence[int]:
            return routes[channel[i]]

    backorder = inp.sku_backorder
    return to_arrays(allocate_scalar([(i, sku[i], qty[i]) for i in range(n)], orders, route_of, left,
                                     lambda s: bool(backorder[s]), inp.policy))
