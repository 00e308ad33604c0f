"""Seeded, realistic allocation workloads as the plain arrays of the engine's contract.

:func:`generate` draws a wave of orders and the stock and channel links they meet:

- **orders** of 1 to 10 lines, geometric with a mean of 1.82 lines (about 550,000 orders
  for 1,000,000 lines), in arrival order; 10 % are express (priority 0, served before
  the others, priority 1); each order has one channel (channel ``c`` takes a share
  proportional to ``1 / (c + 1)``) and one ship-to point in a box around Europe;
- **SKUs** by Zipf popularity (exponent 1: the ``r``-th most popular SKU is ordered in
  proportion to ``1 / r``), the popularity ranks shuffled over the SKU numbers;
- **quantities**: 62 % one unit, 22 % two, 9 % three, the rest 4 to 10;
- **stock** follows the demand of each (SKU, channel) pair: it sits in the channel's
  *home group* of warehouses (the warehouses are cut into ``channels`` consecutive
  groups), at 1 warehouse for a pair demanding at most 8 units and one more each time the
  demand doubles, split at random between them. SKUs are taken in random order until they
  carry a third of the demanded units: those get 40-90 % of their demand in stock (they
  run short), the others 105-160 % of it. SKUs nobody orders hold 1-20 units at one
  warehouse. The records come shuffled, as a database would return them;
- **channel links**, the only thing the topology changes:

  ``disjoint``
      each channel is linked to its home group alone, so no two channels share a
      warehouse; link priorities are a random order of the group;
  ``overlapping``
      each channel is linked to its home group and the next one (the last channel wraps
      to the first group), so every warehouse serves two channels, which rank it
      differently (a random order of the channel's warehouses);
  ``nearest``
      every channel is linked to every warehouse and lines try them nearest first from
      their order's ship-to point (``RouteOrder.NEAREST``); link priorities, a random
      order, only break ties.

Everything is drawn from ``numpy.random.default_rng`` streams spawned from ``seed``: the
same seed gives the same arrays, and the same lines and stock for every topology (the
links are drawn from a stream of their own), so topologies compare like for like.

>>> w = generate(lines=1_000, skus=200, warehouses=8, channels=2, topology="overlapping", seed=1)
>>> w.n_lines, w.n_channels, sorted(set(w.link_channel.tolist()))
(1000, 2, [0, 1])
>>> sorted(w.kwargs())[:4]
['line_channel', 'line_order', 'line_priority', 'line_quantity']
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import attrs
import numpy as np

from stockkit.errors import ValidationError

if TYPE_CHECKING:
    from stockkit.engine import Policy

__all__ = ["SIZES", "TOPOLOGIES", "Workload", "generate", "small_orders"]

#: The channel topologies :func:`generate` knows.
TOPOLOGIES = ("disjoint", "overlapping", "nearest")

#: Named workload sizes: keyword arguments of :func:`generate` (``M`` is the issue's).
SIZES: dict[str, dict[str, int]] = {
    "XS": {"lines": 20_000, "skus": 2_000, "warehouses": 20, "channels": 4},
    "S": {"lines": 100_000, "skus": 10_000, "warehouses": 100, "channels": 4},
    "M": {"lines": 1_000_000, "skus": 100_000, "warehouses": 100, "channels": 4},
    "L": {"lines": 10_000_000, "skus": 1_000_000, "warehouses": 1_000, "channels": 4},
}

_LINES_PER_ORDER_P = 0.55  # geometric: mean 1 / 0.55 = 1.82 lines per order
_MAX_LINES_PER_ORDER = 10
_EXPRESS_SHARE = 0.10
_QUANTITIES = np.arange(1, 11)
_QUANTITY_P = np.array([0.62, 0.22, 0.09] + [0.01] * 7)
_SHORT_SHARE = 1 / 3
_SHORT_STOCK = (0.40, 0.90)
_AMPLE_STOCK = (1.05, 1.60)
_LAT = (36.0, 60.0)
_LON = (-9.0, 27.0)


@attrs.frozen(eq=False)
class Workload:
    """One generated wave: the arguments of :func:`stockkit.engine.allocate_arrays`.

    The array attributes carry the contract's names; ``line_lat``/``line_lon`` and
    ``warehouse_lat``/``warehouse_lon`` are set only for the ``nearest`` topology, whose
    ``route`` is ``"nearest"`` (the others route by link priority).
    """

    topology: str
    route: str
    seed: int
    line_order: np.ndarray
    line_sku: np.ndarray
    line_quantity: np.ndarray
    line_channel: np.ndarray
    line_priority: np.ndarray
    line_lat: np.ndarray | None
    line_lon: np.ndarray | None
    stock_warehouse: np.ndarray
    stock_sku: np.ndarray
    stock_available: np.ndarray
    link_channel: np.ndarray
    link_warehouse: np.ndarray
    link_priority: np.ndarray
    warehouse_lat: np.ndarray | None
    warehouse_lon: np.ndarray | None
    n_skus: int
    n_warehouses: int
    n_channels: int

    @property
    def n_lines(self) -> int:
        """How many order lines."""
        return len(self.line_order)

    @property
    def n_orders(self) -> int:
        """How many orders (line_order is the arrival rank, so the last one plus one)."""
        return int(self.line_order[-1]) + 1 if self.n_lines else 0

    def kwargs(self) -> dict[str, Any]:
        """The keyword arguments of ``allocate_arrays`` except ``policy``."""
        names = [f.name for f in attrs.fields(Workload)][3:]
        return {name: getattr(self, name) for name in names if getattr(self, name) is not None}

    def policy(self, **changes: Any) -> Policy:
        """An engine :class:`~stockkit.engine.Policy` with this workload's route order,
        changed by ``changes`` (``fill=Fill.LINE``, ``split=False``, ...)."""
        from stockkit.engine import Policy, RouteOrder

        return Policy(route=RouteOrder(self.route), **changes)

    def head(self, lines: int) -> Workload:
        """The first whole orders with at most ``lines`` lines in all (at least one order),
        against the same stock and links: the slice the per-line loop is timed on."""
        if lines >= self.n_lines:
            return self
        cut = int(np.searchsorted(self.line_order, self.line_order[lines], side="left"))
        if cut == 0:
            cut = int(np.searchsorted(self.line_order, self.line_order[0], side="right"))
        line_fields = ("line_order", "line_sku", "line_quantity", "line_channel", "line_priority",
                       "line_lat", "line_lon")
        return attrs.evolve(self, **{name: None if getattr(self, name) is None else getattr(self, name)[:cut]
                                     for name in line_fields})

    def demand(self) -> np.ndarray:
        """Units ordered per SKU, an int64 array of ``n_skus``."""
        return np.bincount(self.line_sku, weights=self.line_quantity, minlength=self.n_skus).astype(np.int64)

    def stock(self) -> np.ndarray:
        """Units in stock per SKU over all warehouses, an int64 array of ``n_skus``."""
        return np.bincount(self.stock_sku, weights=np.maximum(self.stock_available, 0),
                           minlength=self.n_skus).astype(np.int64)

    def short_share(self) -> float:
        """The share of the demanded units that falls on SKUs whose demand exceeds their
        stock over all warehouses (about a third, by construction)."""
        demand = self.demand()
        total = demand.sum()
        return float(demand[demand > self.stock()].sum() / total) if total else 0.0


def generate(
    lines: int = 1_000_000,
    skus: int = 100_000,
    warehouses: int = 100,
    channels: int = 4,
    topology: str = "disjoint",
    seed: int = 0,
) -> Workload:
    """Draw a workload (see the module docstring for what it looks like).

    Raises :class:`~stockkit.errors.ValidationError` for an unknown topology or sizes that
    cannot make one (fewer warehouses than channels, a size below 1).
    """
    if topology not in TOPOLOGIES:
        raise ValidationError(f"unknown topology {topology!r}: use one of {', '.join(TOPOLOGIES)}")
    for name, value in (("lines", lines), ("skus", skus), ("warehouses", warehouses), ("channels", channels)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
            raise ValidationError(f"{name} must be a whole number of at least 1, got {value!r}")
    if warehouses < channels:
        raise ValidationError(f"every channel needs a warehouse of its own: {warehouses} warehouses "
                              f"for {channels} channels; give at least as many warehouses as channels")
    line_rng, stock_rng, link_rng = (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(3))

    line_order = _orders(line_rng, lines)
    n_orders = int(line_order[-1]) + 1
    share = 1.0 / np.arange(1, channels + 1)
    order_channel = line_rng.choice(channels, size=n_orders, p=share / share.sum())
    order_priority = np.where(line_rng.random(n_orders) < _EXPRESS_SHARE, 0, 1)
    order_lat = line_rng.uniform(*_LAT, n_orders)
    order_lon = line_rng.uniform(*_LON, n_orders)
    popularity = np.cumsum(1.0 / np.arange(1, skus + 1))
    rank = np.minimum(np.searchsorted(popularity, line_rng.random(lines) * popularity[-1], side="right"), skus - 1)
    line_sku = line_rng.permutation(skus)[rank]
    line_quantity = line_rng.choice(_QUANTITIES, size=lines, p=_QUANTITY_P)
    line_channel = order_channel[line_order]

    group_start = np.arange(channels) * warehouses // channels
    group_size = np.diff(np.append(group_start, warehouses))
    stock_warehouse, stock_sku, stock_available = _stock(stock_rng, line_sku, line_quantity, line_channel,
                                                         skus, warehouses, channels, group_start, group_size)
    link_channel, link_warehouse, link_priority = _links(link_rng, topology, warehouses, channels,
                                                         group_start, group_size)
    nearest = topology == "nearest"
    return Workload(
        topology=topology,
        route="nearest" if nearest else "priority",
        seed=seed,
        line_order=line_order,
        line_sku=line_sku,
        line_quantity=line_quantity,
        line_channel=line_channel,
        line_priority=order_priority[line_order],
        line_lat=order_lat[line_order] if nearest else None,
        line_lon=order_lon[line_order] if nearest else None,
        stock_warehouse=stock_warehouse,
        stock_sku=stock_sku,
        stock_available=stock_available,
        link_channel=link_channel,
        link_warehouse=link_warehouse,
        link_priority=link_priority,
        warehouse_lat=stock_rng.uniform(*_LAT, warehouses) if nearest else None,
        warehouse_lon=stock_rng.uniform(*_LON, warehouses) if nearest else None,
        n_skus=skus,
        n_warehouses=warehouses,
        n_channels=channels,
    )


def _orders(rng: np.random.Generator, lines: int) -> np.ndarray:
    """The arrival rank of each line's order: runs of 1-10 lines, geometric sizes."""
    sizes = np.empty(0, dtype=np.int64)
    while sizes.sum() < lines:
        more = int((lines - sizes.sum()) * _LINES_PER_ORDER_P * 1.1) + 16
        sizes = np.concatenate([sizes, np.minimum(rng.geometric(_LINES_PER_ORDER_P, more), _MAX_LINES_PER_ORDER)])
    ends = np.cumsum(sizes)
    n_orders = int(np.searchsorted(ends, lines)) + 1
    sizes = sizes[:n_orders]
    sizes[-1] -= ends[n_orders - 1] - lines
    return np.repeat(np.arange(n_orders, dtype=np.int64), sizes)


def _stock(rng: np.random.Generator, line_sku: np.ndarray, line_quantity: np.ndarray, line_channel: np.ndarray,
           skus: int, warehouses: int, channels: int, group_start: np.ndarray,
           group_size: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Stock records (warehouse, sku, available) following the demand of each (SKU, channel)."""
    pair_demand = np.bincount(line_sku * channels + line_channel, weights=line_quantity,
                              minlength=skus * channels).astype(np.int64)
    sku_demand = pair_demand.reshape(skus, channels).sum(axis=1)
    # SKUs in random order until they carry a third of the demand run short (a SKU counts
    # when the middle of its demand falls before the third, so the share lands close).
    walk = rng.permutation(skus)
    before = np.cumsum(sku_demand[walk]) - sku_demand[walk] / 2
    short = np.zeros(skus, dtype=bool)
    short[walk[before < _SHORT_SHARE * sku_demand.sum()]] = True
    factor = np.where(short, rng.uniform(*_SHORT_STOCK, skus), rng.uniform(*_AMPLE_STOCK, skus))

    pair = np.flatnonzero(pair_demand)
    pair_sku, pair_channel = pair // channels, pair % channels
    target = pair_demand[pair] * factor[pair_sku]
    target = np.where(short[pair_sku], np.floor(target), np.ceil(target)).astype(np.int64)
    size = group_size[pair_channel]
    count = np.minimum(1 + np.floor(np.log2(1 + pair_demand[pair] / 8)).astype(np.int64), size)
    owner = np.repeat(np.arange(len(pair)), count)
    first = np.cumsum(count) - count
    step = np.arange(len(owner)) - first[owner]
    start = rng.integers(0, size)
    warehouse = group_start[pair_channel][owner] + (start[owner] + step) % size[owner]
    weight = rng.exponential(size=len(owner))
    amount = np.floor(target[owner] * weight / np.bincount(owner, weights=weight)[owner]).astype(np.int64)
    amount[first] += target - np.bincount(owner, weights=amount, minlength=len(pair)).astype(np.int64)

    idle = np.flatnonzero(sku_demand == 0)
    sku = np.concatenate([pair_sku[owner], idle])
    warehouse = np.concatenate([warehouse, rng.integers(0, warehouses, len(idle))])
    amount = np.concatenate([amount, rng.integers(1, 21, len(idle))])
    shuffle = rng.permutation(len(sku))
    return warehouse[shuffle], sku[shuffle], amount[shuffle]


def _links(rng: np.random.Generator, topology: str, warehouses: int, channels: int, group_start: np.ndarray,
           group_size: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Channel-warehouse links (channel, warehouse, priority) of a topology."""
    link_channel, link_warehouse, link_priority = [], [], []
    for c in range(channels):
        if topology == "disjoint":
            linked = np.arange(group_start[c], group_start[c] + group_size[c])
        elif topology == "overlapping":
            nxt = (c + 1) % channels
            linked = np.unique(np.concatenate([np.arange(group_start[c], group_start[c] + group_size[c]),
                                               np.arange(group_start[nxt], group_start[nxt] + group_size[nxt])]))
        else:
            linked = np.arange(warehouses)
        link_channel.append(np.full(len(linked), c))
        link_warehouse.append(linked)
        link_priority.append(rng.permutation(len(linked)))
    return (np.concatenate(link_channel).astype(np.int64), np.concatenate(link_warehouse).astype(np.int64),
            np.concatenate(link_priority).astype(np.int64))


def small_orders(workload: Workload, count: int, *, max_lines: int = _MAX_LINES_PER_ORDER,
                 seed: int = 0) -> list[dict[str, np.ndarray]]:
    """``count`` single orders of 1 to ``max_lines`` lines (uniform), for placing one order at
    a time on a warm index of ``workload``'s stock.

    Each is a dict of the line arguments of ``allocate_arrays`` (``line_order`` all 0); SKUs
    and quantities are drawn from the workload's own lines, so they follow its popularity,
    and the ship-to point is set for the ``nearest`` topology.

    >>> w = generate(lines=500, skus=50, warehouses=4, channels=2, seed=3)
    >>> [len(o["line_sku"]) for o in small_orders(w, 3, seed=3)]
    [9, 4, 2]
    """
    rng = np.random.default_rng(seed)
    orders = []
    for _ in range(count):
        size = int(rng.integers(1, max_lines + 1))
        pick = rng.integers(0, workload.n_lines, size)
        order = {
            "line_order": np.zeros(size, dtype=np.int64),
            "line_sku": workload.line_sku[pick],
            "line_quantity": workload.line_quantity[pick],
            "line_channel": np.full(size, workload.line_channel[pick[0]]),
            "line_priority": np.full(size, workload.line_priority[pick[0]]),
        }
        if workload.line_lat is not None and workload.line_lon is not None:
            order["line_lat"] = np.full(size, workload.line_lat[pick[0]])
            order["line_lon"] = np.full(size, workload.line_lon[pick[0]])
        orders.append(order)
    return orders
