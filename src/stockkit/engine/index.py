"""A warm stock index for placing orders one at a time: :class:`StockIndex`.

The inventory keeps one index of its stock between calls and changes it in place when
stock moves, so placing an order touches only the records of the order's SKUs instead of
rebuilding arrays of the whole stock.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from stockkit.engine.inputs import MAX_QUANTITY, check_inputs
from stockkit.engine.kernel_scalar import allocate_scalar, nearest_route, to_arrays
from stockkit.engine.policy import AllocationArrays, Policy, RouteOrder, ShipComplete
from stockkit.engine.problem import haversine_radians_km
from stockkit.errors import InvalidArray, InvalidLocation, InvalidQuantity

__all__ = ["StockIndex"]

_DEFAULT_POLICY = Policy()
_EMPTY = np.zeros(0, np.int64)


class _UnitsLeft(dict):
    """(SKU, warehouse) -> units left, for one allocation on a :class:`StockIndex`: read
    from the index the first time a key is asked for (a warehouse without a record has
    0), changed in place as the allocation takes units."""

    def __init__(self, read: Callable[[tuple[int, int]], int]) -> None:
        super().__init__()
        self._read = read

    def __missing__(self, key: tuple[int, int]) -> int:
        units = self[key] = self._read(key)
        return units


class StockIndex:
    """Stock records (SKU, warehouse, available) sorted by SKU with offsets, channel routes
    and warehouse locations, kept between allocations and updated in place.

    Build it with the stock, link and warehouse arguments of
    :func:`~stockkit.engine.allocate_arrays`; allocate a few lines with :meth:`allocate`
    (``book=True`` takes the units off the index too). :meth:`set_available`,
    :meth:`add_available`, :meth:`add_skus`, :meth:`add_warehouse`, :meth:`set_links` and
    :meth:`set_backorder` keep it in step with the store.

    >>> import numpy as np
    >>> index = StockIndex(stock_warehouse=np.array([0, 1]), stock_sku=np.array([0, 0]),
    ...                    stock_available=np.array([3, 2]), link_channel=np.array([0, 0]),
    ...                    link_warehouse=np.array([0, 1]), link_priority=np.array([0, 1]))
    >>> result = index.allocate(line_sku=[0], line_quantity=[4], line_channel=[0], book=True)
    >>> result.record_warehouse.tolist(), result.record_quantity.tolist()
    ([0, 1], [3, 1])
    >>> index.available(0, 0), index.available(0, 1)
    (0, 1)
    """

    def __init__(self, *, stock_warehouse, stock_sku, stock_available, link_channel, link_warehouse,
                 link_priority, warehouse_lat=None, warehouse_lon=None, sku_backorder=None,
                 n_skus=None, n_warehouses=None, n_channels=None) -> None:
        inp = check_inputs(
            line_order=_EMPTY, line_sku=_EMPTY, line_quantity=_EMPTY, line_channel=_EMPTY,
            line_priority=None, line_lat=None, line_lon=None,
            stock_warehouse=stock_warehouse, stock_sku=stock_sku, stock_available=stock_available,
            link_channel=link_channel, link_warehouse=link_warehouse, link_priority=link_priority,
            warehouse_lat=warehouse_lat, warehouse_lon=warehouse_lon, sku_backorder=sku_backorder,
            policy=_DEFAULT_POLICY, n_skus=n_skus, n_warehouses=n_warehouses, n_channels=n_channels,
        )
        self._n_skus = inp.n_skus
        self._n_channels = inp.n_channels
        by_key = np.lexsort((inp.stock_warehouse, inp.stock_sku))
        self._wh = inp.stock_warehouse[by_key]
        self._avail = inp.stock_available[by_key].copy()
        self._ptr = np.searchsorted(inp.stock_sku[by_key], np.arange(inp.n_skus + 1))
        self._extra: dict[tuple[int, int], int] = {}   # records added since the build
        self._lat = inp.warehouse_lat.tolist()
        self._lon = inp.warehouse_lon.tolist()
        self._backorder = inp.sku_backorder.tolist()
        self._routes: list[list[int]] = []
        self._places: dict[int, dict[int, int]] = {}
        self._by_sku: dict[int, tuple[int, list[int]]] = {}
        self._link_prio: dict[tuple[int, int], int] = {}
        self._nearest: dict[tuple[int, float, float], list[int]] = {}
        self._linked_cache: dict[frozenset[int], set[int]] = {}
        # the locations as arrays, and per channel whether all its warehouses have one:
        # made when first needed, dropped when warehouses or links change
        self._lat_lon: tuple[np.ndarray, np.ndarray] | None = None
        self._radians: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self._located: list[bool] = []
        self.set_links(inp.link_channel, inp.link_warehouse, inp.link_priority)

    # -- size ------------------------------------------------------------------------
    @property
    def n_skus(self) -> int:
        """Number of SKU indices the index knows (0 .. n_skus - 1)."""
        return self._n_skus

    @property
    def n_warehouses(self) -> int:
        """Number of warehouse indices the index knows."""
        return len(self._lat)

    @property
    def n_channels(self) -> int:
        """Number of channel indices the index knows."""
        return self._n_channels

    def add_skus(self, count: int = 1) -> int:
        """Make room for ``count`` new SKUs (no stock, no back orders); returns the first new
        index."""
        first = self._n_skus
        self._n_skus += count
        self._ptr = np.append(self._ptr, np.full(count, self._ptr[-1]))
        self._backorder.extend([False] * count)
        return first

    def add_warehouse(self, latitude: float = math.nan, longitude: float = math.nan) -> int:
        """Add a warehouse (no stock, no links yet); returns its index."""
        self._lat.append(float(latitude))
        self._lon.append(float(longitude))
        self._nearest.clear()
        self._places.clear()
        self._linked_cache.clear()
        self._lat_lon = None
        self._radians = None
        return len(self._lat) - 1

    def set_links(self, link_channel, link_warehouse, link_priority) -> None:
        """Replace every channel-warehouse link (active warehouses only, as for
        :func:`~stockkit.engine.allocate_arrays`)."""
        ch = np.asarray(link_channel, dtype=np.int64).tolist()
        wh = np.asarray(link_warehouse, dtype=np.int64).tolist()
        prio = np.asarray(link_priority, dtype=np.int64).tolist()
        if not len(ch) == len(wh) == len(prio):
            raise InvalidArray("link_channel, link_warehouse and link_priority must have the same length")
        self._n_channels = max([self._n_channels, *(c + 1 for c in ch)])
        if any(w < 0 or w >= self.n_warehouses for w in wh) or any(c < 0 for c in ch):
            raise InvalidArray("a link names an unknown warehouse or a negative channel")
        link_prio = dict(zip(zip(ch, wh), prio))
        if len(link_prio) != len(ch):
            raise InvalidArray("links list a (channel, warehouse) pair twice; give each pair once")
        self._link_prio = link_prio
        self._routes = [[] for _ in range(self._n_channels)]
        for c, w in sorted(link_prio, key=lambda cw: (cw[0], link_prio[cw], cw[1])):
            self._routes[c].append(w)
        self._places.clear()
        self._nearest.clear()
        self._linked_cache.clear()
        self._lat_lon = None
        self._radians = None

    def set_backorder(self, sku: int, allowed: bool) -> None:
        """Whether ``sku`` may be back ordered."""
        self._backorder[self._sku(sku)] = bool(allowed)

    # -- stock -----------------------------------------------------------------------
    def _sku(self, sku: int) -> int:
        if not 0 <= sku < self._n_skus:
            raise InvalidArray(f"SKU index {sku} is not in 0..{self._n_skus - 1}; add_skus() first")
        return int(sku)

    def _slot(self, sku: int, warehouse: int) -> int:
        """The record's place in the sorted arrays, -1 when it has none there (a record
        added since the build, or none): a scan of the SKU's cached warehouses, a short
        list, not a numpy call."""
        lo, whs = self._sku_records(sku)
        try:
            return lo + whs.index(warehouse)
        except ValueError:
            return -1

    def available(self, sku: int, warehouse: int) -> int:
        """Units of ``sku`` available at ``warehouse`` (0 without a record)."""
        sku = self._sku(sku)
        slot = self._slot(sku, warehouse)
        return int(self._avail[slot]) if slot >= 0 else self._extra.get((sku, int(warehouse)), 0)

    def set_available(self, sku: int, warehouse: int, units: int) -> None:
        """Set the units of ``sku`` available at ``warehouse`` (negative counts as 0)."""
        sku = self._sku(sku)
        if not 0 <= warehouse < self.n_warehouses:
            raise InvalidArray(f"warehouse index {warehouse} is not in 0..{self.n_warehouses - 1}")
        slot = self._slot(sku, warehouse)
        if slot >= 0:
            self._avail[slot] = units
        else:
            self._extra[(sku, int(warehouse))] = int(units)
            if len(self._extra) > 4096:
                self._compact()

    def _compact(self) -> None:
        """Fold the records added since the build into the sorted arrays (one rebuild per
        few thousand new records keeps lookups short)."""
        arrays = self.stock_arrays()
        by_key = np.lexsort((arrays["stock_warehouse"], arrays["stock_sku"]))
        self._wh = arrays["stock_warehouse"][by_key]
        self._avail = arrays["stock_available"][by_key]
        self._ptr = np.searchsorted(arrays["stock_sku"][by_key], np.arange(self._n_skus + 1))
        self._by_sku.clear()
        self._extra = {}

    def add_available(self, sku: int, warehouse: int, delta: int) -> None:
        """Add ``delta`` (may be negative) to the units of ``sku`` available at ``warehouse``."""
        self.set_available(sku, warehouse, self.available(sku, warehouse) + int(delta))

    def stock_arrays(self) -> dict[str, np.ndarray]:
        """The stock as ``stock_warehouse``, ``stock_sku`` and ``stock_available`` arrays,
        for :func:`~stockkit.engine.allocate_arrays` on a whole wave."""
        sku = np.repeat(np.arange(self._n_skus), np.diff(self._ptr))
        extra_sku = np.array([k[0] for k in self._extra], dtype=np.int64)
        extra_wh = np.array([k[1] for k in self._extra], dtype=np.int64)
        extra_av = np.array(list(self._extra.values()), dtype=np.int64)
        return {"stock_warehouse": np.concatenate([self._wh, extra_wh]),
                "stock_sku": np.concatenate([sku, extra_sku]),
                "stock_available": np.concatenate([self._avail, extra_av])}

    def _records_of(self, skus: list[int], channels: set[int], route: tuple[int, float, float] | None = None,
                    policy: Policy = _DEFAULT_POLICY) -> tuple[_UnitsLeft, dict[int, list[int]], set[int]]:
        """For the records of ``skus`` (distinct) holding units at warehouses linked to
        ``channels``: (their units, read when first asked for; SKU -> its warehouses among
        them; the SKUs whose warehouses are not in ``policy`` order).

        ``route``, the (channel, ship-to) every line shares when they all do: the records
        are then those on its route (``channels`` is not read), and each SKU's warehouses
        come in its route's order (but for records added since the build).
        The records are read SKU by SKU in plain Python: an order reads a few dozen, where
        numpy's cost per call is most of the work; most lines take from their first
        warehouse, so the units of the others are never read."""
        held: dict[int, list[int]] = {}
        linked: dict[int, int] | set[int] = self._linked(channels) if route is None else self._place(route[0])
        nearer = None
        if route is not None and policy.route is RouteOrder.NEAREST and not math.isnan(route[1]):
            nearer = self._distances(route[0], route[1], route[2]).__getitem__
        avail = self._avail
        for s in skus:
            lo, whs = self._sku_records(s)
            mine = [w for w, units in zip(whs, avail[lo:lo + len(whs)].tolist()) if units > 0 and w in linked]
            if route is not None and len(mine) > 1:
                mine.sort(key=linked.__getitem__)       # type: ignore[union-attr]
                if nearer is not None:
                    mine.sort(key=nearer)               # stable: ties keep the priority order
            held[s] = mine
        unsorted = set() if route is not None else set(skus)
        if self._extra:
            wanted = set(skus)
            for (s, w), extra in self._extra.items():
                if s in wanted and extra > 0:
                    held[s].append(w)
                    unsorted.add(s)
        return _UnitsLeft(self._units), held, unsorted

    def _units(self, key: tuple[int, int]) -> int:
        """Units of the (SKU, warehouse) record ``key``, at least 0 (0 without a record)."""
        slot = self._slot(*key)
        return max(int(self._avail[slot]) if slot >= 0 else self._extra.get(key, 0), 0)

    def _sku_records(self, sku: int) -> tuple[int, list[int]]:
        """The first slot and the warehouses of the SKU's records in the sorted arrays
        (cached until they are rebuilt)."""
        cached = self._by_sku.get(sku)
        if cached is None:
            lo, hi = int(self._ptr[sku]), int(self._ptr[sku + 1])
            cached = self._by_sku[sku] = (lo, self._wh[lo:hi].tolist())
        return cached

    def _distances(self, channel: int, lat: float, lon: float) -> list[float]:
        """Per warehouse its distance from (``lat``, ``lon``), the same floats
        :func:`nearest_route` ranks by, with the warehouses' radians and cosines kept (the
        channel's warehouses must all have a location)."""
        self._locations(channel)
        if self._radians is None:
            p2, l2 = np.radians(self._lat_lon[0]), np.radians(self._lat_lon[1])   # type: ignore[index]
            self._radians = (p2, np.cos(p2), l2)
        return haversine_radians_km(np.radians(np.float64(lat)), np.radians(np.float64(lon)),
                                    *self._radians).tolist()

    def _linked(self, channels: set[int]) -> set[int]:
        """The warehouses linked to one of ``channels`` (cached)."""
        key = frozenset(channels)
        linked = self._linked_cache.get(key)
        if linked is None:
            linked = {w for c in key for w in self._routes[c]}
            if len(self._linked_cache) >= 256:      # calls over many mixes of channels
                self._linked_cache.clear()
            self._linked_cache[key] = linked
        return linked

    # -- allocation ------------------------------------------------------------------
    def _place(self, channel: int) -> dict[int, int]:
        """Warehouse -> its place on the channel's priority route (cached)."""
        place = self._places.get(channel)
        if place is None:
            place = self._places[channel] = {w: p for p, w in enumerate(self._routes[channel])}
        return place

    def _locations(self, channel: int) -> tuple[np.ndarray, np.ndarray]:
        """The warehouses' latitudes and longitudes, once every warehouse of the channel's
        route is known to have one."""
        if self._lat_lon is None:
            self._lat_lon = (np.array(self._lat), np.array(self._lon))
            self._located = [not any(math.isnan(self._lat[w]) for w in r) for r in self._routes]
        if not self._located[channel]:
            raise InvalidLocation("RouteOrder.NEAREST needs a location for every linked warehouse")
        return self._lat_lon

    def _route(self, channel: int, lat: float, lon: float, policy: Policy) -> list[int]:
        """The channel's warehouses in policy order from (``lat``, ``lon``) (cached)."""
        if policy.route is not RouteOrder.NEAREST or math.isnan(lat):
            return self._routes[channel]
        key = (channel, lat, lon)
        cached = self._nearest.get(key)
        if cached is None:
            cached = nearest_route(self._routes[channel], lat, lon, *self._locations(channel))
            if len(self._nearest) > 4096:
                self._nearest.clear()
            self._nearest[key] = cached
        return cached

    def _candidates(self, sku: int, channel: int, lat: float, lon: float, held: dict[int, list[int]],
                    unsorted: set[int], policy: Policy) -> list[int]:
        """The warehouses a line may take from, in its route's order: those of its route
        holding units of its SKU (no other can give anything); first the route's first
        warehouse, where back orders go, when the SKU may be back ordered; a warehouse of
        the route alone when none holds any, so that the line is short rather than without
        a warehouse."""
        if not self._routes[channel]:
            return []
        ws = held.get(sku, [])
        route = None
        if sku in unsorted:
            route = self._route(channel, lat, lon, policy)
            place = {w: p for p, w in enumerate(route)}
            ws = sorted((w for w in ws if w in place), key=place.__getitem__)
        else:
            ws = ws[:]
        if self._backorder[sku]:
            first = (route or self._route(channel, lat, lon, policy))[0]
            if not ws or ws[0] != first:
                ws.insert(0, first)
        elif not ws:
            ws.append(self._routes[channel][0])     # gives nothing: no record comes of it
        return ws

    def allocate(self, *, line_sku, line_quantity, line_channel, line_order=None, line_priority=None,
                 line_lat=None, line_lon=None, policy: Policy = _DEFAULT_POLICY,
                 book: bool = False) -> AllocationArrays:
        """Allocate a few lines (typically one order) against the index, with the rules of
        :func:`~stockkit.engine.allocate_arrays` (``line_order`` defaults to one order).
        Only the records of the lines' SKUs are read. ``book=True`` also takes the
        allocated units off the index; otherwise this is a dry run."""
        sku = _int_list("line_sku", line_sku)
        n = len(sku)
        qty = _int_list("line_quantity", line_quantity, n)
        channel = _int_list("line_channel", line_channel, n)
        order = [0] * n if line_order is None else _int_list("line_order", line_order, n)
        prio = [0] * n if line_priority is None else _int_list("line_priority", line_priority, n)
        lat = [math.nan] * n if line_lat is None else [float(x) for x in np.asarray(line_lat).tolist()]
        lon = [math.nan] * n if line_lon is None else [float(x) for x in np.asarray(line_lon).tolist()]
        if len(lat) != n or len(lon) != n:
            raise InvalidArray(f"line_lat and line_lon must have {n} values, one per line")
        if not isinstance(policy, Policy):
            raise InvalidArray(f"policy must be a stockkit.engine.Policy, got {type(policy).__name__}")
        for s, q, c, la, lo in zip(sku, qty, channel, lat, lon):
            if not 0 <= s < self._n_skus:
                raise InvalidArray(f"line_sku holds {s}, not a SKU index in 0..{self._n_skus - 1}")
            if not 0 < q <= MAX_QUANTITY:
                raise InvalidQuantity(f"line_quantity holds {q}; every line needs 1..{MAX_QUANTITY} units")
            if not 0 <= c < self._n_channels:
                raise InvalidArray(f"line_channel holds {c}, not a channel index in 0..{self._n_channels - 1}")
            if math.isnan(la) != math.isnan(lo) or (not math.isnan(la) and not (abs(la) <= 90 and abs(lo) <= 180)):
                raise InvalidLocation("line_lat/line_lon must be valid coordinates, or NaN together")
        sequence = sorted(range(n), key=lambda i: (prio[i], order[i], i))
        orders: list[list[int]] = []
        for i in sequence:
            if orders and order[orders[-1][0]] == order[i] and prio[orders[-1][0]] == prio[i]:
                first = orders[-1][0]
                shared = channel[first] == channel[i] and (
                    policy.ship_complete is ShipComplete.OFF or (lat[first], lon[first]) == (lat[i], lon[i])
                    or (math.isnan(lat[first]) and math.isnan(lat[i])))
                if not shared:
                    raise InvalidArray(f"lines of order {order[i]} differ in channel or ship-to; they must share them")
                orders[-1].append(i)
            else:
                if any(order[o[0]] == order[i] for o in orders):
                    raise InvalidArray(f"lines of order {order[i]} differ in line_priority; they must share it")
                orders.append([i])
        # the (channel, ship-to) every line shares, when they do: their routes are one
        nearest = policy.route is RouteOrder.NEAREST
        routes = {(c, la, lo) if nearest and not math.isnan(la) else (c, None, None)
                  for c, la, lo in zip(channel, lat, lon)}
        one = None
        if len(routes) == 1:
            c, la, lo = routes.pop()
            one = (c, math.nan, math.nan) if la is None else (c, la, lo)
        left, held, unsorted = self._records_of(list(set(sku)), set(channel), one, policy)
        candidates = [self._candidates(sku[i], channel[i], lat[i], lon[i], held, unsorted, policy) for i in range(n)]
        records, unfilled, reason = allocate_scalar(
            [(i, sku[i], qty[i]) for i in range(n)], orders, candidates.__getitem__, left,
            self._backorder.__getitem__, policy)
        if book:
            # what the records took (back orders take nothing from stock)
            for line, _rank, wh, units, back in records:
                if back:
                    continue
                slot = self._slot(sku[line], wh)
                if slot >= 0:
                    self._avail[slot] -= units
                else:
                    self._extra[(sku[line], wh)] -= units
        return to_arrays((records, unfilled, reason))


def _int_list(name: str, values: Any, length: int | None = None) -> list[int]:
    array = np.asarray(values)
    if array.ndim != 1 or (array.size and array.dtype.kind not in "iu"):
        raise InvalidArray(f"{name} must be a one-dimensional array of integers, got {array.dtype} {array.shape}")
    if length is not None and array.shape[0] != length:
        raise InvalidArray(f"{name} has {array.shape[0]} values, expected {length} (one per line)")
    return [int(x) for x in array.tolist()]
