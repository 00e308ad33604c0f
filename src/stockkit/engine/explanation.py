"""Why a line was allocated as it was: :func:`explain`.

Computed from the inputs and the engine's result alone: the line's candidate warehouses in
policy order, what each held at the line's turn (the initial stock less what lines served
before it took), what each gave, and the rule that ended the search.
"""

from __future__ import annotations

import attrs
import numpy as np

from stockkit.engine.inputs import check_inputs
from stockkit.engine.policy import (
    AllocationArrays,
    Fill,
    Policy,
    Reason,
    RouteOrder,
    ShipComplete,
)
from stockkit.engine.problem import haversine_km
from stockkit.errors import InvalidArray

__all__ = ["CandidateStep", "LineExplanation", "explain"]

_DEFAULT_POLICY = Policy()

#: the rule that ended a line's search, by reason (and policy where it matters)
RULES = {
    "filled": "filled from stock",
    "backordered": "stock ran short; the rest is back ordered at the first warehouse",
    "stock_ran_out": "stock ran out; the line keeps what it got",
    "not_whole": "the warehouses could not fill the whole line, so it took nothing",
    "no_warehouse": "the line's channel has no warehouse",
    "no_single_warehouse": "split is off and no warehouse held the whole line",
    "order_incomplete": "another line of the order could not be filled, so the order took nothing",
    "ship_complete_refused": "ship complete is required and no warehouse held the whole order",
}


@attrs.frozen
class CandidateStep:
    """One candidate warehouse of a line, in the order the line tried them."""

    #: warehouse index
    warehouse: int
    #: position in the line's policy order (0 first)
    rank: int
    #: units of the line's SKU it held at the line's turn
    available: int
    #: units it gave from stock
    given: int
    #: units booked there as back order
    backordered: int


@attrs.frozen
class LineExplanation:
    """How one line was served; ``rule`` is a key of :data:`RULES` and ``text`` says it
    in words."""

    line: int
    sku: int
    quantity: int
    candidates: tuple[CandidateStep, ...]
    unfilled: int
    reason: Reason
    rule: str

    @property
    def text(self) -> str:
        """The rule that ended the search, in words."""
        return RULES[self.rule]


def _rule(reason: Reason, policy: Policy) -> str:
    if reason is Reason.ORDER_INCOMPLETE and policy.ship_complete is ShipComplete.REQUIRE and policy.fill is not Fill.ORDER:
        return "ship_complete_refused"
    if reason is Reason.SHORT:
        return "stock_ran_out" if policy.fill is Fill.PARTIAL else "not_whole"
    return {Reason.FILLED: "filled", Reason.BACKORDERED: "backordered", Reason.NO_WAREHOUSE: "no_warehouse",
            Reason.NO_SINGLE_WAREHOUSE: "no_single_warehouse", Reason.ORDER_INCOMPLETE: "order_incomplete"}[reason]


def _units_per_warehouse(result: AllocationArrays, chosen: np.ndarray, n_warehouses: int) -> np.ndarray:
    """Units of the ``chosen`` records per warehouse, summed exactly in ``int64`` (each sum is
    at most a record's stock or a line's quantity, so it fits)."""
    units = np.zeros(n_warehouses, np.int64)
    np.add.at(units, result.record_warehouse[chosen], result.record_quantity[chosen])
    return units


def explain(
    line: int,
    result: AllocationArrays,
    *,
    line_order, line_sku, line_quantity, line_channel,
    line_priority=None, line_lat=None, line_lon=None,
    stock_warehouse, stock_sku, stock_available,
    link_channel, link_warehouse, link_priority,
    warehouse_lat=None, warehouse_lon=None,
    sku_backorder=None,
    policy: Policy = _DEFAULT_POLICY,
    n_skus=None, n_warehouses=None, n_channels=None,
) -> LineExplanation:
    """Explain line ``line`` of ``result``, which :func:`~stockkit.engine.allocate_arrays`
    returned for the same keyword arguments.

    >>> import numpy as np
    >>> from stockkit.engine import allocate_arrays
    >>> args = dict(line_order=np.array([0, 1]), line_sku=np.array([0, 0]), line_quantity=np.array([4, 4]),
    ...             line_channel=np.array([0, 0]), stock_warehouse=np.array([0, 1]), stock_sku=np.array([0, 0]),
    ...             stock_available=np.array([3, 2]), link_channel=np.array([0, 0]),
    ...             link_warehouse=np.array([0, 1]), link_priority=np.array([0, 1]))
    >>> why = explain(1, allocate_arrays(**args), **args)
    >>> [(c.warehouse, c.available, c.given) for c in why.candidates], why.text
    ([(0, 0, 0), (1, 1, 1)], 'stock ran out; the line keeps what it got')
    """
    inp = check_inputs(
        line_order=line_order, line_sku=line_sku, line_quantity=line_quantity, line_channel=line_channel,
        line_priority=line_priority, line_lat=line_lat, line_lon=line_lon,
        stock_warehouse=stock_warehouse, stock_sku=stock_sku, stock_available=stock_available,
        link_channel=link_channel, link_warehouse=link_warehouse, link_priority=link_priority,
        warehouse_lat=warehouse_lat, warehouse_lon=warehouse_lon, sku_backorder=sku_backorder,
        policy=policy, n_skus=n_skus, n_warehouses=n_warehouses, n_channels=n_channels,
    )
    n = inp.line_order.shape[0]
    if not 0 <= line < n:
        raise InvalidArray(f"line {line} is not a line index in 0..{n - 1}")
    if result.line_reason.shape != (n,):
        raise InvalidArray("result does not belong to these lines: it has a different number of lines")
    sku, channel = int(inp.line_sku[line]), int(inp.line_channel[line])

    mine = inp.link_channel == channel
    wh, prio = inp.link_warehouse[mine], inp.link_priority[mine]
    order = np.lexsort((wh, prio))
    if policy.route is RouteOrder.NEAREST and not np.isnan(inp.line_lat[line]):
        dist = haversine_km(inp.line_lat[line], inp.line_lon[line], inp.warehouse_lat[wh[order]],
                            inp.warehouse_lon[wh[order]])
        order = order[np.argsort(dist, kind="stable")]
    route = wh[order].tolist()

    service = np.lexsort((np.arange(n), inp.line_order, inp.line_priority))
    turn = np.empty(n, np.int64)
    turn[service] = np.arange(n)
    earlier = (turn[result.record_line] < turn[line]) & ~result.record_backorder
    earlier &= inp.line_sku[result.record_line] == sku
    taken = _units_per_warehouse(result, earlier, inp.n_warehouses)
    initial = np.zeros(inp.n_warehouses, np.int64)
    of_sku = inp.stock_sku == sku
    initial[inp.stock_warehouse[of_sku]] = np.maximum(inp.stock_available[of_sku], 0)
    own = result.record_line == line
    given = _units_per_warehouse(result, own & ~result.record_backorder, inp.n_warehouses)
    backordered = _units_per_warehouse(result, own & result.record_backorder, inp.n_warehouses)
    steps = tuple(CandidateStep(w, rank, int(initial[w] - taken[w]), int(given[w]), int(backordered[w]))
                  for rank, w in enumerate(route))
    reason = Reason(int(result.line_reason[line]))
    return LineExplanation(line, sku, int(inp.line_quantity[line]), steps, int(result.line_unfilled[line]),
                           reason, _rule(reason, policy))
