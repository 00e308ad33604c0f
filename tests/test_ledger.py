"""The ledger: every change recorded, filterable, verifiable, prunable by folding.

Random sequences of every operation keep the ledger adding up to the levels, verify()
clean and no column (available included) negative: the model state machine checks that
after every step (:mod:`stockkit.testing.statemachine`, run by tests/test_statemachine.py
and by the conformance suite on every backend)."""

# ruff: noqa: F811  (the fixtures imported from _helpers come back as test arguments)
from __future__ import annotations

import datetime as dt
import io

import attrs
import pytest
from _helpers import (  # noqa: F401  (pytest fixtures)
    FakeClock,
    fake_clock,
    inventory,
    new_inventory,
    shop,
    stock_shop,
)

from stockkit import Discrepancy, LedgerKind
from stockkit.errors import InvalidDate, ValidationError

K = LedgerKind


def _deltas(entries):
    return [(e.kind, e.sku, e.warehouse, e.on_hand, e.safety, e.booked, e.incoming) for e in entries]


def _sums(entries):
    sums: dict[tuple[str, str], list[int]] = {}
    for e in entries:
        row = sums.setdefault((e.sku, e.warehouse), [0, 0, 0, 0])
        for i, column in enumerate(("on_hand", "safety", "booked", "incoming")):
            row[i] += getattr(e, column)
    return sums


def test_each_operation_writes_its_entry_newest_first(inventory, fake_clock):
    inv = inventory
    inv.create_warehouse("w1", "One", latitude=1.0, longitude=1.0, active=True)
    inv.create_warehouse("w2", "Two", latitude=2.0, longitude=2.0, active=True)
    inv.create_channel("web", "Web")
    inv.link_warehouse("web", "w1")
    ops = []

    inv.set_level("X", "w1", on_hand=10, safety=1)
    ops.append((K.SET, "X", "w1", 10, 1, 0, 0))
    inv.adjust("X", "w1", -2, "damaged")
    ops.append((K.ADJUSTED, "X", "w1", -2, 0, 0, 0))
    inv.place_order("o1", "web", [("X", 3)])
    ops.append((K.BOOKED, "X", "w1", 0, 0, 3, 0))
    inv.hold("h1", "web", [("X", 1)], ttl=dt.timedelta(hours=1))
    ops.append((K.HELD, "X", "w1", 0, 0, 1, 0))
    inv.confirm_hold("h1")
    ops.append((K.CONFIRMED, "X", "w1", 0, 0, 0, 0))
    inv.release("h1")
    ops.append((K.RELEASED, "X", "w1", 0, 0, -1, 0))
    inv.ship("o1", "1", "w1", 2)
    ops.append((K.CONSUMED, "X", "w1", -2, 0, -2, 0))
    inv.cancel_shipment("S-1")
    ops.append((K.RESTORED, "X", "w1", 2, 0, 2, 0))
    inv.transfer("X", "w1", "w2", 2)
    ops.append((K.MOVED, "X", "w1", -2, 0, 0, 0))
    inv.receive_transfer("T-1")
    ops.append((K.MOVED, "X", "w2", 2, 0, 0, 0))
    inv.add_replenishment("X", "w1", 6, dt.date(2024, 4, 1))
    ops.append((K.EXPECTED, "X", "w1", 0, 0, 0, 6))
    inv.receive_replenishment("R-1", 4)
    ops.append((K.RECEIVED, "X", "w1", 4, 0, 0, -4))
    inv.cancel_replenishment("R-1")
    ops.append((K.CANCELLED, "X", "w1", 0, 0, 0, -2))
    inv.import_levels(io.StringIO("sku,warehouse,on_hand\nX,w2,5\n"))
    ops.append((K.IMPORTED, "X", "w2", 3, 0, 0, 0))
    inv.hold("h2", "web", [("X", 1)], ttl=dt.timedelta(minutes=1))
    ops.append((K.HELD, "X", "w1", 0, 0, 1, 0))
    fake_clock.advance(dt.timedelta(minutes=2))
    inv.sweep_expired_holds()
    ops.append((K.EXPIRED, "X", "w1", 0, 0, -1, 0))
    inv.delete_warehouse("w2", force=True)
    ops.append((K.REMOVED, "X", "w2", -5, 0, 0, 0))

    entries = inv.ledger()
    assert _deltas(entries) == list(reversed(ops))
    assert [e.seq for e in entries] == sorted((e.seq for e in entries), reverse=True)
    assert len({e.seq for e in entries}) == len(entries)
    assert inv.verify().ok


def test_entries_carry_their_references_and_quantity(shop, fake_clock):
    shop.place_order("o1", "web", [("SKU-A", 2)])
    shop.ship("o1", "1", "ams", 2)

    [consumed] = shop.ledger(kinds=["consumed"])

    assert (consumed.order_id, consumed.line_id, consumed.reference) == ("o1", "1", "S-1")
    assert consumed.at == fake_clock.now
    assert consumed.quantity == -2
    [booked] = shop.ledger(kinds=["booked"])
    assert booked.quantity == 2


def test_the_ledger_filters_by_kind_names_and_kinds(shop):
    shop.adjust("SKU-A", "ams", 1, "found")
    shop.place_order("o1", "web", [("SKU-A", 1)])

    by_name = shop.ledger(kinds=["adjusted", "booked"])
    by_kind = shop.ledger(kinds=[K.ADJUSTED, K.BOOKED])
    mixed = shop.ledger(kinds={"adjusted", K.BOOKED})

    assert [e.kind for e in by_name] == [K.BOOKED, K.ADJUSTED]
    assert by_kind == by_name == mixed
    assert shop.ledger(kinds=[]) == []


def test_an_unknown_kind_is_refused(shop):
    with pytest.raises(ValidationError):
        shop.ledger(kinds=["booked", "stolen"])


def test_time_filters_need_aware_datetimes(shop, fake_clock):
    with pytest.raises(InvalidDate):
        shop.ledger(since=fake_clock.now.replace(tzinfo=None))
    with pytest.raises(InvalidDate):
        shop.ledger(until=fake_clock.now.date())


def test_the_ledger_filters_by_time_range(shop, fake_clock):
    start = fake_clock.now
    fake_clock.advance(dt.timedelta(hours=1))
    t1 = fake_clock.now
    shop.adjust("SKU-A", "ams", 1, "one")
    fake_clock.advance(dt.timedelta(hours=1))
    t2 = fake_clock.now
    shop.adjust("SKU-A", "ams", 2, "two")

    assert [e.reason for e in shop.ledger(since=t1)] == ["two", "one"]
    assert [e.reason for e in shop.ledger(since=t2)] == ["two"]
    assert [e.reason for e in shop.ledger(since=t1, until=t2)] == ["one"]  # until is excluded
    assert len(shop.ledger(until=t1)) == len(shop.ledger(until=start + dt.timedelta(seconds=1)))
    cet = dt.timezone(dt.timedelta(hours=1))
    assert [e.reason for e in shop.ledger(since=t2.astimezone(cet))] == ["two"]


def test_the_ledger_filters_by_sku_warehouse_order_and_limit(shop):
    shop.place_order("o1", "web", [("SKU-A", 8)])
    shop.place_order("o2", "web", [("SKU-B", 1)])

    assert [(e.kind, e.warehouse) for e in shop.ledger(order_id="o1")] == [
        (K.BOOKED, "ber"), (K.BOOKED, "ams"),
    ]
    assert {e.warehouse for e in shop.ledger(warehouse="ber")} == {"ber"}
    assert [e.kind for e in shop.ledger(warehouse="ber")] == [K.BOOKED, K.SET]
    assert {e.sku for e in shop.ledger("SKU-B")} == {"SKU-B"}
    assert [e.order_id for e in shop.ledger(limit=2)] == ["o2", "o1"]
    assert shop.ledger(limit=2) == shop.ledger()[:2]
    assert shop.ledger("SKU-A", warehouse="ams", kinds=["booked"], order_id="o1", limit=5)[0].booked == 5


def test_the_ledger_records_the_actor(fake_clock):
    inv = new_inventory(fake_clock, actor="importer")
    inv.create_warehouse("w1", "One")

    inv.set_level("X", "w1", on_hand=1)
    inv.adjust("X", "w1", 1, "count", actor="alice")

    assert [e.actor for e in inv.ledger()] == ["alice", "importer"]


def test_without_actors_none_is_recorded(shop):
    assert {e.actor for e in shop.ledger()} == {None}


def test_verify_holds_after_a_long_mixed_scenario(shop, fake_clock):
    shop.add_replenishment("SKU-A", "ams", 10, dt.date(2024, 4, 1))
    shop.place_order("o1", "web", [("SKU-A", 8), ("SKU-B", 2)])
    shop.hold("h1", "web", [("SKU-A", 3)], ttl=dt.timedelta(minutes=10))
    shop.hold("h2", "web", [("SKU-B", 1)], ttl=dt.timedelta(minutes=10))
    shop.confirm_hold("h2")
    shop.ship("o1", "1", "ber", 6)
    shop.ship("o1", "2", "ams", 1)
    shop.cancel_shipment("S-2")
    shop.transfer("SKU-A", "cph", "ams", 50)
    fake_clock.advance(dt.timedelta(minutes=20))
    shop.receive_replenishment("R-1", 4)
    shop.place_order("o2", "web", [("SKU-A", 6)])  # takes units of the expired hold h1
    shop.receive_transfer("T-1")
    shop.release("o1", "2")
    shop.set_level("SKU-B", "ams", on_hand=9, safety=2)
    shop.adjust("SKU-A", "ber", -1, "broken")
    assert shop.verify().ok  # before the sweep too
    shop.sweep_expired_holds()
    shop.cancel_replenishment("R-1")

    report = shop.verify()

    assert report.ok, report.discrepancies
    assert report.discrepancies == ()
    assert report.levels_checked == len([lv for s in shop.search_skus() for lv in s.levels])
    assert report.entries_checked == len(shop.ledger())


@pytest.mark.memory_only
def test_verify_detects_a_level_that_disagrees_with_its_ledger(shop):
    levels = shop._store._tables.levels
    level = levels[("SKU-A", "ams")]
    levels[("SKU-A", "ams")] = attrs.evolve(level, on_hand=level.on_hand + 1)

    report = shop.verify()

    assert not report.ok
    assert [(d.sku, d.warehouse, d.field, d.stored, d.expected) for d in report.discrepancies] == [
        ("SKU-A", "ams", "on_hand", 6, 5)
    ]
    assert isinstance(report.discrepancies[0], Discrepancy)


@pytest.mark.memory_only
def test_verify_detects_booked_units_without_bookings(shop):
    levels = shop._store._tables.levels
    level = levels[("SKU-B", "ams")]
    levels[("SKU-B", "ams")] = attrs.evolve(level, booked=1)

    fields = {(d.sku, d.warehouse, d.field) for d in shop.verify().discrepancies}

    assert fields == {("SKU-B", "ams", "booked")}


def _old_and_new_history(inv, clock: FakeClock):
    inv.place_order("o1", "web", [("SKU-A", 7)])
    inv.add_replenishment("SKU-B", "ams", 4, dt.date(2024, 4, 1))
    clock.advance(dt.timedelta(days=400))
    inv.adjust("SKU-A", "ber", 2, "found")
    inv.ship("o1", "1", "ams", 5)


def test_pruning_folds_old_entries_into_one_snapshot_per_level(shop, fake_clock):
    _old_and_new_history(shop, fake_clock)
    before = shop.ledger()
    cutoff = fake_clock.now - dt.timedelta(days=365)
    old = [e for e in before if e.at < cutoff]
    new = [e for e in before if e.at >= cutoff]

    folded = shop.prune_ledger(older_than=dt.timedelta(days=365))

    assert folded == len(old)
    after = shop.ledger()
    assert after[: len(new)] == new  # newer entries untouched, still newest first
    snapshots = after[len(new):]
    assert {e.kind for e in snapshots} == {K.SNAPSHOT}
    assert sorted((e.sku, e.warehouse) for e in snapshots) == sorted({(e.sku, e.warehouse) for e in old})
    assert _sums(after) == _sums(before)
    assert shop.verify().ok
    assert shop.ledger(kinds=["snapshot"]) == snapshots


def test_pruning_keeps_each_snapshot_at_the_time_of_its_newest_folded_entry(shop, fake_clock):
    shop.adjust("SKU-A", "ams", 1, "early")
    fake_clock.advance(dt.timedelta(days=10))
    late = shop.adjust("SKU-A", "ams", 1, "late")
    fake_clock.advance(dt.timedelta(days=400))

    shop.prune_ledger(dt.timedelta(days=365))

    [snapshot] = shop.ledger("SKU-A", warehouse="ams")
    assert snapshot.kind is K.SNAPSHOT
    assert snapshot.at == fake_clock.now - dt.timedelta(days=400)
    assert snapshot.on_hand == late.on_hand == 7


def test_pruning_by_a_cutoff_time(shop, fake_clock):
    fake_clock.advance(dt.timedelta(days=1))
    shop.adjust("SKU-A", "ams", 1, "later")
    before = shop.ledger()

    folded = shop.prune_ledger(fake_clock.now)

    assert folded == len(before) - 1
    assert shop.ledger()[0] == before[0]
    assert _sums(shop.ledger()) == _sums(before)
    assert shop.verify().ok


def test_pruning_with_nothing_old_enough_changes_nothing(shop):
    before = shop.ledger()

    assert shop.prune_ledger(dt.timedelta(days=365)) == 0

    assert shop.ledger() == before


def test_pruning_again_with_nothing_new_to_fold_folds_nothing(shop, fake_clock):
    _old_and_new_history(shop, fake_clock)
    assert shop.prune_ledger(dt.timedelta(days=365)) > 0
    after_first = shop.ledger()

    # the snapshots are already one entry per level: there is nothing left to fold
    assert shop.prune_ledger(dt.timedelta(days=365)) == 0

    assert shop.ledger() == after_first
    assert shop.verify().ok


def test_pruning_refuses_a_negative_age(shop):
    before = shop.ledger()

    with pytest.raises(ValidationError):
        shop.prune_ledger(dt.timedelta(days=-1))

    assert shop.ledger() == before


def test_pruning_by_an_age_beyond_the_calendar_folds_nothing(shop):
    before = shop.ledger()

    try:
        folded = shop.prune_ledger(dt.timedelta.max)
    except ValidationError:
        pass  # refusing the age outright is fine too; crashing with OverflowError is not
    else:
        assert folded == 0

    assert shop.ledger() == before


def test_a_pruned_inventory_keeps_working(shop, fake_clock):
    _old_and_new_history(shop, fake_clock)
    shop.prune_ledger(dt.timedelta(days=365))

    shop.release("o1")
    shop.receive_replenishment("R-1")

    assert shop.verify().ok
    assert shop.level("SKU-B", "ams").on_hand == 7


def test_the_shop_fixture_is_sound():
    inv = stock_shop(new_inventory(FakeClock()))
    report = inv.verify()
    assert report.ok
    assert report.levels_checked == 4
    assert report.entries_checked == 4
