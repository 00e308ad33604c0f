"""Bulk export and import of levels as CSV, for moving stock in and out of other systems.

Export writes ``sku,warehouse,on_hand,safety,booked,available,incoming``. Import needs
``sku``, ``warehouse`` and ``on_hand`` columns (``safety`` optional; other columns are
ignored, so an export reads back as it is) and reports every bad row with its line number.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from typing import IO

import attrs

from stockkit.errors import ImportFailed, StockkitError
from stockkit.model import Level
from stockkit.store import LevelKey
from stockkit.validation import check_code, check_quantity

__all__ = ["EXPORT_COLUMNS", "LevelRow", "ParsedLevels", "write_levels", "read_levels", "check_rows_against"]

#: The columns :func:`write_levels` writes, in order.
EXPORT_COLUMNS = ("sku", "warehouse", "on_hand", "safety", "booked", "available", "incoming")
_REQUIRED = ("sku", "warehouse", "on_hand")


@attrs.frozen
class LevelRow:
    """One parsed import row; ``line`` is its line number in the file (header is 1)."""

    line: int
    sku: str
    warehouse: str
    on_hand: int
    safety: int | None


@attrs.frozen
class ParsedLevels:
    """What :func:`read_levels` found: the good rows, and ``(line, message)`` for each bad
    one."""

    rows: list[LevelRow]
    problems: list[tuple[int, str]]


def write_levels(out: IO[str], levels: Iterable[Level]) -> int:
    """Write levels as CSV with a header; return the number of rows."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    count = 0
    for lv in levels:
        writer.writerow([lv.sku, lv.warehouse, lv.on_hand, lv.safety, lv.booked, lv.available, lv.incoming])
        count += 1
    return count


def _whole_number(text: str | None, column: str) -> int:
    if text is None or not text.strip().lstrip("+-").isdigit():
        raise ValueError(f"{column} must be a whole number, got {text!r}")
    return check_quantity(int(text), column, allow_zero=True)


def read_levels(source: IO[str]) -> ParsedLevels:
    """Parse import rows, checking each on its own (bad codes or quantities, a level given
    twice); raise :class:`ImportFailed` at once only when the header lacks a column."""
    reader = csv.DictReader(source)
    missing = [c for c in _REQUIRED if c not in (reader.fieldnames or [])]
    if missing:
        raise ImportFailed([(1, f"the header lacks the column(s) {', '.join(missing)}; "
                                f"it needs {', '.join(_REQUIRED)} (safety optional)")])
    has_safety = "safety" in (reader.fieldnames or [])
    rows: list[LevelRow] = []
    problems: list[tuple[int, str]] = []
    seen: dict[LevelKey, int] = {}
    for record in reader:
        line = reader.line_num
        try:
            row = LevelRow(
                line=line,
                sku=check_code(record.get("sku"), "sku"),
                warehouse=check_code(record.get("warehouse"), "warehouse"),
                on_hand=_whole_number(record.get("on_hand"), "on_hand"),
                safety=_whole_number(record.get("safety"), "safety") if has_safety else None,
            )
        except (ValueError, StockkitError) as exc:
            problems.append((line, str(exc)))
            continue
        key = (row.sku, row.warehouse)
        if key in seen:
            problems.append((line, f"{row.sku} at {row.warehouse} was given already on line {seen[key]}"))
            continue
        seen[key] = line
        rows.append(row)
    return ParsedLevels(rows, problems)


def check_rows_against(
    parsed: ParsedLevels,
    warehouses: set[str],
    levels: Mapping[LevelKey, Level],
    expired_held: Mapping[LevelKey, int],
) -> None:
    """Raise :class:`ImportFailed` listing, by line, every bad row: those :func:`read_levels`
    found, and those naming an unknown warehouse or setting less stock than is booked."""
    problems = list(parsed.problems)
    for row in parsed.rows:
        key = (row.sku, row.warehouse)
        if row.warehouse not in warehouses:
            problems.append((row.line, f"no warehouse has code {row.warehouse!r}"))
            continue
        level = levels.get(key) or Level(*key)
        safety = level.safety if row.safety is None else row.safety
        booked = level.booked - expired_held.get(key, 0)
        if row.on_hand - safety < booked:
            problems.append((row.line, f"{row.sku} at {row.warehouse}: on_hand {row.on_hand} with safety {safety} "
                                       f"would not cover the {booked} units booked"))
    if problems:
        raise ImportFailed(sorted(problems))
