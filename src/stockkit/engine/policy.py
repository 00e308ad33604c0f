"""The vocabulary of the allocation engine: policies, per-line reasons and the result arrays."""

from __future__ import annotations

import enum
from typing import NamedTuple

import attrs
import numpy as np

__all__ = ["AllocationArrays", "Fill", "Policy", "Reason", "RouteOrder", "ShipComplete"]


class RouteOrder(enum.Enum):
    """The order in which a line tries the warehouses of its channel."""

    #: link priority ascending, ties by warehouse index
    PRIORITY = "priority"
    #: haversine distance from the line's ship-to ascending, ties by link priority then
    #: warehouse index; a line without ship-to (NaN) uses the priority order
    NEAREST = "nearest"


class ShipComplete(enum.Enum):
    """Whether an order should come from one warehouse."""

    #: each line on its own
    OFF = "off"
    #: one warehouse holding the whole order when there is one, else the normal rules
    PREFER = "prefer"
    #: one warehouse holding the whole order, else the order is refused
    REQUIRE = "require"


class Fill(enum.Enum):
    """What happens to a line or order that cannot be filled whole."""

    #: a short line keeps what it got
    PARTIAL = "partial"
    #: a line that cannot be filled whole takes nothing
    LINE = "line"
    #: an order with any line that cannot be filled whole takes nothing
    ORDER = "order"


class Reason(enum.IntEnum):
    """The outcome of one line, stored as ``uint8`` in :attr:`AllocationArrays.line_reason`."""

    #: every unit allocated from stock
    FILLED = 0
    #: filled, part or all of it as back order
    BACKORDERED = 1
    #: the line's warehouses ran short (partial fill, or refused by ``Fill.LINE``)
    SHORT = 2
    #: the line's channel has no warehouse
    NO_WAREHOUSE = 3
    #: split forbidden and no warehouse could give the whole line
    NO_SINGLE_WAREHOUSE = 4
    #: refused because its order could not be served whole (``Fill.ORDER``,
    #: ``ShipComplete.REQUIRE``)
    ORDER_INCOMPLETE = 5


@attrs.frozen
class Policy:
    """How lines are allocated; the default splits lines over the priority route and keeps
    partial fills.

    >>> Policy(split=False, fill=Fill.ORDER)
    Policy(route=<RouteOrder.PRIORITY: 'priority'>, split=False, ship_complete=<ShipComplete.OFF: 'off'>, fill=<Fill.ORDER: 'order'>)
    """

    route: RouteOrder = attrs.field(default=RouteOrder.PRIORITY, validator=attrs.validators.instance_of(RouteOrder))
    split: bool = attrs.field(default=True, validator=attrs.validators.instance_of(bool))
    ship_complete: ShipComplete = attrs.field(
        default=ShipComplete.OFF, validator=attrs.validators.instance_of(ShipComplete)
    )
    fill: Fill = attrs.field(default=Fill.PARTIAL, validator=attrs.validators.instance_of(Fill))


class AllocationArrays(NamedTuple):
    """The engine's result: allocation records sorted by line, then candidate rank (a
    back-order record after the stock record at the same warehouse), and one unfilled
    quantity and :class:`Reason` per input line."""

    #: int64 (r,): index into the input lines
    record_line: np.ndarray
    #: int64 (r,): warehouse index
    record_warehouse: np.ndarray
    #: int64 (r,), every value > 0
    record_quantity: np.ndarray
    #: bool (r,): True for units booked beyond stock
    record_backorder: np.ndarray
    #: int64 (n,): units of each line not allocated
    line_unfilled: np.ndarray
    #: uint8 (n,): :class:`Reason` values
    line_reason: np.ndarray

    @classmethod
    def placed(cls, dest: np.ndarray, line: np.ndarray, warehouse: np.ndarray, quantity: np.ndarray,
               backorder: np.ndarray, unfilled: np.ndarray, reason: np.ndarray) -> AllocationArrays:
        """The result with record ``i`` of the given columns at position ``dest[i]`` (a
        kernel's way to put records in the contract's order without sorting them)."""
        columns = []
        for column in (line, warehouse, quantity, backorder):
            out = np.empty_like(column)
            out[dest] = column
            columns.append(out)
        return cls(*columns, unfilled, reason)
