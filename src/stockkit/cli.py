"""The ``stockkit`` command line: ``stockkit demo`` (or ``python -m stockkit demo``),
``stockkit migrate URL`` and ``stockkit bench``.

Each subcommand is a function that takes the parsed arguments and returns an exit code;
:func:`build_parser` wires them up, and a new subcommand is one more ``_add_...`` function
called from there. The library never prints: this module does the talking.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from pathlib import Path

import stockkit

__all__ = ["build_parser", "main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (``sys.argv[1:]`` by default); return the exit code.

    >>> main(["--version"])  # doctest: +ELLIPSIS
    stockkit ...
    0
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.version:
        print(f"stockkit {stockkit.__version__}")
        return 0
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    return int(args.handler(args))


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="stockkit", description="stockkit: embeddable multi-warehouse inventory."
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    commands = parser.add_subparsers(dest="command", title="commands", metavar="COMMAND")
    _add_demo(commands)
    _add_migrate(commands)
    _add_bench(commands)
    return parser


def _positive_int(text: str) -> int:
    try:
        number = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"expected at least 1, got {number}")
    return number


# -- demo ---------------------------------------------------------------------------------
def _add_demo(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    from stockkit.demo import DEFAULT_ORDERS

    demo = commands.add_parser(
        "demo",
        help="simulate a shop's busy days in memory and print a summary",
        description="Simulate a shop in memory (warehouses, channels, a few hundred SKUs, a stream of "
        "orders with holds, shipments, a replenishment and a transfer), verify the ledger and print "
        "a summary. The same seed always gives the same run.",
    )
    demo.add_argument("--seed", type=int, default=7, help="random seed (default: %(default)s)")
    demo.add_argument("--orders", type=_positive_int, default=DEFAULT_ORDERS,
                      help="number of orders to simulate (default: %(default)s)")
    demo.set_defaults(handler=_run_demo)


def _run_demo(args: argparse.Namespace) -> int:
    from stockkit.demo import run_demo

    summary = run_demo(sys.stdout, seed=args.seed, orders=args.orders)
    return 0 if summary.verify_ok else 1


# -- migrate ------------------------------------------------------------------------------
def _add_migrate(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    migrate = commands.add_parser(
        "migrate",
        help="create or upgrade the schema of a SQL store",
        description="Bring the schema of the store at URL (sqlite:///shop.db, postgresql://...) to the "
        "newest version and print it. Opening a store migrates it too, unless its URL says "
        "migrate=false; this command is for deployments that migrate as a separate step.",
    )
    migrate.add_argument("url", help="the store URL, as given to stockkit.open")
    migrate.set_defaults(handler=_run_migrate)


def _run_migrate(args: argparse.Namespace) -> int:
    url = re.sub(r"([?&])migrate=[^&]*&?", r"\1", args.url).rstrip("?&")
    try:
        inventory = stockkit.open(url)
    except stockkit.StockkitError as exc:
        print(f"stockkit migrate: {exc}", file=sys.stderr)
        return 1
    with inventory:
        version = getattr(inventory.store, "schema_version", None)
    if version is None:
        print(f"{url}: this store keeps no schema; nothing to migrate")
    else:
        print(f"{url}: schema at version {version}")
    return 0


# -- bench --------------------------------------------------------------------------------
def _add_bench(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    from stockkit.benchmarking.measures import FILLS
    from stockkit.benchmarking.workload import SIZES, TOPOLOGIES

    bench = commands.add_parser(
        "bench",
        help="time the allocation engine against the per-line loop and the bandwidth bound",
        description="Generate seeded workloads (see docs/benchmarks.md), time the allocation engine on each "
        "topology and fill mode, the per-line loop (the sequential oracle) on the same lines, and the "
        "memory-bandwidth bound; print a table, optionally write JSON and a PNG plot. Exit code 1 if the "
        "engine's result differs from the loop's.",
    )
    sizes = ", ".join(f"{name}={size['lines']:,} lines" for name, size in SIZES.items())
    bench.add_argument("--size", choices=list(SIZES), default="M", help=f"workload preset ({sizes}; default M)")
    for name in ("lines", "skus", "warehouses", "channels"):
        bench.add_argument(f"--{name}", type=_positive_int, help=f"override the preset's {name}")
    bench.add_argument("--topologies", type=_choices(TOPOLOGIES), default=TOPOLOGIES,
                       help=f"comma list of {', '.join(TOPOLOGIES)} (default: all)")
    bench.add_argument("--fills", type=_choices(FILLS), default=FILLS,
                       help=f"comma list of fill modes {', '.join(FILLS)} (default: all)")
    bench.add_argument("--kernels", type=_choices(("numpy", "rounds", "numba", "auto")), default=None,
                       help="comma list of engine kernels (default: numpy, plus numba when installed)")
    bench.add_argument("--repeats", type=_positive_int, default=3, help="engine runs per measure (default: 3)")
    bench.add_argument("--engine-budget", type=float, default=60.0, metavar="SECONDS",
                       help="fewer engine runs once they have taken this long (default: 60)")
    bench.add_argument("--seed", type=int, default=0, help="workload seed (default: 0)")
    bench.add_argument("--loop-lines", type=int, default=100_000, metavar="N",
                       help="lines the per-line loop runs on at most, scaled to all lines (0: every line; "
                       "default 100000)")
    bench.add_argument("--loop-budget", type=float, default=10.0, metavar="SECONDS",
                       help="fewer loop lines when a probe says the loop would take longer (default: 10)")
    bench.add_argument("--warm-orders", type=int, default=200, metavar="N",
                       help="single orders placed on a warm index per topology (0: none; default 200)")
    bench.add_argument("--threads", type=_positive_int, metavar="N",
                       help="threads the engine may use (the compiled loop, the intervals and event kernels; default: "
                       "every core, at most 8)")
    bench.add_argument("--json", type=Path, metavar="PATH", help="write the results as JSON here")
    bench.add_argument("--plot", type=Path, metavar="PATH", help="write a PNG plot here (needs matplotlib)")
    bench.add_argument("--quick", action="store_true",
                       help="a smoke run of a few seconds: size XS, 1 repeat, the loop on every line, at most 20 warm orders")
    bench.set_defaults(handler=_run_bench)


def _choices(allowed: Sequence[str]):  # type: ignore[no-untyped-def]
    def parse(text: str) -> tuple[str, ...]:
        picked = tuple(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))
        unknown = [p for p in picked if p not in allowed]
        if unknown or not picked:
            raise argparse.ArgumentTypeError(f"expected a comma list of {', '.join(allowed)}, got {text!r}")
        return picked

    return parse


def _run_bench(args: argparse.Namespace) -> int:
    from stockkit.benchmarking import measures, report
    from stockkit.benchmarking.workload import SIZES

    if args.plot:
        try:
            report.require_matplotlib()
        except ImportError as exc:
            print(f"stockkit bench: {exc}", file=sys.stderr)
            return 2
    if args.quick:
        args.size, args.repeats, args.loop_lines, args.warm_orders = "XS", 1, 0, min(args.warm_orders, 20)
    size = {name: getattr(args, name) or default for name, default in SIZES[args.size].items()}
    settings = measures.Settings(**size, topologies=args.topologies, fills=args.fills, repeats=args.repeats,
                                 kernels=args.kernels, engine_budget=args.engine_budget,
                                 seed=args.seed, loop_lines=args.loop_lines or None, loop_budget=args.loop_budget,
                                 warm_orders=args.warm_orders, threads=args.threads)
    bar = report.ProgressBar(sys.stderr, measures.step_count(settings))
    try:
        run = measures.run(settings, progress=bar.step)
    except (ImportError, stockkit.StockkitError) as exc:
        print(f"\nstockkit bench: {exc}", file=sys.stderr)
        return 1
    bar.close()
    print(report.format_table(run), end="")
    if args.json:
        args.json.write_text(report.to_json(run), encoding="utf-8")
        print(f"wrote {args.json}")
    if args.plot:
        report.write_plot(run, args.plot)
        print(f"wrote {args.plot}")
    return 0 if all(m.exact for m in run.measures) else 1
