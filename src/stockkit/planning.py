"""Planning orders with the allocation engine: from codes and objects to arrays and back.

The inventory describes a wave of orders (one order is a wave of one) as plain arrays,
runs :func:`stockkit.engine.allocate_arrays` on them, and turns the engine's records
into plain objects: a :class:`WavePlan` of :class:`OrderPlan` and :class:`LinePlan`
values that say, per line, what each warehouse gives, what is back ordered, what is left
unfilled and why. :meth:`WavePlan.explain` answers *why* for any line.

A :class:`Planner` keeps what it saw last (routes, stock, back-order rules) so that a
wave can be planned before its transaction begins; the arrays it hands the engine cover
only the stock the wave may draw on, never the whole inventory.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

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
from stockkit.engine import explanation as engine_explanation
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
    "plan_wave",
    "replan",
    "wave_arrays",
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
    """One warehouse a line could draw on, in the order the line tried them: what it
    ``had`` of the line's SKU at the line's turn, what it ``gave`` from stock and what
    was ``backordered`` there."""

    warehouse: str
    had: int
    gave: int
    backordered: int = 0


@attrs.frozen
class LineExplanation:
    """Why a line was given what it was given: the warehouses in the order they were
    tried, and the rule that ended the search, in words."""

    line: LinePlan
    candidates: tuple[Candidate, ...]
    rule: str


@attrs.frozen
class WavePlan:
    """A plan for a wave of orders, in the order the orders were given.

    Besides the plan, it keeps what the plan was made from (the orders, the routes, the
    stock and which SKUs allow back orders), so that :meth:`explain` can say why any
    line got what it got.
    """

    policy: Policy
    orders: tuple[OrderPlan, ...]
    requests: tuple[OrderRequest, ...] = attrs.field(repr=False, eq=False, default=())
    topology: Topology = attrs.field(repr=False, eq=False, factory=lambda: Topology({}, {}))
    available: Mapping[tuple[str, str], int] = attrs.field(repr=False, eq=False, factory=dict)
    backorderable: frozenset[str] = attrs.field(repr=False, eq=False, default=frozenset())

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

    def explain(self, order_id: str, line_id: str) -> LineExplanation:
        """Say why the line got what it got: each candidate warehouse in the order it was
        tried, what it had at the line's turn, what it gave, and the deciding rule (see
        :func:`stockkit.engine.explanation.explain`, which this calls)."""
        arrays, codes = wave_arrays(self.requests, self.topology, self.available, self.policy, self.backorderable)
        index = {(o.order_id, line.line_id): n for n, (o, line) in enumerate(_lines(self.orders))}
        number = index[(order_id, line_id)]
        why = engine_explanation.explain(number, _result_arrays(self.orders, codes), **arrays)
        line = self.order(order_id).line(line_id)
        demand = _demand(self.requests)[line.sku]

        def had(warehouse: str, seen: int) -> int:
            # the engine saw stock cut down to the wave's demand (see wave_arrays)
            stock = max(self.available.get((line.sku, warehouse), 0), 0)
            return seen + stock - min(stock, demand)

        warehouses = codes["warehouses"]
        candidates = tuple(
            Candidate(warehouses[step.warehouse], had(warehouses[step.warehouse], step.available), step.given,
                      step.backordered)
            for step in why.candidates
        )
        return LineExplanation(line, candidates, why.text)


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


def _lines(orders: Sequence[OrderRequest] | Sequence[OrderPlan]) -> list[tuple[Any, Any]]:
    """Every ``(order, line)`` of a wave, in the order given."""
    return [(order, line) for order in orders for line in order.lines]


def wave_arrays(
    orders: Sequence[OrderRequest],
    topology: Topology,
    available: Mapping[tuple[str, str], int],
    policy: Policy,
    backorderable: frozenset[str] = frozenset(),
) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The keyword arguments of :func:`~stockkit.engine.allocate_arrays` for a wave, and
    the codes behind its indices (``"skus"``, ``"warehouses"``, ``"channels"``).

    Only the stock in ``available`` (the levels the wave may draw on) becomes arrays.
    Codes are numbered in sorted order, so the engine's ties on warehouse index are ties
    on warehouse code; each channel's warehouses get their rank by (link priority,
    code) as their priority.
    """
    lines = _lines(orders)
    skus = sorted({line.sku for _, line in lines} | {sku for sku, _ in available})
    channels = sorted({order.channel for order in orders})
    warehouses = sorted({w for c in channels for w, _ in topology.routes.get(c, ())} | {w for _, w in available})
    sku_of = {code: n for n, code in enumerate(skus)}
    warehouse_of = {code: n for n, code in enumerate(warehouses)}
    channel_of = {code: n for n, code in enumerate(channels)}
    links = [
        (channel_of[channel], warehouse_of[warehouse], rank)
        for channel in channels
        for rank, (warehouse, _) in enumerate(sorted(topology.routes.get(channel, ()), key=lambda wp: (wp[1], wp[0])))
    ]
    # Stock beyond a SKU's whole demand in the wave never runs out, so it is cut down to that
    # demand: the plan is the same, and the totals stay small enough for the array kernels.
    demand = _demand(orders)
    stock = [
        (sku_of[sku], warehouse_of[w], min(units, demand.get(sku, 0)))
        for (sku, w), units in available.items()
        if units > 0 and sku in demand
    ]
    n = len(lines)
    arrays: dict[str, Any] = {
        "line_order": np.repeat(np.arange(len(orders), dtype=np.int64), [len(o.lines) for o in orders]),
        "line_sku": np.fromiter((sku_of[line.sku] for _, line in lines), np.int64, n),
        "line_quantity": np.fromiter((line.quantity for _, line in lines), np.int64, n),
        "line_channel": np.fromiter((channel_of[o.channel] for o, _ in lines), np.int64, n),
        "line_priority": np.fromiter((o.priority for o, _ in lines), np.int64, n),
        "stock_sku": np.array([s for s, _, _ in stock], np.int64),
        "stock_warehouse": np.array([w for _, w, _ in stock], np.int64),
        "stock_available": np.array([u for _, _, u in stock], np.int64),
        "link_channel": np.array([c for c, _, _ in links], np.int64),
        "link_warehouse": np.array([w for _, w, _ in links], np.int64),
        "link_priority": np.array([r for _, _, r in links], np.int64),
        "sku_backorder": np.array([code in backorderable for code in skus], bool),
        "policy": policy,
        "n_skus": len(skus),
        "n_warehouses": len(warehouses),
        "n_channels": len(channels),
    }
    if policy.route is RouteOrder.NEAREST:
        ship_to = [o.ship_to or (math.nan, math.nan) for o, _ in lines]
        arrays["line_lat"] = np.array([p[0] for p in ship_to], np.float64)
        arrays["line_lon"] = np.array([p[1] for p in ship_to], np.float64)
        # every warehouse in a route is active, so it has a location
        arrays["warehouse_lat"] = np.array([topology.locations[w][0] for w in warehouses], np.float64)
        arrays["warehouse_lon"] = np.array([topology.locations[w][1] for w in warehouses], np.float64)
    return arrays, {"skus": skus, "warehouses": warehouses, "channels": channels}


def _result_arrays(plans: Sequence[OrderPlan], codes: Mapping[str, list[str]]) -> AllocationArrays:
    """The engine's result arrays for a plan, rebuilt from its objects."""
    warehouse_of = {code: n for n, code in enumerate(codes["warehouses"])}
    lines = [line for _, line in _lines(plans)]
    records = [
        (n, warehouse_of[w], units, back)
        for n, line in enumerate(lines)
        for back, pairs in ((False, line.taken), (True, line.backordered))
        for w, units in pairs
    ]
    return AllocationArrays(
        np.array([r[0] for r in records], np.int64),
        np.array([r[1] for r in records], np.int64),
        np.array([r[2] for r in records], np.int64),
        np.array([r[3] for r in records], bool),
        np.array([line.unfilled for line in lines], np.int64),
        np.array([int(line.reason) for line in lines], np.uint8),
    )


#: Waves of at least this many lines may use the compiled kernel (when numba is installed).
_COMPILED_FROM_LINES = 20_000


def _demand(orders: Sequence[OrderRequest]) -> dict[str, int]:
    """Units of each SKU the wave asks for."""
    demand: dict[str, int] = {}
    for order in orders:
        for line in order.lines:
            demand[line.sku] = demand.get(line.sku, 0) + line.quantity
    return demand


def plan_wave(
    orders: Sequence[OrderRequest],
    topology: Topology,
    available: Mapping[tuple[str, str], int],
    policy: Policy,
    backorderable: frozenset[str] = frozenset(),
) -> WavePlan:
    """Plan ``orders`` (checked, in arrival order) against ``available`` units per
    ``(sku, warehouse)``; SKUs in ``backorderable`` accept back orders."""
    arrays, codes = wave_arrays(orders, topology, available, policy, backorderable)
    # numba pays for its import and compiled-code load only on big waves; a shop's everyday
    # orders stay on numpy, so the first order of a process is quick too (either choice
    # serves waves of any size exactly: the engine takes its Python kernel beyond int64 sums)
    kernel = "auto" if len(arrays["line_sku"]) >= _COMPILED_FROM_LINES else "numpy"
    result = allocate_arrays(**arrays, kernel=kernel)
    warehouses = codes["warehouses"]
    lines = _lines(orders)
    taken: list[list[tuple[str, int]]] = [[] for _ in lines]
    backordered: list[list[tuple[str, int]]] = [[] for _ in lines]
    for line, warehouse, units, back in zip(
        result.record_line.tolist(), result.record_warehouse.tolist(),
        result.record_quantity.tolist(), result.record_backorder.tolist(),
    ):
        (backordered if back else taken)[line].append((warehouses[warehouse], units))
    whole = policy.fill is Fill.ORDER or policy.ship_complete is ShipComplete.REQUIRE
    plans: list[OrderPlan] = []
    start = 0
    unfilled, reasons = result.line_unfilled.tolist(), result.line_reason.tolist()
    for order in orders:
        line_plans = tuple(
            LinePlan(order.order_id, line.line_id, line.sku, line.quantity, tuple(taken[i]), tuple(backordered[i]),
                     unfilled[i], Reason(reasons[i]))
            for i, line in enumerate(order.lines, start=start)
        )
        start += len(order.lines)
        placed = not (whole and any(not lp.filled for lp in line_plans))
        plans.append(OrderPlan(order.order_id, order.channel, line_plans, placed))
    return WavePlan(policy, tuple(plans), tuple(orders), topology, dict(available), backorderable)


def replan(
    plan: WavePlan, available: Mapping[tuple[str, str], int], backorderable: frozenset[str]
) -> tuple[WavePlan, int]:
    """``plan`` (same orders and routes) for new ``available`` stock and back-order rules,
    and how many orders were planned again.

    Only orders that draw on a SKU whose stock or rule changed are planned again, with
    every order linked to them through a shared SKU (orders that share no SKU with them
    draw on other stock, and order-level rules only join SKUs of one order), in their
    wave order; the other orders keep their plans, which a whole new plan would repeat."""
    changed = {key[0] for key, units in available.items() if plan.available.get(key) != units}
    changed |= {key[0] for key in plan.available.keys() - available.keys()}
    changed |= plan.backorderable ^ backorderable
    orders = plan.requests
    orders_of: dict[str, list[int]] = {}
    for i, order in enumerate(orders):
        for line in order.lines:
            orders_of.setdefault(line.sku, []).append(i)
    # orders reached from a changed SKU, through the SKUs of the orders reached
    affected: set[int] = set()
    todo = list(changed)
    while todo:
        for i in orders_of.get(todo.pop(), ()):
            if i not in affected:
                affected.add(i)
                fresh_skus = {line.sku for line in orders[i].lines} - changed
                changed |= fresh_skus
                todo.extend(fresh_skus)
    picked = sorted(affected)
    keys = {key: units for key, units in available.items() if key[0] in changed}
    fresh = plan_wave([orders[i] for i in picked], plan.topology, keys, plan.policy, backorderable & changed)
    plans = list(plan.orders)
    for i, order_plan in zip(picked, fresh.orders):
        plans[i] = order_plan
    return WavePlan(plan.policy, tuple(plans), orders, plan.topology, dict(available), backorderable), len(picked)


@attrs.frozen
class Forecast:
    """A plan made before the transaction from what the planner saw last, with the
    inputs it was made from."""

    topology: Topology
    available: Mapping[tuple[str, str], int]
    backorderable: frozenset[str]
    plan: WavePlan


class Planner:
    """Plans waves of orders for one inventory, and remembers what it saw last.

    The planner remembers the routes, the stock and the back-order rules it saw last.
    :meth:`forecast` plans from that memory before the transaction begins;
    :meth:`confirm`, given what was read under lock, keeps the forecast when it was made
    from exactly that and plans again otherwise. So a plan is never made from stale
    stock, and the common case plans outside the transaction.
    """

    def __init__(self) -> None:
        self._routes: dict[str, Sequence[tuple[str, int]]] = {}
        self._locations: dict[str, tuple[float, float]] = {}
        self._levels: dict[tuple[str, str], int] = {}
        self._backorder: dict[str, bool] = {}
        #: How many forecasts were made from stock that had changed and were planned again.
        self.replans = 0
        #: How many orders those plans covered: only the orders the change could affect.
        self.replanned_orders = 0

    @staticmethod
    def candidate_keys(orders: Sequence[OrderRequest], topology: Topology) -> list[tuple[str, str]]:
        """The ``(sku, warehouse)`` levels a wave may draw on, in canonical order."""
        keys = {
            (line.sku, warehouse)
            for order in orders
            for warehouse, _ in topology.routes.get(order.channel, ())
            for line in order.lines
        }
        return sorted(keys)

    def forecast(self, orders: Sequence[OrderRequest], *, policy: Policy) -> Forecast | None:
        """Plan from the routes, stock and back-order rules seen last, or ``None`` when
        some of what the orders depend on was never seen."""
        channels = sorted({order.channel for order in orders})
        if any(channel not in self._routes for channel in channels):
            return None
        routes = {channel: self._routes[channel] for channel in channels}
        warehouses = {w for route in routes.values() for w, _ in route}
        if any(w not in self._locations for w in warehouses):
            return None
        topology = Topology(routes, {w: self._locations[w] for w in warehouses})
        keys = self.candidate_keys(orders, topology)
        skus = {line.sku for order in orders for line in order.lines}
        if any(key not in self._levels for key in keys) or any(sku not in self._backorder for sku in skus):
            return None
        available = {key: self._levels[key] for key in keys}
        backorderable = frozenset(sku for sku in skus if self._backorder[sku])
        return Forecast(topology, available, backorderable, plan_wave(orders, topology, available, policy,
                                                                      backorderable))

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
        from exactly these; else, when only stock or back-order rules changed, the forecast
        with the orders they could affect planned again (see :func:`replan`); else a new plan."""
        self._routes.update(topology.routes)
        self._locations.update(topology.locations)
        self._levels.update(available)
        self._backorder.update((line.sku, line.sku in backorderable) for order in orders for line in order.lines)
        if forecast is not None:
            if (forecast.topology, forecast.available, forecast.backorderable) == (topology, available, backorderable):
                return forecast.plan
            self.replans += 1
            if forecast.topology == topology and forecast.available.keys() == available.keys():
                plan, count = replan(forecast.plan, available, backorderable)
                self.replanned_orders += count
                return plan
            self.replanned_orders += len(orders)
        return plan_wave(orders, topology, available, policy, backorderable)

    def booked(self, plan: WavePlan) -> None:
        """Remember that the placed orders of ``plan`` took their stock."""
        for order in plan.placed:
            for line in order.lines:
                for warehouse, units in line.taken:
                    key = (line.sku, warehouse)
                    if key in self._levels:
                        self._levels[key] -= units
