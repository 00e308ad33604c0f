"""The writer process that the crash promises kill.

Run as ``python -m stockkit.testing.conformance.crash_worker URL LOG --prefix P
--kind {single,multi} [--stall-at M:C]``. It opens the store, writes ``READY`` to the log,
then places orders in a loop, the ``n``-th with order id :func:`order_id` and idempotency
key :func:`key_of`, and the lines :data:`LINES` names for ``--kind``. It writes
``SENT <key> <order id>`` before each call and ``ACK <key> <returned order id>`` after the
call returned, each line handed to the operating system at once (a SIGKILL loses nothing
already written), so that the parent knows exactly which orders were acknowledged and
which are in doubt (sent, never acknowledged).

``--stall-at M:C`` makes the ``M``-th order (counted from 0) stop for good right after
its ``C``-th store call, inside its transaction (``C`` = ``commit`` stops right after
the call returned, before the ``ACK`` line): the writer logs
``STALLED <key> <call> <method>`` and sleeps until it is killed, so that the parent can
kill it at a chosen statement of a transaction.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any

from stockkit.inventory import Inventory
from stockkit.testing.conformance.opening import open_inventory
from stockkit.testing.faults import FaultInjectingStore, injected

__all__ = ["CHANNEL", "LINES", "key_of", "main", "order_id", "prepare"]

#: The lines of each order, by ``--kind``: one unit of one SKU, or three lines on SKUs
#: stocked at different warehouses (so an order touches several levels and bookings).
LINES: dict[str, list[tuple[str, int]]] = {
    "single": [("A", 1)],
    "multi": [("A", 1), ("B", 2), ("C", 1)],
}
#: The channel the writer orders from.
CHANNEL = "web"
#: How long a stalled writer waits to be killed before it gives up.
_STALL_FOR = 300.0


def prepare(inventory: Inventory) -> None:
    """Set up an empty store for the writer: channel ``web`` served by two active
    warehouses, ``A`` and ``C`` stocked at ``w0``, ``B`` and ``C`` at ``w1``, plenty of
    everything."""
    inventory.create_channel(CHANNEL, "Web")
    for n, (lat, lon) in enumerate(((52.37, 4.90), (52.52, 13.40))):
        inventory.create_warehouse(f"w{n}", f"Warehouse {n}", latitude=lat, longitude=lon, active=True)
        inventory.link_warehouse(CHANNEL, f"w{n}", priority=n)
    inventory.set_level("A", "w0", on_hand=1_000_000)
    inventory.set_level("B", "w1", on_hand=1_000_000)
    inventory.set_level("C", "w0", on_hand=1_000_000)
    inventory.set_level("C", "w1", on_hand=1_000_000)


def order_id(prefix: str, n: int) -> str:
    """The id of the ``n``-th order of the writer with this prefix."""
    return f"o-{prefix}-{n}"


def key_of(prefix: str, n: int) -> str:
    """The idempotency key of the ``n``-th order of the writer with this prefix."""
    return f"k-{prefix}-{n}"


class _Log:
    """Lines appended to the log file, each written with one ``write`` system call."""

    def __init__(self, path: str) -> None:
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)

    def __call__(self, *words: object) -> None:
        os.write(self._fd, (" ".join(str(w) for w in words) + "\n").encode())


class _StallingStore(FaultInjectingStore):
    """At the ``fail_at``-th call, log ``STALLED`` and wait to be killed instead of raising."""

    def __init__(self, store: Any, fail_at: int | None, log: _Log) -> None:
        super().__init__(store, fail_at)
        self.key = ""
        self._log = log

    def fault(self, call: int, method: str) -> None:
        """Stall inside the transaction until the parent kills the process."""
        self._log("STALLED", self.key, call, method)
        time.sleep(_STALL_FOR)
        raise SystemExit(f"stalled at call {call} ({method}) and was not killed within {_STALL_FOR} s")


def main(argv: list[str]) -> int:
    """Place orders until killed (or until 100,000 are placed); see the module docstring."""
    parser = argparse.ArgumentParser(prog="crash_worker")
    parser.add_argument("url")
    parser.add_argument("log")
    parser.add_argument("--prefix", required=True)
    parser.add_argument("--kind", choices=sorted(LINES), default="single")
    parser.add_argument("--stall-at", default=None, help="M:C, C a call number or 'commit'")
    args = parser.parse_args(argv)
    stall_order, stall_call = -1, ""
    if args.stall_at:
        order_text, stall_call = args.stall_at.split(":")
        stall_order = int(order_text)
    lines = LINES[args.kind]
    log = _Log(args.log)
    inventory = open_inventory(args.url)

    def factory(store: Any, fail_at: int | None) -> _StallingStore:
        return _StallingStore(store, fail_at, log)

    with injected(inventory, None, factory) as store:
        assert isinstance(store, _StallingStore)
        log("READY", os.getpid())
        for n in range(100_000):
            oid, key = order_id(args.prefix, n), key_of(args.prefix, n)
            store.key = key
            before = store.calls
            if n == stall_order and stall_call != "commit":
                store.fail_at = before + int(stall_call)
            log("SENT", key, oid)
            placement = inventory.place_order(oid, CHANNEL, lines, idempotency_key=key)
            if n == stall_order:
                if stall_call == "commit":
                    store.fault(store.calls, "commit")
                log("MISSED", key, store.calls - before)  # the order made fewer calls than asked
                return 3
            log("ACK", key, placement.order.order_id)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
