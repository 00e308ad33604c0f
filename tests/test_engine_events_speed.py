"""The event kernel's shortcuts give the oracle's result: SKUs read off the sort keys,
searches narrowed by a coarse row then bisected, several classes on one record, classes
with nothing left to ask left out, and rounds that each empty a record of every open SKU."""

from __future__ import annotations

import numpy as np
import pytest
from engine_cases import random_case
from test_engine_oracle import assert_same

from stockkit.engine import Fill, Policy, allocate_arrays, kernel_events
from stockkit.engine.inputs import check_inputs
from stockkit.testing.allocation_oracle import allocate_oracle


@pytest.fixture
def set_sizes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many classes each search of every round summed (one list entry per search)."""
    seen: list[int] = []
    search = kernel_events._first_over

    def spy(table, coarse_of, bits, target, lo, hi):
        seen.extend(kernel_events._SET_SIZE[bits].tolist())
        return search(table, coarse_of, bits, target, lo, hi)

    monkeypatch.setattr(kernel_events, "_first_over", spy)
    return seen


@pytest.mark.parametrize("order_scale", [1, 2**44, 2**52])
def test_skus_come_with_the_sorted_lines_however_the_keys_pack(order_scale: int) -> None:
    # the keys hold the SKU when (SKU, service) or (SKU, service rank) packs; otherwise
    # (orders spread to 2**52) the SKUs are gathered
    for seed in range(10):
        rng = np.random.default_rng([seed, 11])
        case = random_case(rng, "overlapping", lines=int(rng.integers(1, 400)), skus=int(rng.integers(1, 40)))
        case["line_order"] = case["line_order"] * order_scale
        inp = check_inputs(**(case | {"warehouse_lat": None, "warehouse_lon": None}), policy=Policy())
        perm, sku = kernel_events._sort_lines(inp)
        assert np.array_equal(perm, np.lexsort((np.arange(inp.line_order.size), inp.line_order,
                                                inp.line_priority, inp.line_sku)))
        assert np.array_equal(sku, inp.line_sku[perm])


@pytest.mark.parametrize(("stride", "shared_columns"), [(1, 4), (3, 1), (64, 4), (64, 0)])
def test_searches_narrowed_by_any_stride_find_the_oracles_events(
        stride: int, shared_columns: int, set_sizes: list[int], monkeypatch: pytest.MonkeyPatch) -> None:
    # many channels on few warehouses: up to four classes on one record, searched in the
    # sum of their coarse rows (a stride of 1 leaves nothing to bisect), or, past the sums
    # kept, bisected over the SKU's whole open range
    monkeypatch.setattr(kernel_events, "STRIDE", stride)
    monkeypatch.setattr(kernel_events, "SHARED_COLUMNS", shared_columns)
    for seed in range(60):
        rng = np.random.default_rng([seed, 13])
        case = random_case(rng, "overlapping", lines=int(rng.integers(1, 200)), skus=int(rng.integers(1, 5)),
                           warehouses=int(rng.integers(1, 4)), channels=int(rng.integers(2, 7)),
                           stock_scale=int(rng.integers(1, 6)))
        for fill in (Fill.PARTIAL, Fill.LINE):
            policy = Policy(fill=fill)
            assert_same(allocate_oracle(**case, policy=policy), allocate_arrays(**case, policy=policy, kernel="events"),
                        (seed, fill))
    assert {1, 2, 3, 4} <= set(set_sizes)


def test_large_quantities_are_served_exactly() -> None:
    # units near 2**45 in all: the sums the kernel searches and the event lines' takings
    # stay exact
    for seed in range(40):
        rng = np.random.default_rng([seed, 17])
        case = random_case(rng, "overlapping", lines=int(rng.integers(1, 120)), skus=int(rng.integers(1, 5)),
                           warehouses=int(rng.integers(1, 6)), channels=int(rng.integers(1, 5)))
        scale = 2**38 + int(rng.integers(0, 2**20))
        case["line_quantity"] = case["line_quantity"] * scale + rng.integers(0, 3, case["line_quantity"].size)
        case["stock_available"] = case["stock_available"] * scale
        for fill in Fill:
            policy = Policy(fill=fill)
            assert_same(allocate_oracle(**case, policy=policy), allocate_arrays(**case, policy=policy, kernel="events"),
                        (seed, fill))


def test_an_empty_wave_has_no_records() -> None:
    none = np.zeros(0, np.int64)
    case = {"line_order": none, "line_sku": none, "line_quantity": none, "line_channel": none,
            "stock_warehouse": np.array([0]), "stock_sku": np.array([0]), "stock_available": np.array([3]),
            "link_channel": np.array([0]), "link_warehouse": np.array([0]), "link_priority": np.array([0])}
    for fill in Fill:
        policy = Policy(fill=fill)
        assert_same(allocate_oracle(**case, policy=policy), allocate_arrays(**case, policy=policy, kernel="events"))


def test_each_round_empties_a_record_of_every_open_sku(monkeypatch: pytest.MonkeyPatch) -> None:
    # with partial fill a SKU leaves after at most one round per record it has, and one
    # more: pointers that did not move past records run dry would take more rounds
    from stockkit.benchmarking.workload import generate

    rounds = 0
    search = kernel_events._first_over

    def count(*args):
        nonlocal rounds
        rounds += 1
        return search(*args)

    monkeypatch.setattr(kernel_events, "_first_over", count)
    for seed in range(3):
        w = generate(lines=3_000, skus=30, warehouses=9, channels=3, topology="overlapping", seed=seed)
        case = w.kwargs()
        policy = w.policy()
        rounds = 0
        result = allocate_arrays(**case, policy=policy, kernel="events")
        records = np.bincount(case["stock_sku"][case["stock_available"] > 0], minlength=30)
        assert 1 < rounds <= records.max() + 1, seed
        assert_same(allocate_oracle(**case, policy=policy), result, seed)


def sorted_wave(seed: int) -> tuple[np.random.Generator, object, object, np.ndarray, np.ndarray, object]:
    """A small overlapping wave as the event kernel sees it: (rng, inputs, route classes,
    SKUs and classes of the sorted lines, candidates)."""
    from stockkit.engine.kernel_intervals import route_classes

    rng = np.random.default_rng([seed, 19])
    case = random_case(rng, "overlapping", lines=int(rng.integers(1, 150)), skus=int(rng.integers(1, 6)),
                       warehouses=int(rng.integers(1, 7)), channels=int(rng.integers(1, 5)))
    inp = check_inputs(**(case | {"warehouse_lat": None, "warehouse_lon": None}), policy=Policy(fill=Fill.ORDER))
    rc = route_classes(inp)
    perm, sku = kernel_events._sort_lines(inp)
    cls = rc.channel_class[inp.line_channel][perm].astype(np.int64)
    return rng, inp, rc, sku, cls, kernel_events.candidates(inp, rc)


def test_route_stock_sums_each_route_whether_few_or_many_are_asked() -> None:
    # few groups sum their own routes' records, many a running sum over every record
    ways = set()
    for seed in range(40):
        rng, _, _, _, _, cands = sorted_wave(seed)
        n_groups = cands.offsets.size - 1
        if n_groups == 0:
            continue
        stock = rng.integers(0, 9, cands.stock.size)
        for size in (1, 4 * n_groups):
            group = rng.integers(0, n_groups, size)
            want = [int(stock[cands.ent_rec[cands.offsets[g]:cands.offsets[g + 1]]].sum()) for g in group]
            assert kernel_events._route_stock(stock, group, cands).tolist() == want, seed
            ways.add(4 * int(np.diff(cands.offsets)[group].sum()) < cands.ent_rec.size)
    assert ways == {True, False}


def test_left_on_route_is_what_the_route_held_less_what_earlier_lines_of_the_sku_took() -> None:
    # takings in any order, several on one line, from records on and off each line's route
    for seed in range(40):
        rng, _, rc, sku, cls, cands = sorted_wave(seed)
        n, n_cls = sku.size, rc.route_wh.shape[0]
        if n == 0 or cands.ent_rec.size == 0:
            continue
        stock = cands.stock.copy()
        group = sku * n_cls + cls
        pos = rng.integers(0, n, 3 * n)
        lo, hi = cands.offsets[group[pos]], cands.offsets[group[pos] + 1]
        pos, lo, hi = pos[hi > lo], lo[hi > lo], hi[hi > lo]
        ent = lo + (rng.random(pos.size) * (hi - lo)).astype(np.int64)
        units = rng.integers(1, 4, pos.size)
        takes = kernel_events.Takes(pos, ent, units, np.zeros(n, np.int64))
        lines = np.flatnonzero(rng.random(n) < 0.5)
        start = np.searchsorted(sku, sku, side="left")
        got = kernel_events._left_on_route(takes, lines, start, sku, cls, stock, cands, rc)
        took_wh = cands.rec_wh[cands.ent_rec[ent]]
        for x, left in zip(lines.tolist(), got.tolist()):
            route = stock[cands.ent_rec[cands.offsets[group[x]]:cands.offsets[group[x] + 1]]].sum()
            before = (pos >= start[x]) & (pos < x) & (rc.wh_rank[cls[x], took_wh] >= 0)
            assert left == route - units[before].sum(), (seed, x)
