"""The writer that the crash promises kill: ``python -m
stockkit.testing.conformance.crash_worker URL PREFIX LOG``.

It opens the store, writes ``READY`` to the log, then places two-line orders under
idempotency keys in a loop, writing ``SENT <key>`` before each call and ``ACK <key>``
after it returned, each line flushed to the operating system at once, so that a parent
that kills the process knows which orders were acknowledged and which are in doubt.
"""

from __future__ import annotations

import sys

import stockkit

__all__ = ["ORDER_LINES", "main"]

#: The lines of every order the writer places (the first splits over two warehouses).
ORDER_LINES = [("A", 3), ("B", 1)]


def main(argv: list[str]) -> int:
    """Run the writer until it is killed (or has placed 100,000 orders)."""
    url, prefix, log_path = argv
    inventory = stockkit.open(url, autoload_plugins=False)
    with open(log_path, "a", buffering=1, encoding="utf-8") as log:
        log.write("READY\n")
        log.flush()
        for n in range(100_000):
            key = f"{prefix}-{n}"
            log.write(f"SENT {key}\n")
            log.flush()
            inventory.place_order(key, "web", ORDER_LINES, idempotency_key=key)
            log.write(f"ACK {key}\n")
            log.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
