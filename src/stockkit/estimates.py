"""Availability estimates: when a quantity of a SKU can be had, and what is incoming.

The built-in estimator (:mod:`stockkit.default_plugins.estimator`) answers with
:func:`covering_date`: the earliest expected date by which the available quantity plus
the open replenishments expected up to that date cover the quantity; failing that, with
the label of the product's assigned estimate. :func:`earliest_incoming` is the
"incoming" display.

>>> import datetime as dt
>>> june = [(dt.date(2025, 6, 9), 5), (dt.date(2025, 6, 2), 3)]
>>> covering_date(-1, june, 4, today=dt.date(2025, 6, 1))
datetime.date(2025, 6, 9)
>>> covering_date(4, june, 4, today=dt.date(2025, 6, 1))
datetime.date(2025, 6, 1)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from stockkit.model import Incoming, Replenishment

__all__ = ["covering_date", "earliest_incoming"]


def covering_date(
    available: int, incoming: Iterable[tuple[dt.date, int]], quantity: int, *, today: dt.date
) -> dt.date | None:
    """The first date on which ``available`` plus the units expected up to that date
    (``(date, units)`` pairs) reach ``quantity``: ``today`` if the stock covers it
    already, ``None`` if even everything expected does not."""
    have = available
    if have >= quantity:
        return today
    for expected_on, units in sorted(incoming):
        have += units
        if have >= quantity:
            return max(expected_on, today)
    return None


def earliest_incoming(replenishments: Iterable[Replenishment]) -> Incoming | None:
    """The earliest expected date among open replenishments and the units still expected
    on it (summed over warehouses), or ``None`` when nothing is incoming."""
    open_ones = [r for r in replenishments if r.open_quantity]
    if not open_ones:
        return None
    first = min(r.expected_on for r in open_ones)
    return Incoming(first, sum(r.open_quantity for r in open_ones if r.expected_on == first))
