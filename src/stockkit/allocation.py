"""Deciding which warehouse serves which order line: the plain sequential allocator.

This loop is the definition of allocation. Lines are served in order; each draws on the
warehouses of its route in order, taking what each can give, and splits over several
warehouses when the first is short. The vectorised engine must reproduce its result
exactly.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import attrs

__all__ = ["LineRequest", "LineAllocation", "allocate_sequential"]


@attrs.frozen
class LineRequest:
    """A line to allocate: ``quantity`` units of ``sku``."""

    line_id: str
    sku: str
    quantity: int


@attrs.frozen
class LineAllocation:
    """Where a line's units were found: ``taken`` lists ``(warehouse, units)`` in route
    order, and ``unfilled`` the units no warehouse could give."""

    line_id: str
    sku: str
    quantity: int
    taken: tuple[tuple[str, int], ...]
    unfilled: int

    @property
    def filled(self) -> bool:
        """Whether every unit of the line was found."""
        return self.unfilled == 0


def allocate_sequential(
    lines: Sequence[LineRequest],
    route: Sequence[str],
    available: Mapping[tuple[str, str], int],
    *,
    split: bool = True,
) -> list[LineAllocation]:
    """Allocate lines first come, first served over the warehouses of ``route``.

    ``available`` maps ``(sku, warehouse)`` to the units that can be promised there
    (missing keys have none). Each line takes from the route's warehouses in order; with
    ``split=False`` a line takes only from the first warehouse that can give all of it.
    The input mapping is not changed.

    >>> allocate_sequential([LineRequest("1", "A", 5)], ["w1", "w2"], {("A", "w1"): 3, ("A", "w2"): 9})
    [LineAllocation(line_id='1', sku='A', quantity=5, taken=(('w1', 3), ('w2', 2)), unfilled=0)]
    """
    left = dict(available)
    result = []
    for line in lines:
        need = line.quantity
        taken: list[tuple[str, int]] = []
        for warehouse in route:
            if need == 0:
                break
            have = max(left.get((line.sku, warehouse), 0), 0)
            if not split and have < need:
                continue
            give = min(have, need)
            if give:
                taken.append((warehouse, give))
                left[(line.sku, warehouse)] = have - give
                need -= give
        result.append(LineAllocation(line.line_id, line.sku, line.quantity, tuple(taken), need))
    return result
