"""Storage benchmarks for stockkit: memory, SQLite (file in a temp dir) and PostgreSQL
(temporary schema).

Run from the repository root::

    .venv/bin/python benchmarks/storage.py                 # everything, 3 repeats, median
    .venv/bin/python benchmarks/storage.py --quick         # small sizes, 1 repeat (smoke run)
    .venv/bin/python benchmarks/storage.py --only single,batch --backends sqlite

It prints a table (operation, backend, figure, unit) and writes
``benchmarks/results/storage-<timestamp>.json``. Every figure is the median of
``--repeat`` runs; the JSON keeps each sample. Speed is measured here, never asserted.

Operations:

single    one process placing one-line, one-unit orders (distinct ids) for --seconds
hot       --procs processes ("spawn"), each opening the URL, booking one hot SKU with
          plenty of stock for --mp-seconds (memory: N/A, it is private to one process)
soldout   the same processes, --soldout-attempts orders each against --soldout-stock
          units: checks that exactly the stock was booked (no overselling)
batch     one place_order with --batch-lines lines over --batch-skus SKUs x 3 warehouses
          (first two warehouses short, so lines split); times that one call
wave      one place_orders with the same lines in orders of 1-3 lines (each order whole
          or refused); times that one call
verify    verify() over --verify-entries ledger entries (SQL backends); the ledger is
          built through the API with import_levels in batches of 50,000 rows, and the
          build time is reported separately
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import multiprocessing
import os
import platform
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import stockkit
from stockkit.errors import InsufficientStock, TransactionConflict
from stockkit.testing.backends import postgres_unavailable_reason, postgres_url, temporary_postgres_schema

BACKENDS = ("memory", "sqlite", "postgresql")
OPERATIONS = ("single", "hot", "soldout", "batch", "wave", "verify")
RESULTS_DIR = Path(__file__).resolve().parent / "results"
HOT_SKU = "hot"
PLENTY = 10**9


# -- stores ---------------------------------------------------------------------------------
@contextmanager
def store_url(backend: str, **pg_options: str) -> Iterator[str]:
    """A fresh, empty store of ``backend``; dropped or deleted afterwards."""
    if backend == "memory":
        yield "memory://"
    elif backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix="stockkit-bench-") as directory:
            yield f"sqlite:///{directory}/bench.db"
    elif backend == "postgresql":
        with temporary_postgres_schema(**pg_options) as url:
            yield url
    else:
        raise ValueError(f"unknown backend {backend!r}")


def make_shop(inv: stockkit.Inventory, warehouses: int = 1) -> None:
    """Warehouses w0..wN-1 (active), channel ``web`` linked to all of them in order."""
    for i in range(warehouses):
        inv.create_warehouse(f"w{i}", f"Warehouse {i}", latitude=52.0, longitude=4.0 + i, active=True)
    inv.create_channel("web", "Web shop")
    for i in range(warehouses):
        inv.link_warehouse("web", f"w{i}", priority=i)


def import_rows(inv: stockkit.Inventory, rows: list[tuple[str, str, int]]) -> None:
    buf = io.StringIO()
    buf.write("sku,warehouse,on_hand\n")
    buf.writelines(f"{s},{w},{q}\n" for s, w, q in rows)
    buf.seek(0)
    inv.import_levels(buf)


# -- 1. single-process bookings ---------------------------------------------------------------
def bench_single(url: str, seconds: float) -> dict[str, Any]:
    with stockkit.open(url) as inv:
        make_shop(inv)
        inv.set_level(HOT_SKU, "w0", on_hand=PLENTY)
        n = 0
        start = time.perf_counter()
        deadline = start + seconds
        while time.perf_counter() < deadline:
            inv.place_order(f"o{n}", "web", [(HOT_SKU, 1)])
            n += 1
        elapsed = time.perf_counter() - start
        assert inv.level(HOT_SKU, "w0").booked == n
    return {"value": n / elapsed, "orders": n, "seconds": elapsed}


# -- 2. multi-process bookings on one hot SKU -------------------------------------------------
def _worker(url: str, worker: int, seconds: float | None, attempts: int | None, barrier: Any, out: Any) -> None:
    """Book one unit of the hot SKU per order until the time or the attempts run out."""
    booked = refused = gave_up = 0
    with stockkit.open(url) as inv:
        barrier.wait()
        start = time.perf_counter()
        n = 0
        while True:
            if attempts is not None and n >= attempts:
                break
            if seconds is not None and time.perf_counter() - start >= seconds:
                break
            try:
                inv.place_order(f"p{worker}-{n}", "web", [(HOT_SKU, 1)])
                booked += 1
            except InsufficientStock:
                refused += 1
            except TransactionConflict:
                gave_up += 1
            n += 1
        out.put({"worker": worker, "booked": booked, "refused": refused, "gave_up": gave_up,
                 "seconds": time.perf_counter() - start})


def run_processes(url: str, procs: int, *, seconds: float | None = None,
                  attempts: int | None = None) -> dict[str, Any]:
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(procs + 1)
    out = ctx.Queue()
    workers = [ctx.Process(target=_worker, args=(url, i, seconds, attempts, barrier, out)) for i in range(procs)]
    for p in workers:
        p.start()
    barrier.wait(timeout=120)  # every worker has opened the store
    start = time.perf_counter()
    results = [out.get(timeout=600) for _ in workers]
    wall = time.perf_counter() - start
    for p in workers:
        p.join(timeout=60)
    totals = {k: sum(r[k] for r in results) for k in ("booked", "refused", "gave_up")}
    return {"wall_seconds": wall, **totals}


def bench_hot(url: str, procs: int, seconds: float) -> dict[str, Any]:
    with stockkit.open(url) as inv:
        make_shop(inv)
        inv.set_level(HOT_SKU, "w0", on_hand=PLENTY)
    r = run_processes(url, procs, seconds=seconds)
    with stockkit.open(url) as inv:
        assert inv.level(HOT_SKU, "w0").booked == r["booked"]
        r["verify_ok"] = inv.verify().ok
    r["value"] = r["booked"] / r["wall_seconds"]
    return r


def bench_soldout(url: str, procs: int, attempts: int, stock: int) -> dict[str, Any]:
    with stockkit.open(url) as inv:
        make_shop(inv)
        inv.set_level(HOT_SKU, "w0", on_hand=stock)
    r = run_processes(url, procs, attempts=attempts)
    with stockkit.open(url) as inv:
        level = inv.level(HOT_SKU, "w0")
        r["verify_ok"] = inv.verify().ok
    r["stock"] = stock
    r["oversold"] = level.booked > stock or r["booked"] != level.booked
    r["value"] = (r["booked"] + r["refused"] + r["gave_up"]) / r["wall_seconds"]
    return r


# -- 3. one order with many lines -------------------------------------------------------------
def prepare_batch(inv: stockkit.Inventory, lines: int, skus: int, seed: int) -> list[tuple[str, int]]:
    """Stock ``skus`` SKUs at 3 warehouses and return the lines of one big order."""
    rng = random.Random(seed)
    make_shop(inv, warehouses=3)
    # w0 and w1 hold a little, w2 plenty: many lines split over warehouses
    import_rows(inv, [(f"sku{s:05d}", f"w{w}", rng.randint(0, 10) if w < 2 else 100_000)
                      for s in range(skus) for w in range(3)])
    return [(f"sku{rng.randrange(skus):05d}", rng.randint(1, 5)) for _ in range(lines)]


def bench_batch(url: str, lines: int, skus: int, seed: int) -> dict[str, Any]:
    with stockkit.open(url) as inv:
        order = prepare_batch(inv, lines, skus, seed)
        start = time.perf_counter()
        placement = inv.place_order("big", "web", order)
        elapsed = time.perf_counter() - start
        ok = inv.verify().ok
    return {"value": elapsed, "lines": lines, "bookings": len(placement.bookings), "verify_ok": ok}


def bench_wave(url: str, lines: int, skus: int, seed: int) -> dict[str, Any]:
    """One place_orders call: ``lines`` lines in orders of 1-3 lines, whole or refused."""
    with stockkit.open(url) as inv:
        order = prepare_batch(inv, lines, skus, seed)
        rng = random.Random(seed)
        orders, at = [], 0
        while at < len(order):
            size = rng.randint(1, 3)
            lines_of = {sku: q for sku, q in order[at:at + size]}  # one line per SKU in an order
            orders.append((f"o{len(orders)}", "web", list(lines_of.items())))
            at += size
        start = time.perf_counter()
        wave = inv.place_orders(orders)
        elapsed = time.perf_counter() - start
        ok = inv.verify().ok
    return {"value": elapsed, "orders": len(orders), "placed": len(wave.placed), "verify_ok": ok}


# -- 4. verify over a large ledger ------------------------------------------------------------
def build_ledger(inv: stockkit.Inventory, entries: int, seed: int, chunk: int = 50_000) -> dict[str, Any]:
    """About ``entries`` ledger entries through the API: import_levels rounds over
    ``chunk`` levels (SKUs x 5 warehouses), each row one 'imported' entry, then one order
    of 1,000 lines so that bookings exist too."""
    rng = random.Random(seed)
    make_shop(inv, warehouses=5)
    chunk = min(chunk, entries)
    keys = [(f"sku{k // 5:06d}", f"w{k % 5}") for k in range(chunk)]
    start = time.perf_counter()
    written = 0
    while written < entries:
        batch = keys[: min(chunk, entries - written)]
        import_rows(inv, [(s, w, rng.randint(1_000, 100_000)) for s, w in batch])
        written += len(batch)
    inv.place_order("verify-order", "web", [(keys[rng.randrange(chunk)][0], 1) for _ in range(1_000)])
    return {"build_seconds": time.perf_counter() - start, "levels": chunk}


def bench_verify(url: str, entries: int, seed: int, repeat: int) -> list[dict[str, Any]]:
    """Build once, verify ``repeat`` times (verify only reads)."""
    with stockkit.open(url) as inv:
        built = build_ledger(inv, entries, seed)
        samples = []
        for _ in range(repeat):
            start = time.perf_counter()
            report = inv.verify()
            elapsed = time.perf_counter() - start
            samples.append({"value": elapsed, "entries": report.entries_checked,
                            "levels": report.levels_checked, "verify_ok": report.ok, **built})
    return samples


# -- driver -----------------------------------------------------------------------------------
UNITS = {
    "single": ("single bookings, 1 process", "orders/s"),
    "hot": ("hot SKU, {procs} processes", "orders/s"),
    "soldout": ("hot SKU sells out, {procs} processes", "attempts/s"),
    "batch": ("one order of {batch_lines:,} lines", "s"),
    "wave": ("place_orders, {batch_lines:,} lines", "s"),
    "verify": ("verify() over {verify_entries:,} entries", "s"),
    "verify_build": ("  building that ledger (API)", "s"),
}


def measure(operation: str, backend: str, args: argparse.Namespace) -> list[dict[str, Any]]:
    """``args.repeat`` samples of one operation on one backend, each on a fresh store."""
    if operation == "verify":
        with store_url(backend) as url:
            return bench_verify(url, args.verify_entries, args.seed, args.repeat)
    samples = []
    for i in range(args.repeat):
        with store_url(backend, pool_max="4") as url:
            if operation == "single":
                samples.append(bench_single(url, args.seconds))
            elif operation == "hot":
                samples.append(bench_hot(url, args.procs, args.mp_seconds))
            elif operation == "soldout":
                samples.append(bench_soldout(url, args.procs, args.soldout_attempts, args.soldout_stock))
            elif operation == "batch":
                samples.append(bench_batch(url, args.batch_lines, args.batch_skus, args.seed + i))
            elif operation == "wave":
                samples.append(bench_wave(url, args.batch_lines, args.batch_skus, args.seed + i))
    return samples


def applicable(operation: str, backend: str) -> str | None:
    """Why an operation does not apply to a backend, or None."""
    if backend == "memory" and operation in ("hot", "soldout"):
        return "N/A: memory:// is private to one process"
    if backend == "memory" and operation == "verify":
        return "N/A: measured on the SQL backends"
    return None


def environment() -> dict[str, Any]:
    info: dict[str, Any] = {
        "python": sys.version.split()[0], "platform": platform.platform(), "cpus": os.cpu_count(),
        "sqlite": sqlite3.sqlite_version, "stockkit": stockkit.__version__,
    }
    if postgres_unavailable_reason() is None:
        import psycopg

        with psycopg.connect(postgres_url()) as c:
            info["postgresql"] = c.execute("SHOW server_version").fetchone()[0]
    return info


def fmt(value: float, unit: str) -> str:
    return f"{value:,.0f}" if unit.endswith("/s") else f"{value:.3f}"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--backends", default=",".join(BACKENDS))
    p.add_argument("--only", default=",".join(OPERATIONS), help=f"comma list of {', '.join(OPERATIONS)}")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--seed", type=int, default=20240601)
    p.add_argument("--seconds", type=float, default=5.0, help="single-process booking duration")
    p.add_argument("--procs", type=int, default=8)
    p.add_argument("--mp-seconds", type=float, default=5.0)
    p.add_argument("--soldout-stock", type=int, default=2_000)
    p.add_argument("--soldout-attempts", type=int, default=500, help="orders per process")
    p.add_argument("--batch-lines", type=int, default=10_000)
    p.add_argument("--batch-skus", type=int, default=2_000)
    p.add_argument("--verify-entries", type=int, default=1_000_000)
    p.add_argument("--quick", action="store_true", help="small sizes and one repeat: a smoke run")
    p.add_argument("--json", type=Path, default=None, help="where to write results (default results/...)")
    args = p.parse_args(argv)
    if args.quick:
        args.repeat, args.seconds, args.mp_seconds = 1, 1.0, 1.0
        args.soldout_stock, args.soldout_attempts = 100, 25
        args.batch_lines, args.batch_skus, args.verify_entries = 1_000, 200, 20_000
    backends = [b for b in args.backends.split(",") if b]
    operations = [o for o in args.only.split(",") if o]
    if "postgresql" in backends and (reason := postgres_unavailable_reason()):
        print(f"skipping postgresql: {reason}", file=sys.stderr)
        backends.remove("postgresql")

    rows: list[dict[str, Any]] = []

    def add(operation: str, backend: str, samples: list[dict[str, Any]], key: str = "value",
            note: str = "") -> None:
        label, unit = UNITS[operation]
        values = [s[key] for s in samples]
        row = {"operation": operation, "label": label.format(**vars(args)), "backend": backend,
               "value": statistics.median(values) if values else None, "unit": unit,
               "samples": samples, "note": note}
        rows.append(row)
        shown = fmt(row["value"], unit) if values else note
        print(f"  {row['label']:<34} {backend:<11} {shown:>12} {unit if values else ''}", flush=True)

    for operation in operations:
        for backend in backends:
            if why := applicable(operation, backend):
                add(operation, backend, [], note=why)
                continue
            samples = measure(operation, backend, args)
            problems = [s for s in samples if s.get("verify_ok") is False or s.get("oversold")]
            add(operation, backend, samples, note="VERIFY FAILED OR OVERSOLD" if problems else "")
            if operation == "verify":
                add("verify_build", backend, [{"build_seconds": s["build_seconds"]} for s in samples[:1]],
                    key="build_seconds")

    print()
    print(f"{'operation':<38} {'backend':<11} {'median':>12}  unit")
    for r in rows:
        shown = fmt(r["value"], r["unit"]) if r["value"] is not None else "N/A"
        extra = f"  ({r['note']})" if r["note"] else ""
        print(f"{r['label']:<38} {r['backend']:<11} {shown:>12}  {r['unit']}{extra}")

    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    path = args.json or RESULTS_DIR / f"storage-{stamp}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    params = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}
    path.write_text(json.dumps({"when": stamp, "environment": environment(), "parameters": params,
                                "results": rows}, indent=1))
    print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
