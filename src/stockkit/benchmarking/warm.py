"""Placing one order at a time on a warm index of a workload's stock.

A :class:`WarmStock` is built once from a workload's stock and links: the stock records
sorted by SKU with an offset per SKU, and each channel's links. Placing an order then
touches only what the order can draw on: it gathers the records of the order's SKUs (a
few slices), calls :func:`stockkit.engine.allocate_arrays` on them with the channel's
links, and takes the allocated units off those records in place. Nothing is rebuilt
between orders, so the time does not grow with the size of the stock.

>>> from stockkit.benchmarking.workload import generate, small_orders
>>> w = generate(lines=2_000, skus=100, warehouses=8, channels=2, seed=5)
>>> warm = WarmStock(w)
>>> before = int(warm.available.sum())
>>> result = warm.place(small_orders(w, 1, seed=5)[0])
>>> before - int(warm.available.sum()) == int(result.record_quantity.sum())
True
"""

from __future__ import annotations

from typing import Any

import numpy as np

from stockkit.benchmarking.workload import Workload
from stockkit.engine import AllocationArrays, Policy, allocate_arrays

__all__ = ["WarmStock"]


class WarmStock:
    """A workload's stock, indexed by SKU, that single orders are placed on one by one.

    ``available`` is the live stock per record (a copy; the workload is not changed).
    """

    def __init__(self, workload: Workload, policy: Policy | None = None) -> None:
        by_sku = np.argsort(workload.stock_sku, kind="stable")
        self.available = workload.stock_available[by_sku].copy()
        self._warehouse = workload.stock_warehouse[by_sku]
        self._sku = workload.stock_sku[by_sku]
        self._start = np.searchsorted(self._sku, np.arange(workload.n_skus + 1))
        self._links = {
            c: (workload.link_channel[workload.link_channel == c], workload.link_warehouse[workload.link_channel == c],
                workload.link_priority[workload.link_channel == c])
            for c in range(workload.n_channels)
        }
        self._fixed: dict[str, Any] = {"n_skus": workload.n_skus, "n_warehouses": workload.n_warehouses,
                                       "n_channels": workload.n_channels}
        if workload.warehouse_lat is not None:
            self._fixed.update(warehouse_lat=workload.warehouse_lat, warehouse_lon=workload.warehouse_lon)
        self.policy = policy if policy is not None else workload.policy()

    def place(self, order: dict[str, np.ndarray]) -> AllocationArrays:
        """Allocate one order (the line arguments of ``allocate_arrays``, one channel) on the
        live stock and take what it got off that stock; return the engine's result."""
        skus = np.unique(order["line_sku"])
        rows = np.concatenate([np.arange(self._start[s], self._start[s + 1]) for s in skus.tolist()])
        channel, warehouse, priority = self._links[int(order["line_channel"][0])]
        result = allocate_arrays(
            **order, **self._fixed, stock_warehouse=self._warehouse[rows], stock_sku=self._sku[rows],
            stock_available=self.available[rows], link_channel=channel, link_warehouse=warehouse,
            link_priority=priority, policy=self.policy)
        if len(result.record_line):
            # each record finds its stock row by its (sku, warehouse) key among the gathered rows
            taken = ~result.record_backorder
            sku = order["line_sku"][result.record_line[taken]]
            wanted = self._sku[rows] * self._fixed["n_warehouses"] + self._warehouse[rows]
            key = sku * self._fixed["n_warehouses"] + result.record_warehouse[taken]
            position = np.argsort(wanted, kind="stable")
            hit = position[np.searchsorted(wanted, key, sorter=position)]
            np.subtract.at(self.available, rows[hit], result.record_quantity[taken])
        return result
