"""Planning orders with the allocation engine: from codes and objects to arrays and back.

The inventory describes a wave of orders (one order is a wave of one) as plain arrays,
runs :func:`stockkit.engine.allocate_arrays` on them, and turns the engine's records
into plain objects: a :class:`WavePlan` of :class:`OrderPlan` and :class:`LinePlan`
values that say, per line, what each warehouse gives, what is back ordered, what is left
unfilled and why. :meth:`WavePlan.explain` answers *why* for any line.

A :class:`Planner` keeps the engine warm between calls: codes keep their array indices,
so placing one order never renumbers the whole stock.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable, Mapping, Sequence

import attrs
import numpy as np

from stockkit.engine import (
    AllocationArrays,
    Fill,
    Policy,
    Reason,
    RouteOrder,
    ShipComplete,
    allocate_arrays,
)
from stockkit.errors import DuplicateCode, ValidationError
from stockkit.model import OrderLine
from stockkit.validation import (
    LineInput,
    check_code,
    check_latitude,
    check_lines,
    check_longitude,
    check_priority,
)

__all__ = [
    "Candidate",
    "Forecast",
    "LineExplanation",
    "LinePlan",
    "OrderPlan",
    "OrderRequest",
    "Planner",
    "Topology",
    "WavePlan",
    "check_requests",
    "haversine_km",
    "route_of",
]


@attrs.frozen
class OrderRequest:
    """An order to place: its lines, its channel, and what decides where it is served.

    ``ship_to`` is ``(latitude, longitude)``; it matters when the policy routes to the
    nearest warehouse. Orders with a lower ``priority`` are served first; orders of the
    same priority are served in the order given.
    """

    order_id: str
    channel: str
    lines: tuple[OrderLine, ...]
    ship_to: tuple[float, float] | None = None
    priority: int = 0


@attrs.frozen
class LinePlan:
    """What the plan gives one order line.

    ``taken`` lists ``(warehouse, units)`` drawn from stock in the order the warehouses
    were tried; ``backordered`` the units promised beyond stock, by warehouse; ``unfilled``
    the units not promised at all, and ``reason`` the rule that ended the search.
    """

    order_id: str
    line_id: str
    sku: str
    quantity: int
    taken: tuple[tuple[str, int], ...]
    backordered: tuple[tuple[str, int], ...]
    unfilled: int
    reason: Reason

    @property
    def filled(self) -> bool:
        """Whether every unit is promised, from stock or as a back order."""
        return self.unfilled == 0


@attrs.frozen
class OrderPlan:
    """The plan for one order: its lines, and whether the order is placed.

    An order is refused when the policy serves it whole or not at all and it cannot be
    served whole; otherwise it is placed with what its lines were given.
    """

    order_id: str
    channel: str
    lines: tuple[LinePlan, ...]
    placed: bool

    def line(self, line_id: str) -> LinePlan:
        """The plan of the line with this id."""
        for line in self.lines:
            if line.line_id == line_id:
                return line
        raise KeyError(line_id)


@attrs.frozen
class Topology:
    """Where the channels of a wave may draw stock: per channel, its active linked
    warehouses as ``(warehouse, link priority)``, and each warehouse's location."""

    routes: Mapping[str, Sequence[tuple[str, int]]]
    locations: Mapping[str, tuple[float, float]]


@attrs.frozen
class Candidate:
    """One warehouse a line could draw on: what it ``had`` for the line's SKU at the
    line's turn and what it ``gave``."""

    warehouse: str
    had: int
    gave: int


@attrs.frozen
class LineExplanation:
    """Why a line was given what it was given: the warehouses in the order they were
    tried, and the rule that ended the search, in words."""

    line: LinePlan
    candidates: tuple[Candidate, ...]
    rule: str


_RULES = {
    Reason.FILLED: "filled from stock",
    Reason.BACKORDERED: "the rest is back ordered at the first warehouse, as the SKU allows back orders",
    Reason.SHORT: "the channel's warehouses ran short",
    Reason.NO_WAREHOUSE: "the channel has no active warehouse",
    Reason.NO_SINGLE_WAREHOUSE: "the policy forbids splitting the line and no warehouse had all of it",
    Reason.ORDER_INCOMPLETE: "the order is served whole or not at all, and it could not be served whole",
}


@attrs.frozen
class WavePlan:
    """A plan for a wave of orders, in the order the orders were given.

    Besides the plan, it keeps what the plan was made from (the stock each warehouse
    had and the routes), so that :meth:`explain` can say why any line got what it got.
    """

    policy: Policy
    orders: tuple[OrderPlan, ...]
    requests: tuple[OrderRequest, ...] = attrs.field(repr=False, eq=False, default=())
    topology: Topology = attrs.field(repr=False, eq=False, factory=lambda: Topology({}, {}))
    available: Mapping[tuple[str, str], int] = attrs.field(repr=False, eq=False, factory=dict)

    def explain(self, order_id: str, line_id: str) -> LineExplanation:
        """Say why the line got what it got: each candidate warehouse in the order it was
        tried, what it had at the line's turn, what it gave, and the deciding rule."""
        position = {o.order_id: n for n, o in enumerate(self.orders)}
        number = position[order_id]
        request, order = self.requests[number], self.orders[number]
        line = order.line(line_id)
        turn = (request.priority, number)
        used: dict[str, int] = {}
        for other_number, (other_request, other) in enumerate(zip(self.requests, self.orders)):
            other_turn = (other_request.priority, other_number)
            if other_turn > turn:
                continue
            for other_line in other.lines:
                if other_turn == turn and other_line.line_id == line_id:
                    break  # lines of the same order after this one come later
                if other_line.sku == line.sku:
                    for warehouse, units in other_line.taken:
                        used[warehouse] = used.get(warehouse, 0) + units
        gave = dict(line.taken)
        candidates = tuple(
            Candidate(w, max(self.available.get((line.sku, w), 0), 0) - used.get(w, 0), gave.get(w, 0))
            for w in route_of(request, self.topology, self.policy)
        )
        return LineExplanation(line, candidates, _RULES[line.reason])

    @property
    def placed(self) -> tuple[OrderPlan, ...]:
        """The orders the plan places."""
        return tuple(order for order in self.orders if order.placed)

    @property
    def refused(self) -> tuple[OrderPlan, ...]:
        """The orders the plan refuses."""
        return tuple(order for order in self.orders if not order.placed)

    def order(self, order_id: str) -> OrderPlan:
        """The plan of the order with this id."""
        for order in self.orders:
            if order.order_id == order_id:
                return order
        raise KeyError(order_id)


def check_requests(
    orders: Iterable[OrderRequest | tuple[str, str, Iterable[LineInput]]],
) -> tuple[OrderRequest, ...]:
    """Return a wave's orders checked: codes, lines, ship-to coordinates and priorities
    valid, order ids unique. ``(order_id, channel, lines)`` triples are accepted too."""
    if isinstance(orders, (str, bytes)) or not isinstance(orders, Iterable):
        raise ValidationError(f"orders must be a list of OrderRequest, got {orders!r}")
    checked: list[OrderRequest] = []
    for number, order in enumerate(orders, start=1):
        if isinstance(order, tuple) and len(order) == 3:
            order = OrderRequest(order[0], order[1], order[2])  # type: ignore[arg-type]
        if not isinstance(order, OrderRequest):
            raise ValidationError(
                f"order {number} must be an OrderRequest or an (order_id, channel, lines) triple, got {order!r}"
            )
        ship_to = order.ship_to
        if ship_to is not None:
            if not isinstance(ship_to, tuple) or len(ship_to) != 2:
                raise ValidationError(f"order {number}'s ship_to must be (latitude, longitude), got {ship_to!r}")
            latitude, longitude = check_latitude(ship_to[0]), check_longitude(ship_to[1])
            ship_to = None if latitude is None or longitude is None else (latitude, longitude)
        checked.append(OrderRequest(
            check_code(order.order_id, f"order {number}'s id"),
            check_code(order.channel, f"order {number}'s channel code"),
            check_lines(order.lines),
            ship_to,
            check_priority(order.priority, f"order {number}'s priority"),
        ))
    if not checked:
        raise ValidationError("a wave needs at least one order")
    seen: set[str] = set()
    for order in checked:
        if order.order_id in seen:
            raise DuplicateCode(f"order id {order.order_id!r} appears twice in the wave; order ids are unique")
        seen.add(order.order_id)
    return tuple(checked)


def route_of(request: OrderRequest, topology: Topology, policy: Policy) -> list[str]:
    """The warehouses an order's lines try, in the order the policy tries them: link
    priority then code, or nearest to the ship-to first (then link priority and code)."""
    ranked = sorted(topology.routes.get(request.channel, ()), key=lambda wp: (wp[1], wp[0]))
    order = [w for w, _ in ranked]
    if policy.route is RouteOrder.NEAREST and request.ship_to is not None:
        rank = {w: n for n, w in enumerate(order)}
        order.sort(key=lambda w: (haversine_km(request.ship_to, topology.locations[w]), rank[w]))
    return order


def haversine_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance in kilometres between two ``(latitude, longitude)`` points."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(min(h, 1.0)))


class _Codes:
    """Stable array indices for codes, given out in first-seen order."""

    def __init__(self) -> None:
        self.index: dict[str, int] = {}
        self.codes: list[str] = []

    def of(self, code: str) -> int:
        number = self.index.get(code)
        if number is None:
            number = self.index[code] = len(self.codes)
            self.codes.append(code)
        return number

    def many(self, codes: Iterable[str]) -> np.ndarray:
        return np.fromiter((self.of(c) for c in codes), dtype=np.int64)


@attrs.frozen
class Forecast:
    """A plan made before the transaction from what the planner saw last, with the
    inputs it was made from."""

    topology: Topology
    available: Mapping[tuple[str, str], int]
    backorderable: frozenset[str]
    plan: WavePlan


class Planner:
    """Plans waves of orders with the allocation engine and keeps it warm for one
    inventory.

    Codes keep their array indices between calls, and the planner remembers the routes,
    the stock and the back-order rules it saw last. :meth:`forecast` plans from that
    memory before the transaction begins; :meth:`confirm`, given the stock read under lock, keeps the forecast when it
    was made from exactly that stock and plans again otherwise. So a plan is never made
    from stale stock, and the common case plans outside the transaction.
    """

    def __init__(self) -> None:
        self._skus = _Codes()
        self._warehouses = _Codes()
        self._channels = _Codes()
        self._topology: Topology | None = None
        self._levels: dict[tuple[str, str], int] = {}
        self._backorder: dict[str, bool] = {}
        #: How many forecasts were made from stock that had changed and were planned again.
        self.replans = 0
        # code numbering must not interleave between threads planning at once
        self._lock = threading.Lock()

    def forecast(self, orders: Sequence[OrderRequest], *, policy: Policy) -> Forecast | None:
        """Plan from the routes, stock and back-order rules seen last, or ``None`` when
        some of what the orders depend on was never seen."""
        topology = self._topology
        if topology is None:
            return None
        keys = self.candidate_keys(orders, topology)
        skus = {line.sku for order in orders for line in order.lines}
        if any(key not in self._levels for key in keys) or any(sku not in self._backorder for sku in skus):
            return None
        available = {key: self._levels[key] for key in keys}
        backorderable = frozenset(sku for sku in skus if self._backorder[sku])
        plan = self.plan(orders, topology, available, policy=policy, backorderable=backorderable)
        return Forecast(topology, available, backorderable, plan)

    def confirm(
        self,
        forecast: Forecast | None,
        orders: Sequence[OrderRequest],
        topology: Topology,
        available: Mapping[tuple[str, str], int],
        *,
        policy: Policy,
        backorderable: frozenset[str] = frozenset(),
    ) -> WavePlan:
        """The plan for the routes and stock read under lock: the forecast if it was made
        from exactly these, else a new plan."""
        self._topology = topology
        self._levels.update(available)
        self._backorder.update((line.sku, line.sku in backorderable) for order in orders for line in order.lines)
        if forecast is not None:
            if (forecast.topology, forecast.available, forecast.backorderable) == (topology, available, backorderable):
                return forecast.plan
            self.replans += 1
        return self.plan(orders, topology, available, policy=policy, backorderable=backorderable)

    def booked(self, plan: WavePlan) -> None:
        """Remember that the placed orders of ``plan`` took their stock."""
        for order in plan.placed:
            for line in order.lines:
                for warehouse, units in line.taken:
                    key = (line.sku, warehouse)
                    if key in self._levels:
                        self._levels[key] -= units

    def forget(self) -> None:
        """Drop what the planner remembers of routes and stock (after a failed write)."""
        self._topology = None
        self._levels.clear()
        self._backorder.clear()

    def candidate_keys(self, orders: Sequence[OrderRequest], topology: Topology) -> list[tuple[str, str]]:
        """The ``(sku, warehouse)`` levels the plan may draw on, in canonical order."""
        keys = {
            (line.sku, warehouse)
            for order in orders
            for warehouse, _ in topology.routes.get(order.channel, ())
            for line in order.lines
        }
        return sorted(keys)

    def plan(
        self,
        orders: Sequence[OrderRequest],
        topology: Topology,
        available: Mapping[tuple[str, str], int],
        *,
        policy: Policy,
        backorderable: frozenset[str] = frozenset(),
    ) -> WavePlan:
        """Plan ``orders`` (checked, in arrival order) against ``available`` units per
        ``(sku, warehouse)``; SKUs in ``backorderable`` accept back orders."""
        with self._lock:
            return self._plan(orders, topology, available, policy, backorderable)

    def _plan(
        self,
        orders: Sequence[OrderRequest],
        topology: Topology,
        available: Mapping[tuple[str, str], int],
        policy: Policy,
        backorderable: frozenset[str],
    ) -> WavePlan:
        lines = [(o, n, line) for n, o in enumerate(orders) for line in o.lines]
        warehouse_ids = self._warehouses
        # rank each channel's warehouses by (link priority, code), so that ties on the
        # link priority go by warehouse code whatever the array indices are
        link_channel, link_warehouse, link_rank = [], [], []
        for channel in sorted({o.channel for o in orders}):
            ranked = sorted(topology.routes.get(channel, ()), key=lambda wp: (wp[1], wp[0]))
            for rank, (warehouse, _) in enumerate(ranked):
                link_channel.append(self._channels.of(channel))
                link_warehouse.append(warehouse_ids.of(warehouse))
                link_rank.append(rank)
        stock_keys = [k for k, units in available.items() if units > 0]
        stock_sku = self._skus.many(k[0] for k in stock_keys)
        stock_warehouse = warehouse_ids.many(k[1] for k in stock_keys)
        stock_available = np.fromiter((available[k] for k in stock_keys), dtype=np.int64, count=len(stock_keys))
        line_sku = self._skus.many(line.sku for _, _, line in lines)
        line_channel = self._channels.many(o.channel for o, _, _ in lines)
        nearest = policy.route is RouteOrder.NEAREST
        coordinates = {}
        if nearest:
            coordinates = {
                "line_lat": np.array([o.ship_to[0] if o.ship_to else math.nan for o, _, _ in lines], dtype=np.float64),
                "line_lon": np.array([o.ship_to[1] if o.ship_to else math.nan for o, _, _ in lines], dtype=np.float64),
            }
            warehouse_lat = np.zeros(len(warehouse_ids.codes))
            warehouse_lon = np.zeros(len(warehouse_ids.codes))
            for code, (lat, lon) in topology.locations.items():
                if code in warehouse_ids.index:
                    warehouse_lat[warehouse_ids.index[code]] = lat
                    warehouse_lon[warehouse_ids.index[code]] = lon
            coordinates.update(warehouse_lat=warehouse_lat, warehouse_lon=warehouse_lon)
        backorder = np.zeros(len(self._skus.codes), dtype=bool)
        for sku in backorderable:
            if sku in self._skus.index:
                backorder[self._skus.index[sku]] = True
        result = allocate_arrays(
            line_order=np.fromiter((n for _, n, _ in lines), dtype=np.int64, count=len(lines)),
            line_sku=line_sku,
            line_quantity=np.fromiter((line.quantity for _, _, line in lines), dtype=np.int64, count=len(lines)),
            line_channel=line_channel,
            line_priority=np.fromiter((o.priority for o, _, _ in lines), dtype=np.int64, count=len(lines)),
            stock_warehouse=stock_warehouse,
            stock_sku=stock_sku,
            stock_available=stock_available,
            link_channel=np.array(link_channel, dtype=np.int64),
            link_warehouse=np.array(link_warehouse, dtype=np.int64),
            link_priority=np.array(link_rank, dtype=np.int64),
            sku_backorder=backorder,
            policy=policy,
            n_skus=len(self._skus.codes),
            n_warehouses=len(warehouse_ids.codes),
            n_channels=len(self._channels.codes),
            **coordinates,
        )
        return self._to_objects(orders, lines, result, policy, topology, available)

    def _to_objects(
        self,
        orders: Sequence[OrderRequest],
        lines: Sequence[tuple[OrderRequest, int, OrderLine]],
        result: AllocationArrays,
        policy: Policy,
        topology: Topology,
        available: Mapping[tuple[str, str], int],
    ) -> WavePlan:
        taken: list[list[tuple[str, int]]] = [[] for _ in lines]
        backordered: list[list[tuple[str, int]]] = [[] for _ in lines]
        codes = self._warehouses.codes
        for line, warehouse, units, back in zip(
            result.record_line.tolist(), result.record_warehouse.tolist(),
            result.record_quantity.tolist(), result.record_backorder.tolist(),
        ):
            (backordered if back else taken)[line].append((codes[warehouse], units))
        whole = policy.fill is Fill.ORDER or policy.ship_complete is ShipComplete.REQUIRE
        per_order: list[list[LinePlan]] = [[] for _ in orders]
        for i, ((order, number, line), unfilled, reason) in enumerate(
            zip(lines, result.line_unfilled.tolist(), result.line_reason.tolist())
        ):
            per_order[number].append(LinePlan(
                order.order_id, line.line_id, line.sku, line.quantity,
                tuple(taken[i]), tuple(backordered[i]), unfilled, Reason(reason),
            ))
        plans = []
        for order, line_plans in zip(orders, per_order):
            placed = not (whole and any(not lp.filled for lp in line_plans))
            plans.append(OrderPlan(order.order_id, order.channel, tuple(line_plans), placed))
        return WavePlan(policy, tuple(plans), tuple(orders), topology, dict(available))
