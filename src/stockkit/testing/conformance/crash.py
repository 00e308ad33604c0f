"""Crash safety: a writer killed at any moment loses nothing it acknowledged, and a
transaction cut short leaves nothing half done.

A writer process (:mod:`stockkit.testing.conformance.crash_worker`, started with
``subprocess`` as ``python -m ...``, never forked) places orders under idempotency keys
and logs each key before the call (``SENT``) and after its acknowledgement (``ACK``);
the parent kills it with SIGKILL and starts a new one, with new keys, 40 times. Two
kinds of kill:

- at random moments (seeded), the way a process or a machine dies under an embedded
  database such as SQLite: afterwards the file is intact (``PRAGMA integrity_check``),
  ``verify()`` holds, every acknowledged order is there with its bookings, and the
  booked totals agree with the ledger;
- in the middle of a transaction, after a chosen store call, the way a client dies under
  a database server such as PostgreSQL: afterwards no order is partly there (the killed
  ones are absent), and replaying every in-doubt key with the same arguments resolves
  it exactly once (a committed order comes back as it was, an uncommitted one is booked
  now, nothing is booked twice).

Both run for every durable backend whose state processes share.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.parse
import uuid
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path

import attrs
import pytest

from stockkit.errors import UnknownOrder
from stockkit.inventory import Inventory
from stockkit.model import Booking, LedgerEntry, LedgerKind, Placement
from stockkit.testing.conformance.base import ConformanceBase
from stockkit.testing.conformance.crash_worker import (
    CHANNEL,
    LINES,
    key_of,
    order_id,
    prepare,
)
from stockkit.testing.faults import injected

__all__ = ["KILLS", "KILLS_AFTER_COMMIT", "CrashPromises"]

#: How many times the writer is killed in each crash test.
KILLS = 40
#: Extra kills, in the mid-transaction test, between a commit and its acknowledgement
#: (the in-doubt keys whose replay must return the committed result).
KILLS_AFTER_COMMIT = 8
#: Longest random delay (seconds) between a writer being ready and its kill.
_LONGEST_DELAY = 0.3
#: How long a writer may take to get ready or to reach its stall.
_PATIENCE = 60.0
_SEED = 20261127


@attrs.frozen
class _WriterLog:
    """What one writer reported before it died."""

    sent: tuple[tuple[str, str], ...]  # (key, order id) in order
    acked: dict[str, str]  # key -> the order id the call returned
    stalled: tuple[str, ...] | None  # (key, call, method) of a STALLED line

    @property
    def in_doubt(self) -> list[tuple[str, str]]:
        """Sent, never acknowledged."""
        return [(k, o) for k, o in self.sent if k not in self.acked]


def _read_log(path: Path) -> _WriterLog:
    """Parse a writer's log; a last line without its newline (cut by the kill) is ignored."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    sent: list[tuple[str, str]] = []
    acked: dict[str, str] = {}
    stalled = None
    for line in text.split("\n")[:-1]:
        word, *rest = line.split(" ")
        if word == "SENT":
            sent.append((rest[0], rest[1]))
        elif word == "ACK":
            acked[rest[0]] = rest[1]
        elif word == "STALLED":
            stalled = tuple(rest)
    return _WriterLog(tuple(sent), acked, stalled)


def _spawn(url: str, log: Path, prefix: str, kind: str, stall_at: str | None = None) -> subprocess.Popen[bytes]:
    """Start a writer process (a fresh interpreter: nothing inherited but the environment,
    with this interpreter's import path so that it finds the same packages)."""
    command = [sys.executable, "-m", "stockkit.testing.conformance.crash_worker", url, str(log),
               "--prefix", prefix, "--kind", kind]
    if stall_at is not None:
        command += ["--stall-at", stall_at]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    with open(log.with_suffix(".err"), "wb") as err:
        return subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err, env=env)


def _wait_for(word: str, log: Path, writer: subprocess.Popen[bytes]) -> None:
    """Wait until the writer's log has a line starting with ``word``."""
    deadline = time.monotonic() + _PATIENCE
    while time.monotonic() < deadline:
        if log.exists() and any(line.startswith(word + " ") for line in log.read_text(encoding="utf-8").split("\n")[:-1]):
            return
        if writer.poll() is not None:
            raise AssertionError(
                f"the writer exited with {writer.returncode} before logging {word}; its log:\n"
                f"{log.read_text(encoding='utf-8') if log.exists() else ''}\nits stderr:\n"
                f"{log.with_suffix('.err').read_text(encoding='utf-8', errors='replace')}"
            )
        time.sleep(0.002)
    raise AssertionError(f"the writer did not log {word} within {_PATIENCE} s")


def _kill(writer: subprocess.Popen[bytes]) -> None:
    """SIGKILL the writer if it still runs, and reap it."""
    if writer.poll() is None:
        writer.send_signal(signal.SIGKILL)
    writer.wait()


def _assert_killed(writer: subprocess.Popen[bytes], log: Path) -> None:
    """The writer died of the SIGKILL, not of anything before it."""
    assert writer.returncode == -signal.SIGKILL, (
        f"the writer exited with {writer.returncode} before it was killed; its stderr:\n"
        f"{log.with_suffix('.err').read_text(encoding='utf-8', errors='replace')}"
    )


def _is_postgres(url: str) -> bool:
    return urllib.parse.urlsplit(url).scheme.lower() in ("postgresql", "postgres")


def _writer_url(url: str) -> tuple[str, str]:
    """(the URL the test's writers open, the name their sessions carry). A database server
    finishes what a dead client sent before it notices the client is gone: a COMMIT in
    flight at the kill can land after the checker started reading. PostgreSQL writers
    therefore connect as ``application_name=<name>`` so that :func:`_settle` can wait for
    their sessions to end."""
    name = f"stockkit-crash-{uuid.uuid4().hex[:12]}"
    if not _is_postgres(url):
        return url, name
    return f"{url}{'&' if '?' in url else '?'}application_name={name}", name


def _settle(url: str, name: str) -> None:
    """For a PostgreSQL URL, wait until no server session named ``name`` is left: each
    killed writer's last statement has then committed or rolled back for good."""
    if not _is_postgres(url):
        return
    import psycopg

    from stockkit.backends.postgres import parse_url

    deadline = time.monotonic() + _PATIENCE
    with psycopg.connect(parse_url(url).conninfo, autocommit=True) as connection:
        while True:
            row = connection.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = %s",
                                     (name,)).fetchone()
            if row is not None and row[0] == 0:
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"{row[0] if row else '?'} server sessions of killed writers "
                                     f"({name}) were still there after {_PATIENCE} s")
            time.sleep(0.01)


def _assert_sqlite_intact(url: str) -> None:
    """For a ``sqlite:`` URL, ``PRAGMA integrity_check`` on the file says ``ok``."""
    if urllib.parse.urlsplit(url).scheme.lower() != "sqlite":
        return
    from stockkit.backends.sqlite import parse_url

    connection = sqlite3.connect(parse_url(url).path)
    try:
        assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    finally:
        connection.close()


class _Contents:
    """The whole ledger and every booking, grouped by order id, read once."""

    def __init__(self, inv: Inventory) -> None:
        self.ledger: defaultdict[str, list[LedgerEntry]] = defaultdict(list)
        for entry in inv.ledger():
            if entry.order_id is not None:
                self.ledger[entry.order_id].append(entry)
        self.bookings: defaultdict[str, list[Booking]] = defaultdict(list)
        for booking in inv.bookings(include_expired=True):
            self.bookings[booking.order_id].append(booking)

    def order_ids(self) -> set[str]:
        """Every order id the ledger or a booking mentions."""
        return set(self.ledger) | set(self.bookings)


def _by_line(bookings: Sequence[Booking]) -> list[Booking]:
    """Bookings by line, then warehouse."""
    return sorted(bookings, key=lambda b: (b.order_id, b.line_id, b.warehouse))


def _assert_whole(inv: Inventory, contents: _Contents, oid: str, lines: Sequence[tuple[str, int]]) -> Placement:
    """The order is there with every line fully booked, and the ledger holds exactly one
    ``booked`` entry per booking of it."""
    placement = inv.get_order(oid)
    assert [(line.sku, line.quantity) for line in placement.order.lines] == list(lines), oid
    for number, (_, quantity) in enumerate(lines, start=1):
        assert sum(placement.allocated(str(number)).values()) == quantity, f"order {oid} is partly booked"
    entries = contents.ledger[oid]
    assert _by_line(placement.bookings) == _by_line(contents.bookings[oid]), (
        f"order {oid}: get_order shows bookings {placement.bookings}, the one read of every booking "
        f"{contents.bookings[oid]}")
    assert len(entries) == len(placement.bookings), f"order {oid}: {len(entries)} ledger entries, " \
        f"{len(placement.bookings)} bookings"
    assert all(e.kind is LedgerKind.BOOKED for e in entries), oid
    assert Counter((e.sku, e.warehouse, e.booked) for e in entries) == Counter(
        (b.sku, b.warehouse, b.quantity) for b in placement.bookings), f"order {oid}: ledger and bookings differ"
    return placement


def _assert_absent(inv: Inventory, contents: _Contents, oid: str) -> None:
    """Nothing of the order is visible: no order, no booking, no ledger entry."""
    with pytest.raises(UnknownOrder):
        inv.get_order(oid)
    assert not contents.ledger.get(oid) and not contents.bookings.get(oid), f"order {oid} left traces"


def _whole_or_absent(inv: Inventory, contents: _Contents, oid: str, lines: Sequence[tuple[str, int]]) -> bool:
    """Whether the order is there (whole) or not (no trace); anything in between fails."""
    try:
        inv.get_order(oid)
    except UnknownOrder:
        _assert_absent(inv, contents, oid)
        return False
    _assert_whole(inv, contents, oid, lines)
    return True


def _assert_totals(inv: Inventory, orders: int, lines: Sequence[tuple[str, int]]) -> None:
    """Booked stock, the bookings and the ledger agree, and match ``orders`` whole orders."""
    levels = inv.search_skus()
    ledger = inv.ledger()
    bookings = inv.bookings(include_expired=True)
    booked_on_levels = sum(lv.booked for s in levels for lv in s.levels)
    assert booked_on_levels == sum(e.booked for e in ledger) == sum(b.quantity for b in bookings)
    assert booked_on_levels == orders * sum(q for _, q in lines)
    for sku, quantity in lines:
        assert sum(b.quantity for b in bookings if b.sku == sku) == orders * quantity, sku
    assert inv.verify().ok, inv.verify()


class CrashPromises(ConformanceBase):
    """A writer killed at any moment loses nothing acknowledged and leaves nothing half
    done; in-doubt idempotency keys resolve exactly once when replayed. Runs only for
    durable backends whose processes share the store (skipped otherwise)."""

    def _require_durable(self) -> None:
        if not self.durable:
            pytest.skip("the backend is not durable (durable = False): there is no crash to survive")
        if not self.shared_between_processes:
            pytest.skip("the backend's processes do not share its state (shared_between_processes = False): "
                        "a killed writer process cannot be checked from another")

    def test_crash_at_random_moments_loses_no_acknowledged_order(self, new_store_url, tmp_path: Path) -> None:
        """Promise: whenever a writer dies (SIGKILL at 40 seeded random moments, a new
        writer with new keys after each), the store is intact (SQLite: ``PRAGMA
        integrity_check`` is ``ok``), ``verify()`` holds, every acknowledged order is
        there with its booking, an unacknowledged one is there whole or not at all, and
        the booked stock equals what the ledger and the bookings add up to."""
        self._require_durable()
        url = new_store_url()
        with self.opened(url) as inv:
            prepare(inv)
        writer_url, writers = _writer_url(url)
        lines = LINES["single"]
        rng = random.Random(_SEED)
        acked: dict[str, str] = {}
        in_doubt: list[tuple[str, str]] = []
        for kill in range(KILLS):
            log = tmp_path / f"random-{kill}.log"
            writer = _spawn(writer_url, log, f"r{kill}", "single")
            try:
                _wait_for("READY", log, writer)
                time.sleep(rng.uniform(0, _LONGEST_DELAY))
            finally:
                _kill(writer)
            _assert_killed(writer, log)
            report = _read_log(log)
            for key, oid in report.sent:
                if key in report.acked:
                    assert report.acked[key] == oid, f"{key} was acknowledged with another order id"
                    acked[key] = oid
            in_doubt += report.in_doubt
            assert len(report.in_doubt) <= 1, report  # only the call cut by the kill
        assert acked, "no writer got an order acknowledged before it was killed"

        _settle(url, writers)
        _assert_sqlite_intact(url)
        with self.opened(url) as inv:
            assert inv.verify().ok, inv.verify()
            contents = _Contents(inv)
            for oid in acked.values():
                _assert_whole(inv, contents, oid, lines)
            committed = [oid for _, oid in in_doubt if _whole_or_absent(inv, contents, oid, lines)]
            present = set(acked.values()) | set(committed)
            assert contents.order_ids() == present, "orders nobody sent, or traces of absent ones"
            _assert_totals(inv, len(present), lines)

    def test_crash_mid_transaction_leaves_no_partial_order_and_in_doubt_keys_resolve_once(
        self, new_store_url, tmp_path: Path
    ) -> None:
        """Promise: a writer killed inside a transaction (40 times, each after a randomly
        chosen store call of a three-line order, and 8 more times between a commit and
        its acknowledgement) leaves no order partly booked: the order it was placing is
        absent, every other one is whole. Replaying each in-doubt key with the same
        arguments then resolves it exactly once: an order committed before the kill comes
        back as it was, unchanged, an uncommitted one is booked now, a second replay
        changes nothing, and nothing is ever booked twice."""
        self._require_durable()
        url = new_store_url()
        lines = LINES["multi"]
        with self.opened(url) as inv:
            prepare(inv)
            with injected(inv) as counter:  # how many store calls an order makes
                inv.place_order("o-probe", CHANNEL, lines, idempotency_key="k-probe")
        writer_url, writers = _writer_url(url)
        rng = random.Random(_SEED + 1)
        stalls = [str(rng.randint(1, counter.calls)) for _ in range(KILLS)] + ["commit"] * KILLS_AFTER_COMMIT
        rng.shuffle(stalls)
        acked = {"k-probe": "o-probe"}
        in_doubt: list[tuple[str, str, str]] = []  # (key, order id, where it stalled)
        for kill, stall in enumerate(stalls):
            before = rng.randrange(3)  # orders the writer completes before the one it stalls in
            log = tmp_path / f"stall-{kill}.log"
            writer = _spawn(writer_url, log, f"s{kill}", "multi", stall_at=f"{before}:{stall}")
            try:
                _wait_for("STALLED", log, writer)
            finally:
                _kill(writer)
            _assert_killed(writer, log)
            report = _read_log(log)
            key, oid = key_of(f"s{kill}", before), order_id(f"s{kill}", before)
            assert report.stalled is not None and report.stalled[0] == key, report
            assert report.in_doubt == [(key, oid)], report
            assert len(report.acked) == before, report
            acked.update(report.acked)
            in_doubt.append((key, oid, stall))

        _settle(url, writers)
        _assert_sqlite_intact(url)
        with self.opened(url) as inv:
            assert inv.verify().ok, inv.verify()
            contents = _Contents(inv)
            for oid in acked.values():
                _assert_whole(inv, contents, oid, lines)
            recorded: dict[str, Placement] = {}
            for key, oid, stall in in_doubt:
                if stall == "commit":
                    recorded[key] = _assert_whole(inv, contents, oid, lines)
                else:
                    _assert_absent(inv, contents, oid)  # killed before its commit
            present = set(acked.values()) | {oid for key, oid, _ in in_doubt if key in recorded}
            assert contents.order_ids() == present, "orders nobody sent, or traces of absent ones"
            _assert_totals(inv, len(present), lines)

            # replay every in-doubt key with the same arguments
            ledger_before = {oid: contents.ledger[oid] for _, oid, _ in in_doubt}
            replayed: dict[str, Placement] = {}
            for key, oid, _ in in_doubt:
                result = inv.place_order(oid, CHANNEL, lines, idempotency_key=key)
                replayed[key] = result
                assert result.order.order_id == oid
                assert _by_line(result.bookings) == _by_line(inv.get_order(oid).bookings)
                if key in recorded:
                    assert result.order == recorded[key].order, f"{key}: the replay did not return the committed order"
                    assert _by_line(result.bookings) == _by_line(recorded[key].bookings), key
            contents = _Contents(inv)
            for key, oid, _ in in_doubt:
                _assert_whole(inv, contents, oid, lines)
                if key in recorded:
                    assert contents.ledger[oid] == ledger_before[oid], f"replaying {key} booked it twice"
            present = set(acked.values()) | {oid for _, oid, _ in in_doubt}
            assert contents.order_ids() == present
            _assert_totals(inv, len(present), lines)

            # a second replay returns the same and changes nothing
            ledger_size = len(inv.ledger())
            for key, oid, _ in in_doubt:
                assert inv.place_order(oid, CHANNEL, lines, idempotency_key=key) == replayed[key], key
            assert len(inv.ledger()) == ledger_size
            _assert_totals(inv, len(present), lines)
