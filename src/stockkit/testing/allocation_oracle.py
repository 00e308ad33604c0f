"""The definition of allocation: a plain sequential loop over lines and warehouses.

:func:`allocate_oracle` takes the same arrays as :func:`stockkit.engine.allocate_arrays`
and returns the same :class:`~stockkit.engine.AllocationArrays`, computed the obvious way:
orders are served one after another in the service sequence, each line walks its
candidate warehouses in policy order. It is slow on purpose and written to be read; the
engine must give exactly its result, and the test suites and benchmarks compare the two.
It assumes valid input (the engine validates).

>>> import numpy as np
>>> from stockkit.testing.allocation_oracle import allocate_oracle
>>> result = allocate_oracle(
...     line_order=np.array([0, 1]), line_sku=np.array([0, 0]), line_quantity=np.array([4, 4]),
...     line_channel=np.array([0, 0]),
...     stock_warehouse=np.array([0, 1]), stock_sku=np.array([0, 0]), stock_available=np.array([3, 2]),
...     link_channel=np.array([0, 0]), link_warehouse=np.array([0, 1]), link_priority=np.array([0, 1]))
>>> list(zip(result.record_line.tolist(), result.record_warehouse.tolist(), result.record_quantity.tolist()))
[(0, 0, 3), (0, 1, 1), (1, 1, 1)]
>>> result.line_unfilled.tolist(), result.line_reason.tolist()
([0, 3], [0, 2])
"""

from __future__ import annotations

import math
from collections import ChainMap
from collections.abc import MutableMapping

import numpy as np

from stockkit.engine.policy import (
    AllocationArrays,
    Fill,
    Policy,
    Reason,
    RouteOrder,
    ShipComplete,
)

__all__ = ["allocate_oracle", "haversine_km"]

#: the policy used when none is given
DEFAULT_POLICY = Policy()

EARTH_RADIUS_KM = 6371.0088


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in kilometres between two points given in degrees."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp = p2 - p1
    dl = math.radians(lon2) - math.radians(lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(min(a, 1.0)))


def allocate_oracle(
    *,
    line_order, line_sku, line_quantity, line_channel,
    line_priority=None, line_lat=None, line_lon=None,
    stock_warehouse, stock_sku, stock_available,
    link_channel, link_warehouse, link_priority,
    warehouse_lat=None, warehouse_lon=None,
    sku_backorder=None,
    policy: Policy = DEFAULT_POLICY,
    n_skus=None, n_warehouses=None, n_channels=None,
) -> AllocationArrays:
    """Allocate like a first-come-first-served clerk; see :func:`stockkit.engine.allocate_arrays`
    for the contract. ``n_skus``, ``n_warehouses`` and ``n_channels`` are accepted for
    symmetry and not needed."""
    del n_skus, n_warehouses, n_channels
    order = [int(x) for x in np.asarray(line_order).tolist()]
    sku = [int(x) for x in np.asarray(line_sku).tolist()]
    qty = [int(x) for x in np.asarray(line_quantity).tolist()]
    chan = [int(x) for x in np.asarray(line_channel).tolist()]
    n = len(order)
    prio = [0] * n if line_priority is None else [int(x) for x in np.asarray(line_priority).tolist()]
    lat = [math.nan] * n if line_lat is None else [float(x) for x in np.asarray(line_lat).tolist()]
    lon = [math.nan] * n if line_lon is None else [float(x) for x in np.asarray(line_lon).tolist()]
    backorder = set() if sku_backorder is None else {
        s for s, b in enumerate(np.asarray(sku_backorder).tolist()) if b
    }

    stock: dict[tuple[int, int], int] = {}
    for w, s, a in zip(np.asarray(stock_warehouse).tolist(), np.asarray(stock_sku).tolist(),
                       np.asarray(stock_available).tolist()):
        stock[(int(s), int(w))] = max(int(a), 0)

    link_prio: dict[tuple[int, int], int] = {}
    routes: dict[int, list[int]] = {}
    for c, w, p in zip(np.asarray(link_channel).tolist(), np.asarray(link_warehouse).tolist(),
                       np.asarray(link_priority).tolist()):
        link_prio[(int(c), int(w))] = int(p)
        routes.setdefault(int(c), []).append(int(w))
    for c, ws in routes.items():
        ws.sort(key=lambda w, c=c: (link_prio[(c, w)], w))

    def candidates(i: int) -> list[int]:
        route = routes.get(chan[i], [])
        if policy.route is RouteOrder.NEAREST and not (math.isnan(lat[i]) or math.isnan(lon[i])):
            route = sorted(route, key=lambda w: (
                haversine_km(lat[i], lon[i], float(warehouse_lat[w]), float(warehouse_lon[w])),
                link_prio[(chan[i], w)], w))
        return route

    unfilled = list(qty)
    reason = [Reason.FILLED] * n
    records: list[tuple[int, int, int, int, bool]] = []  # line, rank, warehouse, quantity, back order

    def serve_line(i: int, left: MutableMapping[tuple[int, int], int], keep_partial: bool):
        """One line against ``left`` (changed in place): (records, unfilled, reason)."""
        cands = candidates(i)
        s, q = sku[i], qty[i]
        if not cands:
            return [], q, Reason.NO_WAREHOUSE
        took = []
        if policy.split:
            need = q
            for rank, w in enumerate(cands):
                give = min(left.get((s, w), 0), need)
                if give:
                    took.append((i, rank, w, give, False))
                    need -= give
                if need == 0:
                    break
            if need and s in backorder:
                took.append((i, 0, cands[0], need, True))
            elif need and not keep_partial:
                return [], q, Reason.SHORT
            elif need:
                for _, _, w, give, _ in took:
                    left[(s, w)] -= give
                return took, need, Reason.SHORT
        else:
            for rank, w in enumerate(cands):
                if left.get((s, w), 0) >= q:
                    took.append((i, rank, w, q, False))
                    break
            else:
                if s not in backorder:
                    return [], q, Reason.NO_SINGLE_WAREHOUSE
                have = left.get((s, cands[0]), 0)
                if have:
                    took.append((i, 0, cands[0], have, False))
                took.append((i, 0, cands[0], q - have, True))
        for _, _, w, give, bo in took:
            if not bo:
                left[(s, w)] -= give
        backordered = any(bo for *_, bo in took)
        return took, 0, Reason.BACKORDERED if backordered else Reason.FILLED

    sequence = sorted(range(n), key=lambda i: (prio[i], order[i], i))
    start = 0
    while start < n:
        end = start
        while end < n and order[sequence[end]] == order[sequence[start]]:
            end += 1
        lines = sequence[start:end]
        start = end

        if policy.ship_complete is not ShipComplete.OFF:
            cands = candidates(lines[0])
            if not cands:
                for i in lines:
                    reason[i] = Reason.NO_WAREHOUSE
                continue
            wanted: dict[int, int] = {}
            for i in lines:
                wanted[sku[i]] = wanted.get(sku[i], 0) + qty[i]
            chosen = next((rank for rank, w in enumerate(cands)
                           if all(stock.get((s, w), 0) >= q for s, q in wanted.items())), None)
            if chosen is not None:
                w = cands[chosen]
                for i in lines:
                    records.append((i, chosen, w, qty[i], False))
                    stock[(sku[i], w)] -= qty[i]
                    unfilled[i], reason[i] = 0, Reason.FILLED
                continue
            if policy.ship_complete is ShipComplete.REQUIRE:
                for i in lines:
                    reason[i] = Reason.ORDER_INCOMPLETE
                continue

        if policy.fill is Fill.ORDER:
            # the order's takings go to an overlay over the stock, kept only if it is whole
            tentative = ChainMap({}, stock)
            outcomes = [serve_line(i, tentative, keep_partial=False) for i in lines]
            if all(u == 0 for _, u, _ in outcomes):
                stock.update(tentative.maps[0])
                for i, (took, u, r) in zip(lines, outcomes):
                    records.extend(took)
                    unfilled[i], reason[i] = u, r
            else:
                for i, (_, u, r) in zip(lines, outcomes):
                    reason[i] = r if u else Reason.ORDER_INCOMPLETE
            continue

        for i in lines:
            took, unfilled[i], reason[i] = serve_line(i, stock, keep_partial=policy.fill is Fill.PARTIAL)
            records.extend(took)

    records.sort(key=lambda r: (r[0], r[1], r[4]))
    return AllocationArrays(
        record_line=np.array([r[0] for r in records], dtype=np.int64),
        record_warehouse=np.array([r[2] for r in records], dtype=np.int64),
        record_quantity=np.array([r[3] for r in records], dtype=np.int64),
        record_backorder=np.array([r[4] for r in records], dtype=bool),
        line_unfilled=np.array(unfilled, dtype=np.int64),
        line_reason=np.array([int(r) for r in reason], dtype=np.uint8),
    )
