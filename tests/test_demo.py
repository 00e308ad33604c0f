"""The demo tells a full, sound story, and the command line runs it."""

from __future__ import annotations

import io

import pytest

from stockkit import cli
from stockkit.demo import DemoSummary, run_demo


@pytest.fixture(scope="module")
def small_run() -> tuple[DemoSummary, str]:
    out = io.StringIO()
    summary = run_demo(out, seed=7, orders=400)
    return summary, out.getvalue()


def test_the_run_ends_with_a_sound_ledger(small_run: tuple[DemoSummary, str]) -> None:
    summary, text = small_run
    assert summary.verify_ok
    assert "verify                       OK" in text


def test_some_orders_are_refused_and_units_ship(small_run: tuple[DemoSummary, str]) -> None:
    summary, _ = small_run
    assert summary.orders_placed + summary.orders_refused == 400
    assert summary.orders_refused > 0
    assert summary.units_shipped > 0
    assert summary.shipments_cancelled == 1 and summary.orders_cancelled == 1
    assert summary.holds_confirmed > 0 and summary.holds_expired > 0


def test_the_summary_names_every_warehouse(small_run: tuple[DemoSummary, str]) -> None:
    summary, text = small_run
    assert {w.code for w in summary.warehouses} == {"ams", "ber", "lyo", "mad", "mil"}
    for warehouse in summary.warehouses:
        assert f"  {warehouse.code}" in text and warehouse.city in text
    inactive = [w for w in summary.warehouses if not w.active]
    assert [w.code for w in inactive] == ["mil"] and "mil (inactive)" in text


def test_the_story_has_its_events(small_run: tuple[DemoSummary, str]) -> None:
    summary, _ = small_run
    events = "\n".join(summary.events)
    for words in ("replenishment", "received in full", "transfer", "booking moved",
                  "cancelled at the dock", "cancelled by the customer"):
        assert words in events


def test_a_seed_always_tells_the_same_story() -> None:
    first, second = io.StringIO(), io.StringIO()
    assert run_demo(first, seed=3, orders=150) == run_demo(second, seed=3, orders=150)
    assert first.getvalue() == second.getvalue()


def test_orders_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        run_demo(io.StringIO(), orders=0)


def test_cli_demo(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["demo", "--orders", "200"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("stockkit demo: seed 7, 200 orders")
    assert "verify                       OK" in out


def test_cli_without_a_command_prints_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main([]) == 2
    assert "demo" in capsys.readouterr().err


def test_cli_refuses_a_bad_order_count(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        cli.main(["demo", "--orders", "none"])
    assert exc.value.code == 2
    assert "expected a whole number" in capsys.readouterr().err
