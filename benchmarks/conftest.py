"""Shared by the benchmark files: notes printed after pytest-benchmark's table.

pytest-benchmark's table shows what was timed. Some figures are derived from a timing (the
per-line loop scaled from a slice to every line, the bandwidth bound, peak memory per
line); tests add them with the ``bench_note`` fixture and they are printed at the end.
"""

from __future__ import annotations

import pytest

_NOTES: list[str] = []


@pytest.fixture
def bench_note():
    """Call with a line of text to print in the end-of-run summary."""
    return _NOTES.append


def pytest_terminal_summary(terminalreporter) -> None:  # type: ignore[no-untyped-def]
    if _NOTES:
        terminalreporter.section("derived figures")
        for note in _NOTES:
            terminalreporter.write_line(note)
