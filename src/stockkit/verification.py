"""Proving the stored state matches the ledger.

:func:`find_discrepancies` compares every level with the sums of its ledger entries,
the units of its bookings and of its open replenishments. It is a pure function over
what a store returns, so every backend is judged by the same rules.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from stockkit.model import Discrepancy, Level
from stockkit.store import LevelKey, LevelTotals

__all__ = ["find_discrepancies"]

_COLUMNS = ("on_hand", "safety", "booked", "incoming")


def find_discrepancies(
    levels: Iterable[Level],
    ledger: Mapping[LevelKey, LevelTotals],
    bookings: Mapping[LevelKey, int],
    replenishments: Mapping[LevelKey, int],
) -> list[Discrepancy]:
    """Every disagreement between stored levels and what the ledger, the bookings and the
    open replenishments add up to; a level with no row counts as all zeros."""
    stored = {(level.sku, level.warehouse): level for level in levels}
    found: list[Discrepancy] = []
    keys = sorted(set(stored) | set(ledger) | set(bookings) | set(replenishments))
    for key in keys:
        level = stored.get(key) or Level(sku=key[0], warehouse=key[1])
        totals = ledger.get(key) or LevelTotals()
        for column in _COLUMNS:
            value = getattr(level, column)
            if value != getattr(totals, column):
                found.append(Discrepancy(*key, column, value, getattr(totals, column), "ledger sum differs"))
            if value < 0:
                found.append(Discrepancy(*key, column, value, 0, "negative"))
        if level.booked != bookings.get(key, 0):
            found.append(Discrepancy(*key, "booked", level.booked, bookings.get(key, 0), "bookings sum differs"))
        if level.incoming != replenishments.get(key, 0):
            found.append(
                Discrepancy(
                    *key, "incoming", level.incoming, replenishments.get(key, 0), "open replenishments differ"
                )
            )
    return found
