"""The small-input kernel: the sequential rules in plain Python, for a handful of lines.

For one order of a few lines the array kernels spend more on numpy call overhead than on
the work; this loop touches only the stock of the SKUs involved. It is the engine's own
implementation (the oracle in :mod:`stockkit.testing.allocation_oracle` stays the
definition, and the tests hold the two equal).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from stockkit.engine.policy import Fill, Policy, Reason, ShipComplete

__all__ = ["Outcome", "allocate_scalar"]

#: (line, rank, warehouse, quantity, back order) records, unfilled per line, reason per line
Outcome = tuple[list[tuple[int, int, int, int, bool]], list[int], list[int]]


def _serve(sku: int, qty: int, route: Sequence[int], left: dict[tuple[int, int], int], split: bool,
           backorder: bool, keep_partial: bool) -> tuple[list[tuple[int, int, int, bool]], int, int]:
    """One line against ``left`` (changed only when the line takes something):
    ((rank, warehouse, units, back order) takes, unfilled, reason)."""
    if not route:
        return [], qty, Reason.NO_WAREHOUSE
    takes: list[tuple[int, int, int, bool]] = []
    need = qty
    if split:
        for rank, wh in enumerate(route):
            have = left.get((sku, wh), 0)
            if have > 0:
                give = min(need, have)
                takes.append((rank, wh, give, False))
                need -= give
                if not need:
                    break
    else:
        for rank, wh in enumerate(route):
            if left.get((sku, wh), 0) >= qty:
                takes.append((rank, wh, qty, False))
                need = 0
                break
        else:
            have = left.get((sku, route[0]), 0) if backorder else 0
            if have > 0:
                takes.append((0, route[0], have, False))
                need -= have
    if need and backorder:
        takes.append((0, route[0], need, True))
        need = 0
    elif need and not (split and keep_partial):
        return [], qty, Reason.SHORT if split else Reason.NO_SINGLE_WAREHOUSE
    for _, wh, give, back in takes:
        if not back:
            left[(sku, wh)] -= give
    if need:
        return takes, need, Reason.SHORT
    return takes, 0, Reason.BACKORDERED if any(t[3] for t in takes) else Reason.FILLED


def allocate_scalar(
    lines: Sequence[tuple[int, int, int]],
    orders: Sequence[Sequence[int]],
    route_of: Callable[[int], Sequence[int]],
    left: dict[tuple[int, int], int],
    backorder: Callable[[int], bool],
    policy: Policy,
) -> Outcome:
    """Allocate ``lines`` ((line index, sku, quantity)), served order by order as listed in
    ``orders`` (line indices in service sequence), against ``left`` ((sku, warehouse) ->
    units, missing = 0, changed in place). ``route_of(line)`` gives the line's candidate
    warehouses in policy order."""
    n = len(lines)
    unfilled = [0] * n
    reason = [int(Reason.FILLED)] * n
    records: list[tuple[int, int, int, int, bool]] = []
    split, sc = policy.split, policy.ship_complete
    for members in orders:
        if sc is not ShipComplete.OFF:
            route = route_of(members[0])
            wanted: dict[int, int] = {}
            for i in members:
                wanted[lines[i][1]] = wanted.get(lines[i][1], 0) + lines[i][2]
            chosen = next((rank for rank, wh in enumerate(route)
                           if all(left.get((s, wh), 0) >= q for s, q in wanted.items())), None)
            if chosen is not None:
                wh = route[chosen]
                for i in members:
                    _, s, q = lines[i]
                    left[(s, wh)] -= q
                    records.append((i, chosen, wh, q, False))
                continue
            if sc is ShipComplete.REQUIRE or not route:
                for i in members:
                    unfilled[i] = lines[i][2]
                    reason[i] = Reason.NO_WAREHOUSE if not route else Reason.ORDER_INCOMPLETE
                continue
        if policy.fill is Fill.ORDER:
            trial = dict(left)
            served = [(i, *_serve(lines[i][1], lines[i][2], route_of(i), trial, split,
                                  backorder(lines[i][1]), False)) for i in members]
            if all(u == 0 for _, _, u, _ in served):
                left.update(trial)
                for i, takes, _, r in served:
                    reason[i] = r
                    records.extend((i, *t) for t in takes)
            else:
                for i, _, u, r in served:
                    unfilled[i] = lines[i][2]
                    reason[i] = r if u else Reason.ORDER_INCOMPLETE
            continue
        for i in members:
            takes, unfilled[i], reason[i] = _serve(lines[i][1], lines[i][2], route_of(i), left, split,
                                                   backorder(lines[i][1]), policy.fill is Fill.PARTIAL)
            records.extend((i, *t) for t in takes)
    records.sort(key=lambda r: (r[0], r[1], r[4]))
    return records, unfilled, reason
