"""Checking and converting the engine's input arrays, once, before any work.

:func:`check_inputs` turns the keyword arguments of :func:`~stockkit.engine.allocate_arrays`
into a :class:`Inputs` of contiguous ``int64`` / ``float64`` / ``bool`` arrays, or raises a
:class:`~stockkit.errors.ValidationError` subclass that names the argument at fault.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from stockkit.engine.policy import Policy, RouteOrder, ShipComplete
from stockkit.errors import InvalidArray, InvalidLocation, InvalidQuantity

__all__ = ["ARRAY_KERNEL_TOTAL", "MAX_QUANTITY", "Inputs", "array_kernels_exact", "check_inputs"]

#: Largest quantity or stock count accepted, as everywhere in stockkit
#: (:data:`stockkit.validation.MAX_QUANTITY`).
MAX_QUANTITY = 2**62

#: The array kernels sum quantities and stock in ``int64`` and, in a few places, in
#: ``float64`` (``np.bincount`` weights): every such sum is exact while all line quantities
#: plus all stock (counted once per route that lists its warehouse) stay below this.
ARRAY_KERNEL_TOTAL = 2**52


class Inputs(NamedTuple):
    """Validated engine input: every array of the documented dtype, and contiguous except
    missing ship-to coordinates (one read-only NaN broadcast to every line)."""

    line_order: np.ndarray
    line_sku: np.ndarray
    line_quantity: np.ndarray
    line_channel: np.ndarray
    line_priority: np.ndarray
    line_lat: np.ndarray
    line_lon: np.ndarray
    stock_warehouse: np.ndarray
    stock_sku: np.ndarray
    stock_available: np.ndarray
    link_channel: np.ndarray
    link_warehouse: np.ndarray
    link_priority: np.ndarray
    warehouse_lat: np.ndarray
    warehouse_lon: np.ndarray
    sku_backorder: np.ndarray
    policy: Policy
    n_skus: int
    n_warehouses: int
    n_channels: int


def _ints(name: str, value: Any, length: int | None = None) -> np.ndarray:
    array = np.asarray(value)
    if array.ndim != 1:
        raise InvalidArray(f"{name} must be a one-dimensional array, got shape {array.shape}")
    if length is not None and array.shape[0] != length:
        raise InvalidArray(f"{name} has {array.shape[0]} values, expected {length} (one per row)")
    if array.size == 0:
        return np.zeros(0, dtype=np.int64)
    if array.dtype.kind not in "iu":
        raise InvalidArray(f"{name} must hold integers, got dtype {array.dtype}; convert it with .astype(np.int64)")
    if array.dtype.kind == "u" and array.dtype.itemsize == 8 and array.max() > np.iinfo(np.int64).max:
        raise InvalidArray(f"{name} holds values beyond int64")
    return np.ascontiguousarray(array, dtype=np.int64)


def _floats(name: str, value: Any, length: int) -> np.ndarray:
    array = np.asarray(value)
    if array.ndim != 1 or array.shape[0] != length:
        raise InvalidArray(f"{name} must be a one-dimensional array of {length} values, got shape {array.shape}")
    if array.size and array.dtype.kind not in "fiu":
        raise InvalidArray(f"{name} must hold numbers, got dtype {array.dtype}")
    return np.ascontiguousarray(array, dtype=np.float64)


def _count(name: str, given: Any, needed: int) -> int:
    if given is None:
        return needed
    if isinstance(given, bool) or not isinstance(given, (int, np.integer)) or given < 0:
        raise InvalidArray(f"{name} must be a non-negative int, got {given!r}")
    if given < needed:
        raise InvalidArray(f"{name}={given} but an index {needed - 1} is used; pass at least {needed} or leave it out")
    return int(given)


def _bounds(array: np.ndarray) -> tuple[int, int]:
    """(smallest, largest) value of an index array; (0, -1) when empty."""
    return (int(array.min()), int(array.max())) if array.size else (0, -1)


def _in_range(name: str, array: np.ndarray, bounds: tuple[int, int], count: int, what: str) -> None:
    if bounds[0] < 0 or bounds[1] >= count:
        bad = array[(array < 0) | (array >= count)][0]
        raise InvalidArray(f"{name} holds {bad}, not a {what} index in 0..{count - 1}")


def _check_coordinates(lat_name: str, lat: np.ndarray, lon: np.ndarray, *, allow_nan: bool) -> None:
    lat_nan, lon_nan = np.isnan(lat), np.isnan(lon)
    if allow_nan and np.any(lat_nan != lon_nan):
        raise InvalidLocation(f"{lat_name} and its longitude must be NaN together (no ship-to) or both set")
    if not allow_nan and (lat_nan.any() or lon_nan.any()):
        raise InvalidLocation(f"{lat_name} and its longitude must be finite for every warehouse with RouteOrder.NEAREST")
    known = ~lat_nan
    if np.any(~np.isfinite(lat[known])) or np.any(np.abs(lat[known]) > 90):
        raise InvalidLocation(f"{lat_name} must be finite latitudes in [-90, 90]")
    known = ~lon_nan
    if np.any(~np.isfinite(lon[known])) or np.any(np.abs(lon[known]) > 180):
        raise InvalidLocation(f"{lat_name.replace('lat', 'lon')} must be finite longitudes in [-180, 180]")


#: pairs are told apart in a table of one byte per possible pair while it holds at most
#: this many bytes per pair given (a sort of the pairs costs more, well past this)
_PAIR_TABLE_BYTES = 64


def _no_duplicates(name: str, first: np.ndarray, second: np.ndarray, n_second: int) -> None:
    keys = first * max(n_second, 1) + second
    if keys.size > 1:
        span = int(keys.max()) + 1
        if span <= _PAIR_TABLE_BYTES * keys.size:
            seen = np.zeros(span, bool)
            seen[keys] = True
            if np.count_nonzero(seen) == keys.size:
                return
        keys = np.sort(keys)
        same = keys[1:] == keys[:-1]
        if same.any():
            key = int(keys[np.flatnonzero(same)[0]])
            raise InvalidArray(f"{name} lists {divmod(key, max(n_second, 1))} twice; give each pair once")


def _same_within_orders(order: np.ndarray, columns: dict[str, np.ndarray]) -> None:
    if order.size < 2:
        return
    # orders usually arrive sorted; only shuffled input pays for a sort
    presorted = bool(np.all(order[1:] >= order[:-1]))
    by_order = slice(None) if presorted else np.argsort(order, kind="stable")
    ordered = order[by_order]
    same_order = ordered[1:] == ordered[:-1]
    for name, column in columns.items():
        values = column[by_order]
        differs = values[1:] != values[:-1]
        if values.dtype.kind == "f":
            differs &= ~(np.isnan(values[1:]) & np.isnan(values[:-1]))
        bad = same_order & differs
        if bad.any():
            bad = np.flatnonzero(bad)
            raise InvalidArray(
                f"lines of order {ordered[bad[0]]} differ in {name}; every line of an order "
                f"must share it"
            )


def check_inputs(
    *, line_order, line_sku, line_quantity, line_channel, line_priority, line_lat, line_lon,
    stock_warehouse, stock_sku, stock_available, link_channel, link_warehouse, link_priority,
    warehouse_lat, warehouse_lon, sku_backorder, policy, n_skus, n_warehouses, n_channels,
) -> Inputs:
    """Validate and convert the engine's arguments (see :func:`~stockkit.engine.allocate_arrays`)."""
    if not isinstance(policy, Policy):
        raise InvalidArray(f"policy must be a stockkit.engine.Policy, got {type(policy).__name__}")
    order = _ints("line_order", line_order)
    n = order.shape[0]
    sku = _ints("line_sku", line_sku, n)
    quantity = _ints("line_quantity", line_quantity, n)
    channel = _ints("line_channel", line_channel, n)
    priority = np.zeros(n, dtype=np.int64) if line_priority is None else _ints("line_priority", line_priority, n)
    if (line_lat is None) != (line_lon is None):
        raise InvalidArray("give line_lat and line_lon together, or neither")
    # without ship-to points, one read-only NaN seen n times: no memory per line
    lat = np.broadcast_to(np.nan, (n,)) if line_lat is None else _floats("line_lat", line_lat, n)
    lon = np.broadcast_to(np.nan, (n,)) if line_lon is None else _floats("line_lon", line_lon, n)
    s_wh = _ints("stock_warehouse", stock_warehouse)
    m = s_wh.shape[0]
    s_sku = _ints("stock_sku", stock_sku, m)
    s_avail = _ints("stock_available", stock_available, m)
    l_ch = _ints("link_channel", link_channel)
    k = l_ch.shape[0]
    l_wh = _ints("link_warehouse", link_warehouse, k)
    l_prio = _ints("link_priority", link_priority, k)

    if quantity.size and (quantity.min() <= 0 or quantity.max() > MAX_QUANTITY):
        bad = quantity[(quantity <= 0) | (quantity > MAX_QUANTITY)][0]
        raise InvalidQuantity(f"line_quantity holds {bad}; every line needs 1..{MAX_QUANTITY} units")
    if s_avail.size and s_avail.max() > MAX_QUANTITY:
        raise InvalidQuantity(f"stock_available holds {s_avail.max()}, more than {MAX_QUANTITY}")

    b_sku, b_s_sku, b_ch, b_l_ch, b_s_wh, b_l_wh = map(_bounds, (sku, s_sku, channel, l_ch, s_wh, l_wh))

    if (warehouse_lat is None) != (warehouse_lon is None):
        raise InvalidArray("give warehouse_lat and warehouse_lon together, or neither")
    coord_len = 0 if warehouse_lat is None else np.asarray(warehouse_lat).shape[0] if np.ndim(warehouse_lat) == 1 else 0
    backorder_len = 0 if sku_backorder is None else np.asarray(sku_backorder).shape[0] if np.ndim(sku_backorder) == 1 else 0
    n_skus = _count("n_skus", n_skus, max(b_sku[1] + 1, b_s_sku[1] + 1, backorder_len))
    n_warehouses = _count("n_warehouses", n_warehouses, max(b_s_wh[1] + 1, b_l_wh[1] + 1, coord_len))
    n_channels = _count("n_channels", n_channels, max(b_ch[1] + 1, b_l_ch[1] + 1))
    _in_range("line_sku", sku, b_sku, n_skus, "SKU")
    _in_range("stock_sku", s_sku, b_s_sku, n_skus, "SKU")
    _in_range("line_channel", channel, b_ch, n_channels, "channel")
    _in_range("link_channel", l_ch, b_l_ch, n_channels, "channel")
    _in_range("stock_warehouse", s_wh, b_s_wh, n_warehouses, "warehouse")
    _in_range("link_warehouse", l_wh, b_l_wh, n_warehouses, "warehouse")
    _no_duplicates("stock (stock_sku, stock_warehouse)", s_sku, s_wh, n_warehouses)
    _no_duplicates("links (link_channel, link_warehouse)", l_ch, l_wh, n_warehouses)

    if sku_backorder is None:
        backorder = np.zeros(n_skus, dtype=bool)
    else:
        backorder = np.asarray(sku_backorder)
        if backorder.ndim != 1 or backorder.shape[0] != n_skus or (backorder.size and backorder.dtype != bool):
            raise InvalidArray(f"sku_backorder must be a bool array of n_skus={n_skus} values, got "
                               f"{backorder.dtype} of shape {backorder.shape}")
        backorder = np.ascontiguousarray(backorder, dtype=bool)

    nearest = policy.route is RouteOrder.NEAREST
    if warehouse_lat is None:
        if nearest:
            raise InvalidArray("RouteOrder.NEAREST needs warehouse_lat and warehouse_lon")
        w_lat = np.full(n_warehouses, np.nan)
        w_lon = np.full(n_warehouses, np.nan)
    else:
        w_lat = _floats("warehouse_lat", warehouse_lat, n_warehouses)
        w_lon = _floats("warehouse_lon", warehouse_lon, n_warehouses)
        if nearest:
            _check_coordinates("warehouse_lat", w_lat, w_lon, allow_nan=False)
    if line_lat is not None:
        _check_coordinates("line_lat", lat, lon, allow_nan=True)

    shared = {"line_priority": priority, "line_channel": channel}
    if policy.ship_complete is not ShipComplete.OFF:
        shared |= {"line_lat": lat, "line_lon": lon}
    _same_within_orders(order, shared)

    return Inputs(order, sku, quantity, channel, priority, lat, lon, s_wh, s_sku, s_avail, l_ch, l_wh,
                  l_prio, w_lat, w_lon, backorder, policy, n_skus, n_warehouses, n_channels)


def array_kernels_exact(inp: Inputs) -> bool:
    """Whether the array kernels (intervals, rounds, compiled) are exact on ``inp``: its
    units total below :data:`ARRAY_KERNEL_TOTAL`. Larger inputs go to the Python kernel."""
    # float64 sums of non-negative values: relative error far below the factor 2 of margin
    demand = float(inp.line_quantity.sum(dtype=np.float64))
    stock = float(np.maximum(inp.stock_available, 0).sum(dtype=np.float64)) * max(inp.n_channels, 1)
    return demand + stock < ARRAY_KERNEL_TOTAL
