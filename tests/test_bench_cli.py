"""``stockkit bench``: the engine, the per-line loop and the bandwidth bound side by side."""

from __future__ import annotations

import io
import json
import sys

import numpy as np
import pytest

from stockkit.benchmarking import measures
from stockkit.benchmarking.report import format_table
from stockkit.benchmarking.workload import SIZES, TOPOLOGIES, generate, small_orders
from stockkit.cli import main
from stockkit.engine import StockIndex
from stockkit.engine.threads import thread_count


def _bench(argv):
    """Run ``stockkit bench`` with ``argv``; (exit code, stdout, stderr)."""
    stdout, stderr = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sys, "stdout", stdout)
        patch.setattr(sys, "stderr", stderr)
        code = main(["bench", *argv])
    return code, stdout.getvalue(), stderr.getvalue()


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    """One ``stockkit bench --quick --json out.json`` run, shared by the tests that read it."""
    out = tmp_path_factory.mktemp("bench") / "out.json"
    code, stdout, stderr = _bench(["--quick", "--json", str(out)])
    return code, stdout, stderr, json.loads(out.read_text(encoding="utf-8"))


def test_quick_run_succeeds_and_prints_a_row_per_topology_and_fill_mode(quick):
    code, stdout, _, _ = quick
    assert code == 0
    header = next(line for line in stdout.splitlines() if line.startswith("topology"))
    assert header.split() == ["topology", "fill", "kernel", "engine", "ms", "loop", "ms", "loop", "lines",
                              "speed-up", "bound", "ms", "x", "bound", "exact"]
    rows = [line.split() for line in stdout.splitlines() if line.split()[:1] and line.split()[0] in TOPOLOGIES]
    kernels = measures.kernels(measures.Settings(**SIZES["XS"]))
    assert kernels[0] == "numpy"
    assert [(r[0], r[1], r[2]) for r in rows] == [(t, f, k) for t in TOPOLOGIES for f in measures.FILLS
                                                  for k in kernels]
    assert all(r[-1] == "yes" for r in rows)
    assert "workload: 20,000 lines" in stdout and "copy bandwidth" in stdout
    assert "wrote " in stdout


def test_quick_run_shows_a_progress_bar_on_stderr(quick):
    _, _, stderr, _ = quick
    settings = measures.Settings(**SIZES["XS"], warm_orders=20)
    total = measures.step_count(settings)
    assert f"{total}/{total} done" in stderr
    assert "\r[" in stderr and "disjoint/partial: per-line loop" in stderr and "engine (numpy) x1" in stderr


def test_quick_json_has_the_machine_the_settings_and_sane_figures(quick):
    _, _, _, document = quick
    machine = document["machine"]
    assert machine["cores"] >= 1 and machine["numpy"] == np.__version__
    assert machine["engine_threads"] == thread_count(None)
    bandwidth = machine["copy_bandwidth_bytes_per_second"]
    assert 1e8 < bandwidth < 1e13
    assert document["settings"]["lines"] == 20_000 and document["settings"]["repeats"] == 1
    results = document["results"]
    assert len(results) == len(TOPOLOGIES) * len(measures.FILLS) * len(measures.kernels(measures.Settings(1, 1, 1, 1)))
    for r in results:
        w = generate(**SIZES["XS"], topology=r["topology"], seed=0)
        inputs = sum(a.nbytes for a in w.kwargs().values() if isinstance(a, np.ndarray))
        assert r["exact"] is True and r["lines"] == 20_000 and r["orders"] == w.n_orders
        assert r["loop_lines"] == 20_000 and r["loop_scaled"] is False  # the quick run's loop fits its budget
        assert r["engine_seconds"] > 0 and r["loop_seconds"] > 0 and len(r["engine_samples"]) == 1
        assert r["first_seconds"] > 0
        # records (8 + 8 + 8 + 1 bytes each) and per line unfilled + reason (8 + 1) come on top
        assert r["traffic_bytes"] == inputs + 25 * r["records"] + 9 * 20_000
        assert r["bound_seconds"] == pytest.approx(r["traffic_bytes"] / bandwidth)
        assert r["speedup"] == pytest.approx(r["loop_seconds"] / r["engine_seconds"])
        assert r["bound_ratio"] == pytest.approx(r["engine_seconds"] / r["bound_seconds"])
        assert 0.02 < r["unfilled_share"] < 0.6        # tight stock leaves some demand unfilled
        assert r["records"] > 0
    partial = {r["topology"]: r["unfilled_share"] for r in results if r["fill"] == "partial"}
    line = {r["topology"]: r["unfilled_share"] for r in results if r["fill"] == "line"}
    assert all(line[t] >= partial[t] for t in TOPOLOGIES)  # all-or-nothing leaves more unfilled


def test_quick_run_places_single_orders_on_a_warm_index(quick):
    _, stdout, _, document = quick
    warm = document["warm_single_order"]
    assert [w["topology"] for w in warm] == list(TOPOLOGIES) and document["warm_skipped"] is None
    assert all(w["orders"] == 20 and 0 < w["median_seconds"] <= w["p99_seconds"] for w in warm)
    assert stdout.count("single order of 1-10 lines on a warm index") == len(TOPOLOGIES)


@pytest.mark.parametrize("topology", TOPOLOGIES)
def test_orders_booked_one_by_one_on_the_warm_index_match_the_loop_over_the_wave(topology):
    """What the warm measure times is the right work: the wave's result, order by order."""
    w = generate(lines=4_000, skus=60, warehouses=8, channels=4, topology=topology, seed=8)
    orders = small_orders(w, 40, seed=8)
    for order in orders:  # one priority, so that the wave serves them in arrival order
        order["line_priority"] = np.zeros_like(order["line_priority"])
    stock = {k: v for k, v in w.kwargs().items() if not k.startswith("line_")}
    index = StockIndex(**stock)
    got = [index.allocate(**order, policy=w.policy(), book=True) for order in orders]

    wave = {name: np.concatenate([o[name] for o in orders]) for name in orders[0]}
    wave["line_order"] = np.repeat(np.arange(len(orders)), [len(o["line_sku"]) for o in orders])
    expected = measures._oracle()(**wave, **stock, policy=w.policy())
    offsets = np.cumsum([0] + [len(o["line_sku"]) for o in orders])
    records = [(int(offsets[n] + line), int(wh), int(q))
               for n, r in enumerate(got)
               for line, wh, q in zip(r.record_line, r.record_warehouse, r.record_quantity, strict=True)]
    assert records == list(zip(expected.record_line.tolist(), expected.record_warehouse.tolist(),
                               expected.record_quantity.tolist(), strict=True))
    np.testing.assert_array_equal(np.concatenate([r.line_unfilled for r in got]), expected.line_unfilled)
    taken = int(expected.record_quantity.sum())
    left = int(index.stock_arrays()["stock_available"].sum())
    assert taken > 0 and int(w.stock_available.sum()) - left == taken


def w_first_order_lines():
    return generate(**SIZES["XS"], topology="disjoint", seed=0).head(1).n_lines


def test_a_loop_on_fewer_lines_is_scaled_linearly_and_says_so():
    settings = measures.Settings(**SIZES["XS"], topologies=("disjoint",), fills=("partial",), kernels=("numpy",), repeats=2,
                                 loop_lines=5_000, warm_orders=0)
    labels = []
    run = measures.run(settings, progress=labels.append)
    (m,) = run.measures
    assert m.loop_scaled and 4_990 <= m.loop_lines <= 5_000
    per_line = (m.loop_measured_seconds - m.loop_fixed_seconds) / (m.loop_lines - w_first_order_lines())
    assert 0 < m.loop_fixed_seconds < m.loop_measured_seconds
    assert m.loop_seconds == pytest.approx(m.loop_fixed_seconds + per_line * (20_000 - w_first_order_lines()))
    assert m.exact and len(m.engine_samples) == 2 and m.first_seconds > 0
    assert len(labels) == measures.step_count(settings)
    table = format_table(run)
    assert "~ per-line loop timed once on the first 'loop lines'" in table and "first order alone" in table
    row = table.splitlines()[5].split()
    assert row[4].startswith("~") and row[5] == f"{m.loop_lines:,}"


def test_a_loop_over_its_time_budget_runs_on_the_probes_1000_lines():
    settings = measures.Settings(**SIZES["XS"], topologies=("disjoint",), fills=("order",), kernels=("numpy",), repeats=1,
                                 loop_budget=1e-9, warm_orders=0)
    (m,) = measures.run(settings).measures
    assert m.loop_scaled and 990 <= m.loop_lines <= 1_000 and m.exact


def test_each_kernel_gets_a_row_against_the_same_loop():
    settings = measures.Settings(**SIZES["XS"], topologies=("overlapping",), fills=("partial", "line"),
                                 kernels=("numpy", "rounds"), repeats=1, warm_orders=0)
    run = measures.run(settings)
    assert [(m.fill, m.kernel) for m in run.measures] == [("partial", "numpy"), ("partial", "rounds"),
                                                          ("line", "numpy"), ("line", "rounds")]
    assert all(m.exact for m in run.measures)
    assert run.measures[0].loop_seconds == run.measures[1].loop_seconds
    assert run.measures[0].records == run.measures[1].records


def test_engine_runs_stop_repeating_once_they_took_the_budget():
    settings = measures.Settings(**SIZES["XS"], topologies=("disjoint",), fills=("partial",), kernels=("numpy",), repeats=5,
                                 engine_budget=1e-9, warm_orders=0)
    run = measures.run(settings)
    assert len(run.measures[0].engine_samples) == 1
    assert ("engine: median of 1 run(s) over every line (fewer than 5 once the runs took 1e-09 s), "
            "after a first run left out") in format_table(run)


def test_a_mismatch_between_engine_and_loop_fails_the_run(monkeypatch):
    oracle = measures._oracle()

    def wrong(**kwargs):
        result = oracle(**kwargs)
        return result._replace(line_unfilled=result.line_unfilled + 1)

    monkeypatch.setattr(measures, "_oracle", lambda: wrong)
    code, stdout, _ = _bench(["--quick", "--topologies", "disjoint", "--fills", "partial", "--kernels", "numpy",
                                 "--warm-orders", "0"])
    assert code == 1
    assert stdout.splitlines()[5].split()[-1] == "NO"


def test_plot_without_matplotlib_says_what_to_install_before_running(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib now raises ImportError
    code, stdout, stderr = _bench(["--quick", "--plot", str(tmp_path / "plot.png")])
    assert code == 2
    assert "--plot needs matplotlib" in stderr and "pip install 'stockkit[plot]'" in stderr
    assert stdout == "" and not (tmp_path / "plot.png").exists()


def test_plot_writes_a_png(tmp_path):
    pytest.importorskip("matplotlib", reason="the plot extra is not installed")
    path = tmp_path / "plot.png"
    code, stdout, _ = _bench(["--quick", "--topologies", "disjoint", "--plot", str(path)])
    assert code == 0 and f"wrote {path}" in stdout
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("argv", [["--topologies", "star"], ["--fills", "most"], ["--size", "XXL"],
                                  ["--lines", "0"]])
def test_bad_options_are_refused_by_the_parser(argv, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["bench", *argv])
    assert exit_.value.code == 2
    assert "stockkit bench: error" in capsys.readouterr().err


def test_sizes_that_cannot_make_a_workload_are_reported_with_what_to_do():
    code, stdout, stderr = _bench(["--quick", "--warehouses", "2", "--channels", "4"])
    assert code == 1 and stdout == ""
    assert "give at least as many warehouses as channels" in stderr


def test_the_engine_first_runs_untimed_on_the_loops_lines_then_once_apart_on_every_line(monkeypatch):
    # the first call is checked against the loop and loads a compiled kernel, so that no
    # timed call pays for the loading; the second faults in the memory of a whole run and
    # is left out of the median
    import stockkit.engine

    calls = []
    real = stockkit.engine.allocate_arrays

    def counted(**kwargs):
        calls.append(len(kwargs["line_order"]))
        return real(**kwargs)

    monkeypatch.setattr(stockkit.engine, "allocate_arrays", counted)
    settings = measures.Settings(**SIZES["XS"], topologies=("disjoint",), fills=("partial",), kernels=("numpy",),
                                 repeats=2, loop_lines=5_000, warm_orders=0)
    (m,) = measures.run(settings).measures
    assert calls == [m.loop_lines, 20_000, 20_000, 20_000] and m.exact
    assert len(m.engine_samples) == 2 and m.first_seconds not in m.engine_samples


def test_threads_go_to_the_engine_and_into_the_json(monkeypatch, tmp_path):
    import stockkit.engine

    asked = []
    real = stockkit.engine.allocate_arrays

    def counted(**kwargs):
        asked.append(kwargs["threads"])
        return real(**kwargs)

    monkeypatch.setattr(stockkit.engine, "allocate_arrays", counted)
    out = tmp_path / "one.json"
    code, stdout, _ = _bench(["--quick", "--topologies", "disjoint", "--fills", "partial", "--warm-orders", "0",
                              "--threads", "1", "--json", str(out)])
    assert code == 0 and asked and set(asked) == {1}
    assert json.loads(out.read_text())["machine"]["engine_threads"] == 1
    assert "engine on 1 thread(s)" in stdout


@pytest.mark.parametrize(("threads", "message"), [("0", "expected at least 1, got 0"),
                                                  ("-2", "expected at least 1, got -2"),
                                                  ("two", "expected a whole number, got 'two'")])
def test_a_thread_count_below_one_is_refused(threads, message, capsys):
    with pytest.raises(SystemExit) as raised:
        main(["bench", "--quick", "--threads", threads])
    assert raised.value.code == 2
    assert message in capsys.readouterr().err


def test_each_engine_result_is_let_go_before_the_next_call():
    # a call made while the last one's arrays are held lands on fresh memory, which the
    # system must fault in: the bench measures a process placing wave after wave
    import weakref

    class Result:
        pass

    held, refs = [], []

    def call():
        held.append(any(ref() is not None for ref in refs))
        result = Result()
        refs.append(weakref.ref(result))
        return result

    last, samples = measures._timed(call, 3)
    assert held == [False, False, False] and len(samples) == 3 and refs[-1]() is last
