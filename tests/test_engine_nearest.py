"""Nearest-first lines in the rounds kernel: laid out up to their first candidate, moved
on to their nearest usable one, ranked whole only when resolved, and still exactly the
oracle's result."""

from __future__ import annotations

import numpy as np
import pytest
from engine_cases import ALL_POLICIES, random_case
from test_engine_oracle import assert_same

from stockkit.engine import Fill, Policy, RouteOrder, ShipComplete, allocate_arrays
from stockkit.engine import problem as problem_module
from stockkit.engine.inputs import check_inputs
from stockkit.engine.problem import build_problem, nearest_lists
from stockkit.testing.allocation_oracle import allocate_oracle

NEAREST_POLICIES = [p for p in ALL_POLICIES if p.route is RouteOrder.NEAREST]


def on_few_sites(rng: np.random.Generator, case: dict, sites: int = 3) -> dict:
    """``case`` with warehouses and ship-to points on a few shared sites: distances tie
    exactly (link priority, then warehouse index decide) and are often zero."""
    lat, lon = rng.uniform(-60, 60, sites), rng.uniform(-170, 170, sites)
    wh = rng.integers(0, sites, case["warehouse_lat"].shape[0])
    order_site = rng.integers(0, sites, int(case["line_order"].max(initial=0)) + 1)[case["line_order"]]
    located = ~np.isnan(case["line_lat"])
    return case | {
        "warehouse_lat": lat[wh], "warehouse_lon": lon[wh],
        "line_lat": np.where(located, lat[order_site], np.nan), "line_lon": np.where(located, lon[order_site], np.nan),
    }


def case_for(seed: int) -> dict:
    rng = np.random.default_rng([seed, 41])
    big = seed % 5 == 0
    case = random_case(rng, "nearest", lines=int(rng.integers(40, 200)) if big else int(rng.integers(1, 30)),
                       skus=int(rng.integers(1, 4)), warehouses=int(rng.integers(1, 12)),
                       channels=int(rng.integers(1, 4)), stock_scale=int(rng.integers(1, 5)) if big else 1)
    return on_few_sites(rng, case) if seed % 2 else case


@pytest.mark.parametrize("forced", ["natural", "every-path", "dense-rows"])
def test_the_rounds_match_the_oracle_on_nearest_first_lines(forced: str, monkeypatch: pytest.MonkeyPatch) -> None:
    if forced == "every-path":
        # candidate sets shared by a single line take the matrix product, lines go one by
        # one, and never in a single batch; lines moving on look at their sets' usable
        # entries alone, never at every warehouse
        monkeypatch.setattr(problem_module, "_SHARED_LINES", 1)
        monkeypatch.setattr(problem_module, "_SHARED_WORK", 1)
        monkeypatch.setattr(problem_module, "_CHUNK_PAIRS", 1)
        monkeypatch.setattr(problem_module, "_ONE_BATCH", 0)
        monkeypatch.setattr(problem_module, "_DENSE_FACTOR", 0)
    elif forced == "dense-rows":
        # lines moving on are read against every warehouse, one row at a time
        monkeypatch.setattr(problem_module, "_DENSE_FACTOR", 1 << 30)
        monkeypatch.setattr(problem_module, "_CHUNK_PAIRS", 1)
    for seed in range(60):
        case = case_for(seed)
        for policy in NEAREST_POLICIES[seed % 4::4]:
            assert_same(allocate_oracle(**case, policy=policy), allocate_arrays(**case, policy=policy, kernel="rounds"),
                        (policy, seed))


def test_many_lines_sharing_a_large_candidate_set_match_the_oracle() -> None:
    rng = np.random.default_rng(5)
    case = random_case(rng, "nearest", lines=600, skus=2, warehouses=40, channels=2, stock_scale=3)
    for policy in (Policy(route=RouteOrder.NEAREST), Policy(route=RouteOrder.NEAREST, split=False),
                   Policy(route=RouteOrder.NEAREST, fill=Fill.LINE),
                   Policy(route=RouteOrder.NEAREST, fill=Fill.ORDER, ship_complete=ShipComplete.PREFER)):
        assert_same(allocate_oracle(**case, policy=policy), allocate_arrays(**case, policy=policy, kernel="rounds"),
                    policy)


@pytest.mark.parametrize("sites", [0, 2])
def test_a_pending_line_lists_the_head_of_its_whole_list_and_ranks_the_rest_alike(sites: int) -> None:
    rng = np.random.default_rng(sites)
    case = random_case(rng, "nearest", lines=300, skus=3, warehouses=30, channels=3, stock_scale=2)
    if sites:
        case = on_few_sites(rng, case, sites)
    inp = check_inputs(**case, policy=Policy(route=RouteOrder.NEAREST))
    lazy, eager = build_problem(inp), build_problem(inp, eager=True)
    assert eager.pending is None and lazy.pending is not None
    listed = eager.ec_end > eager.ec_start
    assert np.array_equal(lazy.ec_end > lazy.ec_start, listed)
    for name in ("ec_rec", "ec_rank", "ec_wh"):
        assert np.array_equal(getattr(lazy, name)[lazy.ec_start[listed]], getattr(eager, name)[eager.ec_start[listed]])
    lines = np.flatnonzero(lazy.pending.partial)
    assert lines.size and np.array_equal(lazy.pending.partial, (eager.ec_end - eager.ec_start > 1)
                                         & ~np.isnan(inp.line_lat[lazy.seq]))
    rec, rank, wh, counts = nearest_lists(lazy, lines)
    owner, idx = problem_module.expand(eager.ec_start[lines], eager.ec_end[lines])
    assert np.array_equal(counts, eager.ec_end[lines] - eager.ec_start[lines])
    assert np.array_equal(rec, eager.ec_rec[idx]) and np.array_equal(wh, eager.ec_wh[idx])
    assert np.array_equal(rank, eager.ec_rank[idx])


@pytest.mark.parametrize("dense", [True, False], ids=["every-warehouse", "usable-entries"])
def test_lines_whose_candidate_set_is_empty_do_not_hide_the_next_set(dense: bool,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    # SKU 0 has no stock: its (empty) set starts where SKU 1's set does
    monkeypatch.setattr(problem_module, "_DENSE_FACTOR", 1 << 30 if dense else 0)
    inp = check_inputs(
        line_order=np.array([0, 1, 2]), line_sku=np.array([0, 1, 1]), line_quantity=np.array([1, 1, 1]),
        line_channel=np.array([0, 0, 0]), line_priority=None, line_lat=np.array([5.0, 5.0, 19.0]),
        line_lon=np.array([5.0, 5.0, 19.0]), stock_warehouse=np.array([0, 1]), stock_sku=np.array([1, 1]),
        stock_available=np.array([5, 5]), link_channel=np.array([0, 0]), link_warehouse=np.array([0, 1]),
        link_priority=np.array([0, 1]), warehouse_lat=np.array([0.0, 20.0]), warehouse_lon=np.array([0.0, 20.0]),
        sku_backorder=None, policy=Policy(route=RouteOrder.NEAREST), n_skus=None, n_warehouses=None,
        n_channels=None)
    pb = build_problem(inp)
    lines = np.arange(3)
    every = problem_module.nearest_usable(pb.pending, lines, lambda rows, entries: np.ones(entries.shape, bool))
    alike = problem_module.nearest_usable(pb.pending, lines, usable_entries=lambda entries: np.ones(entries.shape, bool))
    assert every[0].tolist() == alike[0].tolist()
    assert alike[0][0] == -1 and (alike[0][1:] >= 0).all()
    # each located line finds its nearest warehouse: (5, 5) is nearer w0, (19, 19) w1
    assert pb.ec_wh[alike[0][1:]].tolist() == [0, 1]
