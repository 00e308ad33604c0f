"""Random allocation problems for the engine tests: small, contended, every topology."""

from __future__ import annotations

import numpy as np

from stockkit.engine import Fill, Policy, RouteOrder, ShipComplete

TOPOLOGIES = ("disjoint", "identical", "overlapping", "nearest")

ALL_POLICIES = [
    Policy(route=route, split=split, ship_complete=sc, fill=fill)
    for route in RouteOrder for split in (True, False) for sc in ShipComplete for fill in Fill
]


def random_case(rng: np.random.Generator, topology: str, *, lines: int = 20, skus: int = 4,
                warehouses: int = 5, channels: int = 3, orders_share_ship_to: bool = True,
                backorder_share: float = 0.3, stock_scale: int = 1) -> dict:
    """Keyword arguments for ``allocate_arrays``: ``lines`` lines over ``skus`` SKUs, two
    lines an order on average, stock of -2..7 units per record (times ``stock_scale``) in
    70% of (SKU, warehouse) pairs. ``topology`` says how channels link warehouses:
    ``disjoint`` (each warehouse serves one channel), ``identical`` (every channel the same
    route), ``overlapping`` (random subsets, random priorities), ``nearest`` (overlapping,
    and lines carry ship-to coordinates, for ``RouteOrder.NEAREST``)."""
    link_channel, link_warehouse, link_priority = [], [], []
    if topology == "disjoint":
        owner = rng.integers(0, channels, warehouses)
        for w in range(warehouses):
            link_channel.append(owner[w]); link_warehouse.append(w); link_priority.append(rng.integers(0, 3))
    elif topology == "identical":
        priority = rng.integers(0, 3, warehouses)
        for c in range(channels):
            for w in range(warehouses):
                link_channel.append(c); link_warehouse.append(w); link_priority.append(priority[w])
    else:
        for c in range(channels):
            for w in range(warehouses):
                if rng.random() < 0.6:
                    link_channel.append(c); link_warehouse.append(w); link_priority.append(rng.integers(0, 3))
    stock_warehouse, stock_sku, stock_available = [], [], []
    for s in range(skus):
        for w in range(warehouses):
            if rng.random() < 0.7:
                stock_warehouse.append(w); stock_sku.append(s)
                stock_available.append(int(rng.integers(-2, 8)) * stock_scale)
    n_orders = max(1, lines // 2)
    line_order = rng.permutation(np.sort(rng.integers(0, n_orders, lines)))
    order_channel = rng.integers(0, channels, n_orders)
    order_priority = rng.integers(0, 2, n_orders)
    lat = np.full(lines, np.nan)
    lon = np.full(lines, np.nan)
    if topology == "nearest":
        if orders_share_ship_to:
            olat, olon = rng.uniform(-60, 60, n_orders), rng.uniform(-170, 170, n_orders)
            olat[rng.random(n_orders) < 0.2] = np.nan
            olon[np.isnan(olat)] = np.nan
            lat, lon = olat[line_order], olon[line_order]
        else:
            lat, lon = rng.uniform(-60, 60, lines), rng.uniform(-170, 170, lines)
    ints = lambda values: np.array(values, dtype=np.int64)
    return {
        "line_order": line_order, "line_sku": rng.integers(0, skus, lines),
        "line_quantity": rng.integers(1, 5, lines), "line_channel": order_channel[line_order],
        "line_priority": order_priority[line_order], "line_lat": lat, "line_lon": lon,
        "stock_warehouse": ints(stock_warehouse), "stock_sku": ints(stock_sku), "stock_available": ints(stock_available),
        "link_channel": ints(link_channel), "link_warehouse": ints(link_warehouse), "link_priority": ints(link_priority),
        "warehouse_lat": rng.uniform(-60, 60, warehouses), "warehouse_lon": rng.uniform(-170, 170, warehouses),
        "sku_backorder": rng.random(skus) < backorder_share,
        "n_skus": skus, "n_warehouses": warehouses, "n_channels": channels,
    }


def policy_for(topology: str, policy: Policy) -> Policy:
    """The policy with the route order the topology is about."""
    route = RouteOrder.NEAREST if topology == "nearest" else RouteOrder.PRIORITY
    return Policy(route=route, split=policy.split, ship_complete=policy.ship_complete, fill=policy.fill)


#: the per-line arguments of ``allocate_arrays``
LINE_FIELDS = ("line_order", "line_sku", "line_quantity", "line_channel", "line_priority", "line_lat", "line_lon")


def in_turn(case: dict) -> dict:
    """``case`` with its lines sorted by order number (the orders come in turn, as they
    usually do), each order's lines in their order."""
    by = np.argsort(case["line_order"], kind="stable")
    return case | {name: case[name][by] for name in LINE_FIELDS if case.get(name) is not None}
