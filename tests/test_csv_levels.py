"""Bulk export and import of levels as CSV."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from conftest import FakeClock, build_stocked, unchanged

import stockkit
from stockkit import LedgerKind
from stockkit.csv_levels import EXPORT_COLUMNS, read_levels
from stockkit.errors import ImportFailed, ValidationError


def export(inv) -> str:
    out = io.StringIO()
    inv.export_levels(out)
    return out.getvalue()


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def fresh_inventory_like(inv):
    """A new inventory with the same warehouses (no stock, no channels)."""
    other = stockkit.open(clock=FakeClock(), autoload_plugins=False)
    for w in inv.warehouses():
        other.create_warehouse(w.code, w.name, active=w.active, latitude=w.latitude, longitude=w.longitude)
    return other


def import_problems(inv, text: str) -> list[tuple[int, str]]:
    """Import ``text``, which must fail without changing anything; return the problems."""
    ledger_size = len(inv.ledger())
    with unchanged(inv), pytest.raises(ImportFailed) as failure:
        inv.import_levels(io.StringIO(text))
    assert len(inv.ledger()) == ledger_size
    return failure.value.problems


# -- export ------------------------------------------------------------------------------


def test_export_writes_every_level_with_a_header(stocked):
    stocked.place_order("o1", "web", [("TEE-M", 12)])
    stocked.add_replenishment("MUG", "ams", 6, dt.date(2024, 2, 1))

    text = export(stocked)

    assert text.splitlines()[0] == ",".join(EXPORT_COLUMNS) == "sku,warehouse,on_hand,safety,booked,available,incoming"
    assert rows(text) == [
        {"sku": "MUG", "warehouse": "ams", "on_hand": "4", "safety": "0", "booked": "0", "available": "4",
         "incoming": "6"},
        {"sku": "TEE-M", "warehouse": "ams", "on_hand": "10", "safety": "0", "booked": "10", "available": "0",
         "incoming": "0"},
        {"sku": "TEE-M", "warehouse": "ber", "on_hand": "5", "safety": "1", "booked": "2", "available": "2",
         "incoming": "0"},
        {"sku": "TEE-M", "warehouse": "par", "on_hand": "3", "safety": "0", "booked": "0", "available": "3",
         "incoming": "0"},
    ]


def test_export_returns_the_number_of_rows(stocked):
    assert stocked.export_levels(io.StringIO()) == 4


def test_export_of_an_empty_inventory_is_just_the_header(inv):
    out = io.StringIO()

    assert inv.export_levels(out) == 0
    assert out.getvalue() == "sku,warehouse,on_hand,safety,booked,available,incoming\n"


def test_export_includes_inactive_warehouses(stocked):
    stocked.deactivate_warehouse("par")

    assert ("TEE-M", "par") in {(r["sku"], r["warehouse"]) for r in rows(export(stocked))}


def test_export_does_not_count_expired_holds(stocked, clock):
    stocked.hold("cart", "web", [("MUG", 3)], ttl=dt.timedelta(minutes=10))
    assert rows(export(stocked))[0]["booked"] == "3"

    clock.advance(dt.timedelta(minutes=10))

    (mug, *_) = rows(export(stocked))
    assert (mug["booked"], mug["available"]) == ("0", "4")


# -- round trip --------------------------------------------------------------------------


def test_an_export_imports_into_a_fresh_inventory_with_the_same_levels(stocked):
    stocked.place_order("o1", "web", [("TEE-M", 3)])  # booked is exported but not imported
    text = export(stocked)
    other = fresh_inventory_like(stocked)

    assert other.import_levels(io.StringIO(text)) == 4

    def stock_of(inv):
        return {(r["sku"], r["warehouse"]): (r["on_hand"], r["safety"]) for r in rows(export(inv))}

    assert stock_of(other) == stock_of(stocked)
    assert other.level("TEE-M", "ber").safety == 1
    assert other.level("TEE-M", "ams").booked == 0
    assert other.verify().ok


def test_import_writes_imported_ledger_entries(stocked, clock):
    clock.advance(dt.timedelta(hours=2))
    text = "sku,warehouse,on_hand,safety\nTEE-M,ams,12,2\nCAP,par,7,0\n"

    stocked.import_levels(io.StringIO(text), reason="nightly ERP sync", actor="erp")

    entries = stocked.ledger(kinds=[LedgerKind.IMPORTED])
    assert sorted((e.sku, e.warehouse, e.on_hand, e.safety) for e in entries) == [
        ("CAP", "par", 7, 0), ("TEE-M", "ams", 2, 2),
    ]
    assert {(e.reason, e.actor, e.at) for e in entries} == {("nightly ERP sync", "erp", clock())}
    assert stocked.level("TEE-M", "ams").on_hand == 12
    assert stocked.verify().ok


def test_the_default_import_reason(stocked):
    stocked.import_levels(io.StringIO("sku,warehouse,on_hand\nCAP,par,1\n"))

    assert stocked.ledger(kinds=["imported"])[0].reason == "CSV import"


def test_import_without_a_safety_column_keeps_safety(stocked):
    stocked.import_levels(io.StringIO("sku,warehouse,on_hand\nTEE-M,ber,9\n"))

    level = stocked.level("TEE-M", "ber")
    assert (level.on_hand, level.safety) == (9, 1)


def test_import_ignores_other_columns_and_column_order(stocked):
    text = "note,on_hand,warehouse,sku\nrecount,8,par,TEE-M\n"

    assert stocked.import_levels(io.StringIO(text)) == 1
    assert stocked.level("TEE-M", "par").on_hand == 8


def test_import_can_set_on_hand_down_to_what_is_booked(stocked):
    stocked.place_order("o1", "web", [("MUG", 3)])

    stocked.import_levels(io.StringIO("sku,warehouse,on_hand\nMUG,ams,3\n"))

    assert stocked.level("MUG", "ams").available == 0


def test_import_into_an_inactive_warehouse(stocked):
    stocked.create_warehouse("lon", "London")

    stocked.import_levels(io.StringIO("sku,warehouse,on_hand\nTEE-M,lon,4\n"))

    assert stocked.level("TEE-M", "lon").on_hand == 4


def test_an_import_with_only_a_header_imports_nothing(stocked):
    with unchanged(stocked):
        assert stocked.import_levels(io.StringIO("sku,warehouse,on_hand\n")) == 0


# -- all or nothing ----------------------------------------------------------------------


@pytest.mark.parametrize("quantity", ["x", "", "3.0", "-3", "1e3", "99999999999999999999999"])
def test_a_bad_quantity_fails_the_whole_import(stocked, quantity):
    text = f"sku,warehouse,on_hand\nTEE-M,ams,20\nTEE-M,ber,{quantity}\nMUG,ams,1\n"

    problems = import_problems(stocked, text)

    assert [line for line, _ in problems] == [3]
    assert "on_hand" in problems[0][1]


def test_a_bad_safety_is_reported(stocked):
    problems = import_problems(stocked, "sku,warehouse,on_hand,safety\nTEE-M,ams,20,-1\n")

    assert [line for line, _ in problems] == [2]
    assert "safety" in problems[0][1]


def test_an_unknown_warehouse_fails_the_whole_import(stocked):
    problems = import_problems(stocked, "sku,warehouse,on_hand\nTEE-M,ams,20\nTEE-M,lon,5\n")

    assert problems == [(3, "no warehouse has code 'lon'")]


def test_a_level_given_twice_fails_the_whole_import(stocked):
    problems = import_problems(stocked, "sku,warehouse,on_hand\nTEE-M,ams,20\nMUG,ams,2\nTEE-M,ams,21\n")

    assert [line for line, _ in problems] == [4]
    assert "line 2" in problems[0][1]


@pytest.mark.parametrize(("header", "missing"), [
    ("sku,warehouse", "on_hand"),
    ("sku,on_hand", "warehouse"),
    ("warehouse,on_hand,safety", "sku"),
    ("SKU,Warehouse,On_Hand", "sku"),
])
def test_a_missing_header_column_fails_the_import(stocked, header, missing):
    problems = import_problems(stocked, f"{header}\nTEE-M,ams,20\n")

    assert [line for line, _ in problems] == [1]
    assert missing in problems[0][1]


def test_an_empty_file_fails_the_import(stocked):
    assert [line for line, _ in import_problems(stocked, "")] == [1]


def test_setting_less_than_is_booked_fails_the_whole_import(stocked):
    stocked.place_order("o1", "web", [("TEE-M", 12)])  # ams 10, ber 2 booked

    problems = import_problems(stocked, "sku,warehouse,on_hand,safety\nMUG,ams,9,0\nTEE-M,ber,3,2\n")

    assert [line for line, _ in problems] == [3]
    assert "TEE-M at ber" in problems[0][1]


def test_raising_safety_into_booked_stock_fails_the_import(stocked):
    stocked.place_order("o1", "web", [("MUG", 3)])

    problems = import_problems(stocked, "sku,warehouse,on_hand,safety\nMUG,ams,4,2\n")

    assert [line for line, _ in problems] == [2]


def test_every_bad_row_of_one_kind_is_listed_with_its_line(stocked):
    text = (
        "sku,warehouse,on_hand\n"
        "TEE-M,ams,x\n"      # 2: bad quantity
        "TEE-M,ber,5\n"
        ",par,1\n"           # 4: no SKU
        "\n"                 # 5: blank lines are skipped but counted
        "TEE-M,ber,6\n"      # 6: given twice (line 3)
    )

    problems = import_problems(stocked, text)

    assert [line for line, _ in problems] == [2, 4, 6]
    assert isinstance(problems[0][1], str)


def test_every_bad_row_is_listed_whatever_its_fault(stocked):
    """The import lists every bad row in one go, so a user fixes a file in one pass: rows
    with bad values and rows naming an unknown warehouse or breaking bookings alike."""
    stocked.place_order("o1", "web", [("MUG", 3)])
    text = (
        "sku,warehouse,on_hand\n"
        "TEE-M,ams,x\n"      # 2: bad quantity
        "TEE-M,lon,5\n"      # 3: unknown warehouse
        "MUG,ams,1\n"        # 4: less than the 3 booked
        "TEE-M,ber,5\n"
    )

    problems = import_problems(stocked, text)

    assert [line for line, _ in problems] == [2, 3, 4]


def test_import_failed_is_a_validation_error_with_a_readable_message(stocked):
    with pytest.raises(ValidationError, match=r"nothing was imported: line 2: .*line 3: "):
        stocked.import_levels(io.StringIO("sku,warehouse,on_hand\nA,ams,-1\nB,ams,x\n"))


def test_the_message_shows_ten_problems_and_counts_the_rest():
    error = ImportFailed([(n, "bad") for n in range(2, 15)])

    assert "line 11: bad" in str(error)
    assert "line 12" not in str(error)
    assert "(and 3 more)" in str(error)
    assert len(error.problems) == 13


def test_an_import_reason_must_be_text(stocked):
    with unchanged(stocked), pytest.raises(ValidationError):
        stocked.import_levels(io.StringIO("sku,warehouse,on_hand\nCAP,par,1\n"), reason=5)


# -- the parser on its own ---------------------------------------------------------------


def test_read_levels_gives_line_numbers_and_parsed_values():
    parsed = read_levels(io.StringIO("sku,warehouse,on_hand,safety\n A ,ams, 4 ,1\nB,ber,0,0\n"))

    assert [(r.line, r.sku, r.warehouse, r.on_hand, r.safety) for r in parsed.rows] == [
        (2, "A", "ams", 4, 1), (3, "B", "ber", 0, 0),
    ]
    assert parsed.problems == []


def test_read_levels_keeps_the_good_rows_and_lists_the_bad_ones():
    parsed = read_levels(io.StringIO("sku,warehouse,on_hand\nA,ams,4\nB,ber,-1\n"))

    assert [r.sku for r in parsed.rows] == ["A"]
    assert [line for line, _ in parsed.problems] == [3]


def test_read_levels_without_safety_leaves_it_unset():
    (row,) = read_levels(io.StringIO("sku,warehouse,on_hand\nA,ams,4\n")).rows

    assert row.safety is None


def test_an_imported_inventory_is_independent_of_its_source():
    source = build_stocked(stockkit.open(clock=FakeClock(), autoload_plugins=False))
    target = fresh_inventory_like(source)
    target.import_levels(io.StringIO(export(source)))

    source.adjust("TEE-M", "ams", -1, "sold")

    assert target.level("TEE-M", "ams").on_hand == 10
