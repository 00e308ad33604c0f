"""The engine gives exactly the oracle's result: records, unfilled and reasons, for every
policy and mode on every channel topology, through every kernel."""

from __future__ import annotations

import numpy as np
import pytest
from engine_cases import ALL_POLICIES, TOPOLOGIES, in_turn, policy_for, random_case
from hypothesis import given, settings
from hypothesis import strategies as st

from stockkit.engine import (
    AllocationArrays,
    Fill,
    Policy,
    RouteOrder,
    ShipComplete,
    StockIndex,
    allocate_arrays,
    explain,
)
from stockkit.engine.api import available_kernels
from stockkit.errors import InvalidArray, InvalidQuantity
from stockkit.testing.allocation_oracle import allocate_oracle

# "numpy" and "auto" run the Python kernel on small inputs: "intervals" (where it applies)
# and "rounds" keep the array kernels under test on them
KERNELS = (*available_kernels(), "intervals", "events")
POLICIES = sorted({policy_for("disjoint", p) for p in ALL_POLICIES}, key=repr)


def assert_same(want: AllocationArrays, got: AllocationArrays, context: object = "") -> None:
    for name, a, b in zip(AllocationArrays._fields, want, got):
        assert a.dtype == b.dtype, f"{name}: dtype {b.dtype}, expected {a.dtype} {context}"
        assert np.array_equal(a, b), f"{name} differs {context}:\n oracle {a.tolist()}\n engine {b.tolist()}"


def run(case: dict, policy: Policy, kernel: str) -> AllocationArrays | None:
    """``allocate_arrays`` with ``kernel``; None where the interval kernel does not apply."""
    try:
        return allocate_arrays(**case, policy=policy, kernel=kernel)
    except InvalidArray as exc:
        if kernel in ("intervals", "events") and "exact only" in str(exc):
            return None
        raise


def check(case: dict, policy: Policy, kernel: str = "auto") -> None:
    want = allocate_oracle(**case, policy=policy)
    got = run(case, policy, kernel)
    if got is not None:
        assert_same(want, got, (policy, kernel))


# 4 topologies x 18 policies x 140 seeds = 10,080 seeded cases, a few seconds in all.
@pytest.mark.parametrize("policy", POLICIES, ids=lambda p: f"{p.split=}-{p.ship_complete.value}-{p.fill.value}")
@pytest.mark.parametrize("topology", TOPOLOGIES)
def test_seeded_sweep(topology: str, policy: Policy) -> None:
    policy = policy_for(topology, policy)
    for seed in range(140):
        rng = np.random.default_rng([seed, TOPOLOGIES.index(topology)])
        big = seed % 7 == 0
        case = random_case(
            rng, topology,
            lines=int(rng.integers(40, 160)) if big else int(rng.integers(0, 25)),
            skus=int(rng.integers(1, 4)), warehouses=int(rng.integers(1, 7)),
            channels=int(rng.integers(1, 4)), stock_scale=int(rng.integers(1, 6)) if big else 1,
            orders_share_ship_to=policy.ship_complete is not ShipComplete.OFF or seed % 2 == 0,
        )
        want = allocate_oracle(**case, policy=policy)
        for kernel in KERNELS:
            got = run(case, policy, kernel)
            if got is not None:
                assert_same(want, got, (topology, policy, kernel, seed))


@st.composite
def problems(draw: st.DrawFn) -> tuple[dict, Policy]:
    """Small problems drawn field by field, shrinking towards few lines, SKUs and links."""
    n_skus = draw(st.integers(1, 3))
    n_wh = draw(st.integers(1, 4))
    n_ch = draw(st.integers(1, 3))
    links = draw(st.lists(st.tuples(st.integers(0, n_ch - 1), st.integers(0, n_wh - 1), st.integers(0, 2)),
                          max_size=n_ch * n_wh, unique_by=lambda t: t[:2]))
    stock = draw(st.lists(st.tuples(st.integers(0, n_skus - 1), st.integers(0, n_wh - 1), st.integers(-1, 6)),
                          max_size=n_skus * n_wh, unique_by=lambda t: t[:2]))
    orders = draw(st.lists(st.tuples(st.integers(0, n_ch - 1), st.integers(0, 1),
                                     st.lists(st.tuples(st.integers(0, n_skus - 1), st.integers(1, 5)),
                                              min_size=1, max_size=3)), max_size=8))
    order_rank = draw(st.permutations(range(len(orders))))
    policy = Policy(route=draw(st.sampled_from(RouteOrder)), split=draw(st.booleans()),
                    ship_complete=draw(st.sampled_from(ShipComplete)), fill=draw(st.sampled_from(Fill)))
    coords = st.floats(-80, 80, allow_nan=False)
    ship_to = [draw(st.one_of(st.none(), st.tuples(coords, coords))) for _ in orders]
    line_rows = [(order_rank[o], sku, qty, ch, prio, ship_to[o])
                 for o, (ch, prio, lines) in enumerate(orders) for sku, qty in lines]
    line_rows = draw(st.permutations(line_rows))
    ints = lambda values: np.array(values, dtype=np.int64)
    case = {
        "line_order": ints([r[0] for r in line_rows]), "line_sku": ints([r[1] for r in line_rows]),
        "line_quantity": ints([r[2] for r in line_rows]), "line_channel": ints([r[3] for r in line_rows]),
        "line_priority": ints([r[4] for r in line_rows]),
        "line_lat": np.array([np.nan if r[5] is None else r[5][0] for r in line_rows]),
        "line_lon": np.array([np.nan if r[5] is None else r[5][1] for r in line_rows]),
        "stock_sku": ints([s[0] for s in stock]), "stock_warehouse": ints([s[1] for s in stock]),
        "stock_available": ints([s[2] for s in stock]),
        "link_channel": ints([k[0] for k in links]), "link_warehouse": ints([k[1] for k in links]),
        "link_priority": ints([k[2] for k in links]),
        "warehouse_lat": np.array([draw(coords) for _ in range(n_wh)]),
        "warehouse_lon": np.array([draw(coords) for _ in range(n_wh)]),
        "sku_backorder": np.array([draw(st.booleans()) for _ in range(n_skus)]),
        "n_skus": n_skus, "n_warehouses": n_wh, "n_channels": n_ch,
    }
    return case, policy


@settings(max_examples=300, deadline=None)
@given(problems())
def test_engine_is_the_oracle(problem: tuple[dict, Policy]) -> None:
    case, policy = problem
    for kernel in KERNELS:
        check(case, policy, kernel)


def simple(lines: list[tuple[int, int, int]], stock: dict[tuple[int, int], int], route: list[int],
           backorder: tuple[int, ...] = ()) -> dict:
    """One channel over ``route`` (priority order); lines as (order, sku, quantity)."""
    ints = lambda values: np.array(values, dtype=np.int64)
    n_skus = 1 + max([s for _, s, _ in lines] + [s for s, _ in stock] + [0])
    return {
        "line_order": ints([o for o, _, _ in lines]), "line_sku": ints([s for _, s, _ in lines]),
        "line_quantity": ints([q for _, _, q in lines]), "line_channel": ints([0] * len(lines)),
        "stock_sku": ints([s for s, _ in stock]), "stock_warehouse": ints([w for _, w in stock]),
        "stock_available": ints(list(stock.values())),
        "link_channel": ints([0] * len(route)), "link_warehouse": ints(route), "link_priority": ints(range(len(route))),
        "sku_backorder": np.isin(np.arange(n_skus), backorder), "n_skus": n_skus, "n_channels": 1,
    }


def records(result: AllocationArrays) -> list[tuple[int, int, int, bool]]:
    return list(zip(result.record_line.tolist(), result.record_warehouse.tolist(),
                    result.record_quantity.tolist(), result.record_backorder.tolist()))


@pytest.mark.parametrize("kernel", available_kernels())
def test_empty_input(kernel: str) -> None:
    case = simple([], {}, [])
    result = allocate_arrays(**case, kernel=kernel)
    assert records(result) == [] and result.line_unfilled.size == 0 and result.line_reason.dtype == np.uint8


@pytest.mark.parametrize("kernel", available_kernels())
def test_a_line_splits_then_the_next_finds_what_is_left(kernel: str) -> None:
    case = simple([(0, 0, 4), (1, 0, 4)], {(0, 5): 3, (0, 7): 2}, [5, 7])
    result = allocate_arrays(**case, kernel=kernel)
    assert records(result) == [(0, 5, 3, False), (0, 7, 1, False), (1, 7, 1, False)]
    assert result.line_unfilled.tolist() == [0, 3]


@pytest.mark.parametrize("kernel", available_kernels())
def test_lines_of_one_sku_in_one_order_see_each_other(kernel: str) -> None:
    case = simple([(0, 0, 2), (0, 0, 2)], {(0, 0): 3}, [0])
    result = allocate_arrays(**case, policy=Policy(fill=Fill.ORDER), kernel=kernel)
    assert records(result) == []
    assert result.line_reason.tolist() == [0 + 5, 2]  # the second line fails, the first is refused with it
    check(case, Policy(fill=Fill.ORDER), kernel)


@pytest.mark.parametrize("kernel", available_kernels())
def test_zero_and_negative_stock_give_nothing(kernel: str) -> None:
    case = simple([(0, 0, 1), (1, 1, 1)], {(0, 0): 0, (1, 0): -4}, [0])
    result = allocate_arrays(**case, kernel=kernel)
    assert records(result) == [] and result.line_unfilled.tolist() == [1, 1]


@pytest.mark.parametrize("kernel", available_kernels())
def test_back_orders_go_to_the_first_warehouse_and_keep_stock_at_zero(kernel: str) -> None:
    case = simple([(0, 0, 5), (1, 0, 1)], {(0, 1): 2}, [0, 1], backorder=(0,))
    result = allocate_arrays(**case, kernel=kernel)
    # records follow candidate rank: the back order at rank 0 comes first
    assert records(result) == [(0, 0, 3, True), (0, 1, 2, False), (1, 0, 1, True)]
    assert result.line_reason.tolist() == [1, 1]


@pytest.mark.parametrize("kernel", available_kernels())
def test_ship_complete_prefers_one_warehouse_for_the_whole_order(kernel: str) -> None:
    case = simple([(0, 0, 2), (0, 1, 2)], {(0, 0): 5, (1, 1): 5, (0, 1): 5}, [0, 1])
    prefer = allocate_arrays(**case, policy=Policy(ship_complete=ShipComplete.PREFER), kernel=kernel)
    assert records(prefer) == [(0, 1, 2, False), (1, 1, 2, False)]
    case = simple([(0, 0, 2), (0, 1, 2)], {(0, 0): 5, (1, 1): 5}, [0, 1])
    require = allocate_arrays(**case, policy=Policy(ship_complete=ShipComplete.REQUIRE), kernel=kernel)
    assert records(require) == [] and require.line_reason.tolist() == [5, 5]
    fallback = allocate_arrays(**case, policy=Policy(ship_complete=ShipComplete.PREFER), kernel=kernel)
    assert records(fallback) == [(0, 0, 2, False), (1, 1, 2, False)]


@pytest.mark.parametrize("kernel", available_kernels())
def test_split_off_takes_the_first_warehouse_holding_the_whole_line(kernel: str) -> None:
    case = simple([(0, 0, 3), (1, 0, 3)], {(0, 0): 2, (0, 1): 4}, [0, 1])
    result = allocate_arrays(**case, policy=Policy(split=False), kernel=kernel)
    assert records(result) == [(0, 1, 3, False)]
    assert result.line_reason.tolist() == [0, 4]


def test_nearest_first_orders_warehouses_by_distance_from_the_ship_to() -> None:
    case = simple([(0, 0, 1)], {(0, 0): 1, (0, 1): 1}, [0, 1])
    case |= {"line_lat": np.array([48.85]), "line_lon": np.array([2.35]),          # Paris
                 "warehouse_lat": np.array([52.52, 48.86]), "warehouse_lon": np.array([13.40, 2.34])}
    result = allocate_arrays(**case, policy=Policy(route=RouteOrder.NEAREST))
    assert records(result) == [(0, 1, 1, False)]
    case |= {"line_lat": np.array([np.nan]), "line_lon": np.array([np.nan])}       # no ship-to: priority
    assert records(allocate_arrays(**case, policy=Policy(route=RouteOrder.NEAREST))) == [(0, 0, 1, False)]


def scaled_case(rng: np.random.Generator, topology: str, low: int, high: int) -> dict:
    """A contended random case whose quantities and stock are each either small or drawn
    from ``low..high`` units, so huge and small numbers meet in one wave."""
    case = random_case(rng, topology, lines=int(rng.integers(1, 40)), skus=int(rng.integers(1, 4)),
                       warehouses=int(rng.integers(1, 6)), channels=int(rng.integers(1, 4)))
    for name in ("line_quantity", "stock_available"):
        small = case[name]
        huge = rng.integers(low, high, small.shape[0], endpoint=True) * np.sign(small)
        case[name] = np.where(rng.random(small.shape[0]) < 0.7, huge, small)
    return case


@pytest.mark.parametrize("topology", TOPOLOGIES)
def test_quantities_up_to_the_stockkit_maximum_are_allocated_exactly(topology: str) -> None:
    from stockkit.engine.inputs import MAX_QUANTITY, array_kernels_exact, check_inputs

    beyond = 0
    for seed in range(60):
        rng = np.random.default_rng([seed, 62])
        case = scaled_case(rng, topology, MAX_QUANTITY // 4, MAX_QUANTITY)
        policy = policy_for(topology, ALL_POLICIES[seed % len(ALL_POLICIES)])
        want = allocate_oracle(**case, policy=policy)
        total = sum(int(q) for q in case["line_quantity"]) + sum(max(int(a), 0) for a in case["stock_available"])
        beyond += total >= 2**63     # sums no int64 could hold
        inp = check_inputs(**({"line_priority": None, "line_lat": None, "line_lon": None, "warehouse_lat": None,
                                "warehouse_lon": None, "sku_backorder": None} | case), policy=policy)
        for kernel in ("auto", "numpy", "python"):
            assert_same(want, allocate_arrays(**case, policy=policy, kernel=kernel), (topology, policy, kernel, seed))
        if not array_kernels_exact(inp):
            with pytest.raises(InvalidQuantity, match="use kernel='auto' or 'python'"):
                allocate_arrays(**case, policy=policy, kernel="rounds")
        # explanations add up in exact integers too
        for line in range(case["line_order"].shape[0]):
            why = explain(line, want, **case, policy=policy)
            assert all(0 <= c.given <= c.available for c in why.candidates)
            assert why.unfilled + sum(c.given + c.backordered for c in why.candidates) == why.quantity
    assert beyond > 30


@pytest.mark.parametrize("topology", TOPOLOGIES)
def test_array_kernels_stay_exact_on_large_quantities_within_their_range(topology: str) -> None:
    for seed in range(40):
        rng = np.random.default_rng([seed, 40])
        case = scaled_case(rng, topology, 2**33, 2**40)
        policy = policy_for(topology, ALL_POLICIES[seed % len(ALL_POLICIES)])
        want = allocate_oracle(**case, policy=policy)
        for kernel in KERNELS:
            got = run(case, policy, kernel)
            if got is not None:
                assert_same(want, got, (topology, policy, kernel, seed))


def test_the_largest_quantity_is_accepted_and_one_more_is_refused() -> None:
    from stockkit.engine.inputs import MAX_QUANTITY
    from stockkit.validation import MAX_QUANTITY as STOCKKIT_MAX

    assert MAX_QUANTITY == STOCKKIT_MAX == 2**62
    case = simple([(0, 0, MAX_QUANTITY), (1, 0, MAX_QUANTITY)], {(0, 0): MAX_QUANTITY, (0, 1): MAX_QUANTITY - 1}, [0, 1])
    result = allocate_arrays(**case)
    assert records(result) == [(0, 0, MAX_QUANTITY, False), (1, 1, MAX_QUANTITY - 1, False)]
    assert result.line_unfilled.tolist() == [0, 1]
    why = explain(1, result, **case)
    assert [(c.available, c.given) for c in why.candidates] == [(0, 0), (MAX_QUANTITY - 1, MAX_QUANTITY - 1)]
    index = StockIndex(**{k: v for k, v in case.items() if not k.startswith("line_")})
    booked = index.allocate(line_sku=[0, 0], line_quantity=[MAX_QUANTITY, MAX_QUANTITY], line_order=[0, 1],
                            line_channel=[0, 0], book=True)
    assert records(booked) == records(result) and index.available(0, 1) == 0
    for name in ("line_quantity", "stock_available"):
        with pytest.raises(InvalidQuantity, match=name):
            allocate_arrays(**(case | {name: case[name] + np.array([1, 1])}))


@pytest.mark.parametrize("window", [2, 5, 16])
@pytest.mark.parametrize("topology", TOPOLOGIES)
def test_the_rounds_take_lines_in_windows_of_service_order_exactly(topology: str, window: int,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from stockkit.engine import kernel_rounds

    monkeypatch.setattr(kernel_rounds, "WINDOW", window)
    monkeypatch.setattr(kernel_rounds, "ORDER_WINDOW", window)
    monkeypatch.setattr(kernel_rounds, "NEAREST_WINDOW", window)
    monkeypatch.setattr(kernel_rounds, "NEAREST_ORDER_WINDOW", window)
    for seed in range(30):
        rng = np.random.default_rng([seed, window, TOPOLOGIES.index(topology)])
        case = random_case(rng, topology, lines=int(rng.integers(0, 60)), skus=int(rng.integers(1, 4)),
                           warehouses=int(rng.integers(1, 6)), channels=int(rng.integers(1, 4)),
                           stock_scale=int(rng.integers(1, 4)))
        for policy in ALL_POLICIES[seed % 3::3]:
            policy = policy_for(topology, policy)
            assert_same(allocate_oracle(**case, policy=policy), allocate_arrays(**case, policy=policy, kernel="rounds"),
                        (topology, policy, window, seed))


@pytest.mark.parametrize("kernel", KERNELS)
def test_warehouses_equally_near_go_by_link_priority_then_index(kernel: str) -> None:
    # w0 and w2 share a site, w1 and w3 another; priorities favour w2 over w0 and tie w1, w3
    rng = np.random.default_rng(7)
    lines = 70
    case = {
        "line_order": np.arange(lines), "line_sku": rng.integers(0, 2, lines),
        "line_quantity": rng.integers(1, 4, lines), "line_channel": np.zeros(lines, np.int64),
        "line_lat": rng.choice([10.0, 40.0, np.nan], lines), "line_lon": np.full(lines, 5.0),
        "stock_warehouse": np.tile(np.arange(4), 2), "stock_sku": np.repeat([0, 1], 4),
        "stock_available": rng.integers(0, 12, 8),
        "link_channel": np.zeros(4, np.int64), "link_warehouse": np.arange(4), "link_priority": np.array([2, 1, 0, 1]),
        "warehouse_lat": np.array([10.0, 40.0, 10.0, 40.0]), "warehouse_lon": np.array([5.0, 5.0, 5.0, 5.0]),
    }
    case["line_lon"][np.isnan(case["line_lat"])] = np.nan
    for policy in (Policy(route=RouteOrder.NEAREST), Policy(route=RouteOrder.NEAREST, split=False)):
        check(case, policy, kernel)


@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize("fill", list(Fill))
def test_warehouses_metres_apart_go_by_true_distance_where_dot_products_cannot_tell(kernel: str, fill: Fill) -> None:
    # w0 lies 3.3 m from the ship-to point and w1 1.3 m: the cosines of the angles differ
    # by 1e-13, too little to trust, so the exact term must pick w1, against link priority
    lines = 80
    case = {
        "line_order": np.arange(lines), "line_sku": np.zeros(lines, np.int64),
        "line_quantity": np.ones(lines, np.int64), "line_channel": np.zeros(lines, np.int64),
        "line_lat": np.full(lines, 50.0), "line_lon": np.full(lines, 10.0),
        "stock_warehouse": np.arange(2), "stock_sku": np.zeros(2, np.int64), "stock_available": np.array([50, 50]),
        "link_channel": np.zeros(2, np.int64), "link_warehouse": np.arange(2), "link_priority": np.arange(2),
        "warehouse_lat": np.array([50.00003, 50.00001]), "warehouse_lon": np.array([10.0, 10.00001]),
    }
    for split in (True, False):
        policy = Policy(route=RouteOrder.NEAREST, fill=fill, split=split)
        want = allocate_oracle(**case, policy=policy)
        assert want.record_warehouse[0] == 1
        got = run(case, policy, kernel)
        if got is not None:
            assert_same(want, got, (policy, kernel))


@pytest.mark.parametrize("fill", [Fill.LINE, Fill.ORDER])
def test_whole_lines_and_orders_are_decided_exactly_on_waves_that_run_short(fill: Fill) -> None:
    # waves of thousands of lines on a few SKUs that run short, some back-orderable: the
    # interval kernel decides which lines or orders are filled whole over many rounds
    check_short_waves("disjoint", fill, "intervals", warehouses=8, channels=2)


def check_short_waves(topology: str, fill: Fill, kernel: str, *, warehouses: int, channels: int) -> None:
    """``kernel`` equals the oracle on four seeded workloads of 3,000 lines on 30 SKUs,
    a fifth of them back-orderable, that run short."""
    from stockkit.benchmarking.workload import generate

    for seed in range(4):
        w = generate(lines=3_000, skus=30, warehouses=warehouses, channels=channels, topology=topology, seed=seed)
        case = w.kwargs() | {"sku_backorder": np.random.default_rng(seed).random(30) < 0.2}
        policy = w.policy(fill=fill)
        want = allocate_oracle(**case, policy=policy)
        assert (want.line_unfilled > 0).sum() > 20      # the waves do run short
        assert_same(want, allocate_arrays(**case, policy=policy, kernel=kernel), (fill, seed))


@pytest.mark.parametrize("fill", [Fill.PARTIAL, Fill.LINE])
def test_event_passes_side_by_side_over_runs_of_whole_skus_are_exact(fill: Fill,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    # overlapping channels: the event kernel, its pass cut into runs of SKUs that share no
    # stock, two or three at once (small waves are cut here; they run whole by default)
    from stockkit.engine import threads as engine_threads

    monkeypatch.setattr(engine_threads, "PARALLEL_FROM_LINES", 0)
    for seed in range(30):
        rng = np.random.default_rng([seed, 41])
        case = random_case(rng, "overlapping", lines=int(rng.integers(0, 120)), skus=int(rng.integers(1, 7)),
                           warehouses=int(rng.integers(2, 7)), channels=int(rng.integers(1, 4)),
                           stock_scale=int(rng.integers(1, 4)), backorder_share=0.3)
        policy = policy_for("overlapping", Policy(fill=fill))
        want = allocate_oracle(**case, policy=policy)
        for threads in (1, 2, 3):
            try:
                got = allocate_arrays(**case, policy=policy, kernel="events", threads=threads)
            except InvalidArray as exc:
                assert "exact only" in str(exc)
                break
            assert_same(want, got, (seed, threads))
    empty = random_case(np.random.default_rng(0), "overlapping", lines=0, skus=3, warehouses=4, channels=2)
    assert_same(allocate_oracle(**empty, policy=policy), allocate_arrays(**empty, policy=policy, kernel="events",
                                                                        threads=3))


@pytest.mark.parametrize("chunk", [1, 3, 16])
@pytest.mark.parametrize("order_scale, turn", [(1, False), (17, False), (2**47, False), (2**47, True),
                                               (2**52, False), (2**52, True)])
def test_intervals_lay_lines_out_in_chunks_of_whole_groups_exactly(chunk: int, order_scale: int, turn: bool,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    # chunks of a few lines (a group is never cut), laid out one after another or side by
    # side. Spread order numbers take the other
    # ways of sorting and numbering: orders spread by 17 are numbered apart from the
    # sort keys; spread to 2**47, many cases take the path where (group, service) does not
    # pack into 62 bits but (group, service rank) does (as ten million lines in many
    # orders not in turn do); to 2**52 many take the one where service alone does not
    # pack. Where the orders come in turn the order number stays out of the keys, which
    # then pack however far apart the numbers are
    from stockkit.engine import kernel_intervals

    monkeypatch.setattr(kernel_intervals, "CHUNK", chunk)
    for seed in range(40):
        rng = np.random.default_rng([seed, chunk, order_scale])
        case = random_case(rng, "disjoint", lines=int(rng.integers(0, 80)), skus=int(rng.integers(1, 5)),
                           warehouses=int(rng.integers(1, 6)), channels=int(rng.integers(1, 4)),
                           stock_scale=int(rng.integers(1, 4)))
        case = in_turn(case) if turn else case
        case["line_order"] = case["line_order"] * order_scale
        for policy in ALL_POLICIES:
            policy = policy_for("disjoint", policy)
            got = run(case, policy, "intervals")
            if got is not None:
                want = allocate_oracle(**case, policy=policy)
                assert_same(want, got, (policy, chunk, seed))
                # chunks side by side, three at a time: the same result
                assert_same(want, allocate_arrays(**case, policy=policy, kernel="intervals", threads=3))


@pytest.mark.parametrize("turn", [False, True], ids=["shuffled", "in-turn"])
@pytest.mark.parametrize("order_scale", [1, 2**44, 2**52])
def test_events_sort_lines_by_sku_then_service_however_the_keys_pack(order_scale: int, turn: bool) -> None:
    # 257-511 lines: order numbers spread to 2**44 leave (SKU, service) too wide for 62
    # bits but not (SKU, service rank), as ten million lines in many orders not in turn
    # do; to 2**52 neither packs. Orders in turn leave their numbers out of the keys
    from stockkit.engine import kernel_events
    from stockkit.engine.inputs import check_inputs

    for seed in range(20):
        rng = np.random.default_rng([seed, 5])
        case = random_case(rng, "overlapping", lines=int(rng.integers(257, 512)), skus=int(rng.integers(2, 40)),
                           warehouses=5, channels=3, stock_scale=int(rng.integers(1, 4)))
        case = in_turn(case) if turn else case
        case["line_order"] = case["line_order"] * order_scale
        for fill in Fill:
            policy = Policy(fill=fill)
            assert_same(allocate_oracle(**case, policy=policy), allocate_arrays(**case, policy=policy,
                                                                                kernel="events"), (seed, fill))
        inp = check_inputs(**(case | {"warehouse_lat": None, "warehouse_lon": None}), policy=Policy())
        assert np.array_equal(kernel_events._sort_lines(inp)[0], np.lexsort(
            (np.arange(inp.line_order.size), inp.line_order, inp.line_priority, inp.line_sku)))


@pytest.mark.parametrize("shared_columns", [0, 4])
@pytest.mark.parametrize("fill", [Fill.PARTIAL, Fill.LINE])
def test_events_follow_each_record_running_dry_exactly_on_overlapping_waves(
        fill: Fill, shared_columns: int, monkeypatch: pytest.MonkeyPatch) -> None:
    # waves of thousands of lines whose channels rank shared warehouses differently: the
    # event kernel settles the lines between two records running dry in one go; classes
    # sharing a record search a sum of their coarse rows, or bisect when none is kept
    from stockkit.engine import kernel_events

    monkeypatch.setattr(kernel_events, "SHARED_COLUMNS", shared_columns)
    check_short_waves("overlapping", fill, "events", warehouses=9, channels=3)


def test_events_hand_a_wave_of_refused_lines_one_after_another_to_the_rounds(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # one unit left and lines of two: with fill per line every line is refused in a round
    # of its own; past the round budget the rounds kernel takes the wave, exactly
    from stockkit.engine import api, kernel_events

    monkeypatch.setattr(api, "HANDOFF_ROUNDS", 10**6)      # the rounds, not the loop, take it
    calls: list[object] = []
    allocate = kernel_events.allocate_events
    monkeypatch.setattr("stockkit.engine.api.allocate_events", lambda *a: calls.append(allocate(*a)) or calls[-1])
    n = 300
    case = {"line_order": np.arange(n), "line_sku": np.zeros(n, np.int64), "line_quantity": np.full(n, 2),
            "line_channel": np.arange(n) % 2, "stock_warehouse": np.array([0, 1]), "stock_sku": np.array([0, 0]),
            "stock_available": np.array([1, 0]), "link_channel": np.array([0, 0, 1, 1]),
            "link_warehouse": np.array([0, 1, 0, 1]), "link_priority": np.array([0, 1, 1, 0])}
    policy = Policy(fill=Fill.LINE)
    assert_same(allocate_oracle(**case, policy=policy), allocate_arrays(**case, policy=policy, kernel="events"))
    assert calls == [None]


def _alternating_case(left: int) -> dict[str, np.ndarray]:
    """One SKU of ``left`` units and lines that alternately just fail and fit as it runs out."""
    quantity = [1] + [q for r in range(left - 1, 0, -1) for q in (r + 1, 1)]
    n = len(quantity)
    return {"line_order": np.arange(n), "line_sku": np.zeros(n, np.int64), "line_quantity": np.array(quantity),
            "line_channel": np.zeros(n, np.int64), "stock_warehouse": np.array([0]), "stock_sku": np.array([0]),
            "stock_available": np.array([left]), "link_channel": np.array([0]), "link_warehouse": np.array([0]),
            "link_priority": np.array([0])}


@pytest.mark.parametrize("fill", [Fill.LINE, Fill.ORDER])
def test_intervals_hand_waves_needing_many_decision_rounds_to_the_rounds(
        fill: Fill, monkeypatch: pytest.MonkeyPatch) -> None:
    # lines that alternately just fail and fit as a SKU runs out leave one decision per
    # round; past the limit the rounds kernel takes the wave, exactly
    from stockkit.engine import api, kernel_intervals

    monkeypatch.setattr(kernel_intervals, "WHOLE_ROUNDS", 8)
    monkeypatch.setattr(api, "HANDOFF_ROUNDS", 10**6)      # the rounds, not the loop, take it
    calls: list[object] = []
    allocate = kernel_intervals.allocate_intervals
    monkeypatch.setattr("stockkit.engine.api.allocate_intervals", lambda *a: calls.append(allocate(*a)) or calls[-1])
    case = _alternating_case(60)
    policy = Policy(fill=fill)
    assert_same(allocate_oracle(**case, policy=policy), allocate_arrays(**case, policy=policy, kernel="intervals"))
    assert calls == [None]


@pytest.mark.parametrize("fill", [Fill.LINE, Fill.ORDER])
def test_a_handed_back_wave_the_rounds_settle_too_slowly_goes_to_the_python_kernel(
        fill: Fill, monkeypatch: pytest.MonkeyPatch) -> None:
    # the rounds settle such a wave a line or two per round too: past their budget the
    # plain loop serves it, exactly; with a budget it fits in, the rounds serve it
    from stockkit.engine import api, kernel_intervals, kernel_numba

    monkeypatch.setattr(kernel_intervals, "WHOLE_ROUNDS", 8)
    served: list[str] = []
    python, positions = api.allocate_python, api._allocate_positions

    def spy_python(inp):
        served.append("python")
        return python(inp)

    def spy_positions(inp, chosen, **kwargs):
        result = positions(inp, chosen, **kwargs)
        served.append("over budget" if result is None else chosen)
        return result

    def spy_by_sku(*args):
        served.append("numba")
        return by_sku(*args)

    by_sku = kernel_numba.allocate_by_sku
    monkeypatch.setattr(api, "allocate_python", spy_python)
    monkeypatch.setattr(api, "_allocate_positions", spy_positions)
    monkeypatch.setattr(kernel_numba, "allocate_by_sku", spy_by_sku)
    case = _alternating_case(200)
    policy = Policy(fill=fill)
    expected = allocate_oracle(**case, policy=policy)
    monkeypatch.setattr(api, "HANDOFF_ROUNDS", 4)
    assert_same(expected, allocate_arrays(**case, policy=policy, kernel="numpy"))
    assert served == ["over budget", "python"]
    served.clear()
    monkeypatch.setattr(api, "HANDOFF_ROUNDS", 10_000)
    assert_same(expected, allocate_arrays(**case, policy=policy, kernel="numpy"))
    assert served == ["rounds"]
    if "numba" in available_kernels():      # "auto" hands it to a compiled loop
        monkeypatch.setattr(api, "NUMBA_FROM_LINES", 0)
        served.clear()
        assert_same(expected, allocate_arrays(**case, policy=policy, kernel="auto"))
        assert served == ["numba"]
