"""A shop's few busy days, simulated in memory: ``python -m stockkit demo``.

:func:`run_demo` opens an in-memory inventory with a fake clock, builds a catalogue of a
few hundred SKUs stocked in warehouses across Europe, sells to three channels (a web
store, a marketplace and a B2B portal) a stream of orders whose popularity follows a
Zipf-like law, and does what a shop does along the way: checkout holds that are confirmed
or abandoned, pick waves that ship, a replenishment, a transfer, a cancelled shipment, a
cancelled order. It ends with :meth:`stockkit.Inventory.verify` and writes a summary.

Everything is drawn from ``random.Random(seed)`` and the clock only moves when the demo
moves it, so a seed always tells the same story.

>>> import io
>>> summary = run_demo(io.StringIO(), orders=120)
>>> summary.verify_ok, summary.orders_placed + summary.orders_refused
(True, 120)
"""

from __future__ import annotations

import datetime as dt
import heapq
import random
from collections import Counter
from collections.abc import Callable
from itertools import accumulate, product
from typing import TextIO

import attrs

import stockkit
from stockkit.engine import Fill, Policy, Reason, RouteOrder
from stockkit.errors import HoldExpired, InsufficientStock
from stockkit.inventory import Inventory
from stockkit.model import Placement
from stockkit.planning import OrderRequest

__all__ = ["DEFAULT_ORDERS", "DemoSummary", "ShortSku", "WarehouseFigures", "run_demo"]

#: How many orders :func:`run_demo` simulates unless told otherwise.
DEFAULT_ORDERS = 3000

_START = dt.datetime(2025, 3, 3, 8, 0, tzinfo=dt.UTC)  # a Monday morning

# code, name, city, country, latitude, longitude, active
_WAREHOUSES = (
    ("ams", "Amsterdam DC", "Amsterdam", "NL", 52.3676, 4.9041, True),
    ("ber", "Berlin fulfilment", "Berlin", "DE", 52.5200, 13.4050, True),
    ("lyo", "Lyon hub", "Lyon", "FR", 45.7640, 4.8357, True),
    ("mad", "Madrid south", "Madrid", "ES", 40.4168, -3.7038, True),
    ("mil", "Milan (closing)", "Milan", "IT", 45.4642, 9.1900, False),
)

# where marketplace shoppers live, for the nearest-first feed
_SHOPPER_CITIES = ((48.86, 2.35), (50.85, 4.35), (53.55, 9.99), (41.39, 2.17), (45.07, 7.69), (51.92, 4.48),
                   (48.14, 11.58), (43.30, 5.37), (37.39, -5.98), (52.23, 21.01))
# one order in 25 arrives in the marketplace's overnight feed
_FEED_SHARE = 25

# code, name, share of orders, linked warehouses in priority order
_CHANNELS = (
    ("web", "Web store", 0.55, ("ams", "ber", "lyo")),
    ("market", "Marketplace", 0.35, ("ber", "mad", "ams", "mil")),
    ("b2b", "B2B portal", 0.10, ("lyo", "mad")),
)

_COLOURS = ("BLK", "WHT", "NVY", "RED", "GRN")
_SIZES = ("S", "M", "L", "XL")

# product family, name, styles, variant axes
_CATALOGUE: tuple[tuple[str, str, tuple[str, ...], tuple[tuple[str, ...], ...]], ...] = (
    ("TEE", "Organic cotton T-shirt", ("CLASSIC", "VNECK", "LONG", "POCKET"), (_COLOURS[:4], _SIZES)),
    ("HOODIE", "Hoodie", ("ZIP", "PULLOVER"), (_COLOURS[:4], _SIZES)),
    ("JACKET", "Jacket", ("RAIN", "DOWN"), (_COLOURS[:3], _SIZES)),
    ("SOCKS", "Socks", ("MERINO", "HIKING", "ANKLE"), (_COLOURS[:3], _SIZES)),
    ("CAP", "Cap", ("BASEBALL", "BEANIE"), (_COLOURS,)),
    ("MUG", "Mug", ("ENAMEL", "STONEWARE", "TRAVEL"), (_COLOURS,)),
    ("BOTTLE", "Steel bottle", ("500ML", "750ML", "1L"), (_COLOURS[:4],)),
    ("NOTEBOOK", "Notebook", ("A5DOT", "A5LINED", "A4DOT", "A6POCKET"), (_COLOURS[:4],)),
    ("PEN", "Pen", ("FOUNTAIN", "ROLLER", "GEL"), (_COLOURS[:4],)),
    ("BAG", "Bag", ("TOTE", "PACK20L", "PACK30L", "DUFFEL"), (_COLOURS[:4],)),
    ("LAMP", "Desk lamp", ("CLIP", "ARM", "FLOOR"), (_COLOURS[:3],)),
    ("CANDLE", "Candle", ("CEDAR", "FIG", "LINEN", "SMOKE"), ()),
)

_HOLD_TTL = dt.timedelta(minutes=15)


@attrs.frozen
class WarehouseFigures:
    """One warehouse's stock summed over every SKU at the end of the demo."""

    code: str
    city: str
    active: bool
    on_hand: int
    safety: int
    booked: int
    available: int
    incoming: int


@attrs.frozen
class ShortSku:
    """A SKU that could not cover some orders: how often, on which channel mostly, how many
    units were refused, and what is left of it company-wide."""

    sku: str
    refusals: int
    channel: str
    units_refused: int
    available: int
    incoming: int


@attrs.frozen(kw_only=True)
class DemoSummary:
    """The figures of one :func:`run_demo` run."""

    seed: int
    skus: int
    orders_placed: int
    orders_refused: int
    orders_by_channel: tuple[tuple[str, int, int], ...]
    """``(channel, placed, refused)`` per channel."""
    holds: int
    holds_confirmed: int
    holds_expired: int
    """Holds never confirmed in time: abandoned carts and late confirmations."""
    holds_too_late: int
    """Confirmations refused with :class:`~stockkit.errors.HoldExpired`."""
    hold_bookings_swept: int
    """Expired hold bookings removed by :meth:`~stockkit.Inventory.sweep_expired_holds`."""
    retries_deduplicated: int
    """Repeated calls answered from their idempotency key."""
    orders_cancelled: int
    units_booked: int
    units_shipped: int
    shipments: int
    shipments_cancelled: int
    warehouses: tuple[WarehouseFigures, ...]
    short_skus: tuple[ShortSku, ...]
    events: tuple[str, ...]
    """The notable moments of the run, one line each."""
    ledger_entries: int
    ledger_pruned: int
    levels_checked: int
    verify_ok: bool
    started: dt.datetime
    ended: dt.datetime


class _Clock:
    """The demo's time: it moves only when the demo says so. (``stockkit.testing`` has one
    too, but it needs hypothesis, and the demo runs on a plain install.)"""

    def __init__(self, start: dt.datetime) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, delta: dt.timedelta) -> None:
        self.now += delta


@attrs.define
class _Tally:
    placed: Counter[str] = attrs.Factory(Counter)
    refused: Counter[str] = attrs.Factory(Counter)
    refusals: Counter[tuple[str, str]] = attrs.Factory(Counter)  # by (SKU, channel)
    units_refused_by_sku: Counter[str] = attrs.Factory(Counter)
    holds: int = 0
    holds_confirmed: int = 0
    hold_bookings_swept: int = 0
    holds_too_late: int = 0
    retries: int = 0
    orders_cancelled: int = 0
    units_booked: int = 0
    units_shipped: int = 0
    shipments: int = 0
    shipments_cancelled: int = 0
    events: list[str] = attrs.Factory(list)

    def refusals_by_sku(self) -> Counter[str]:
        by_sku: Counter[str] = Counter()
        for (sku, _channel), count in self.refusals.items():
            by_sku[sku] += count
        return by_sku


def run_demo(out: TextIO, *, seed: int = 7, orders: int = DEFAULT_ORDERS) -> DemoSummary:
    """Simulate a shop taking ``orders`` orders, write a summary to ``out`` and return its
    figures. The same ``seed`` always tells the same story."""
    if not isinstance(orders, int) or isinstance(orders, bool) or orders < 1:
        raise ValueError(f"orders must be a whole number of at least 1, got {orders!r}")
    clock = _Clock(_START)
    with stockkit.open("memory://", clock=clock, actor="demo", autoload_plugins=False) as inv:
        shop = _Shop(inv, random.Random(seed), clock)
        shop.build(orders)
        shop.sell(orders)
        summary = shop.summarise(seed)
    _write_summary(out, summary)
    return summary


class _Shop:
    """The simulation: one inventory, one random stream, one clock, and what happened."""

    def __init__(self, inv: Inventory, rng: random.Random, clock: _Clock) -> None:
        self.inv = inv
        self.rng = rng
        self.clock = clock
        self.tally = _Tally()
        self.skus: list[str] = []  # most popular first
        self.to_ship: dict[str, dt.datetime] = {}  # firm orders not yet picked, and since when
        self.pending_holds: list[tuple[dt.datetime, int, str]] = []  # (when the shopper returns, n, order)
        self.transfer_id: str | None = None
        self.feed_orders = 0

    # -- setting up ----------------------------------------------------------------------
    def build(self, orders: int) -> None:
        """Create warehouses, channels, products, SKUs and the opening stock."""
        inv, rng = self.inv, self.rng
        for code, name, city, country, lat, lon, active in _WAREHOUSES:
            inv.create_warehouse(code, name, city=city, country_code=country, latitude=lat, longitude=lon,
                                 active=active)
        for code, name, _share, route in _CHANNELS:
            inv.create_channel(code, name)
            for priority, warehouse in enumerate(route):
                inv.link_warehouse(code, warehouse, priority=10 * priority)

        for family, name, styles, axes in _CATALOGUE:
            for style in styles:
                product_code = f"{family}-{style}"
                inv.create_product(product_code, f"{name}, {style.lower()}", status="approved")
                for variant in product(*axes):
                    sku = inv.add_sku(product_code, "-".join((product_code, *variant)))
                    self.skus.append(sku.code)
        rng.shuffle(self.skus)  # the shuffled order is the popularity ranking

        # Buyers stock roughly what they expect to sell, and misjudge some SKUs badly.
        active = [w[0] for w in _WAREHOUSES if w[6]]
        for sku, share in zip(self.skus, _popularity(len(self.skus))):
            units = round(orders * 4.5 * share * rng.uniform(0.4, 1.6)) + rng.randint(3, 15)
            sites = rng.sample(active, k=rng.choice((2, 3, 3, 4)))
            parts = [rng.uniform(0.5, 1.5) for _ in sites]
            for site, part in zip(sites, parts):
                on_hand = max(1, round(units * part / sum(parts)))
                safety = max(1, on_hand // 10) if rng.random() < 0.15 else 0
                inv.set_level(sku, site, on_hand=on_hand, safety=safety, reason="opening stock count")
            if rng.random() < 0.3:
                inv.set_level(sku, "mil", on_hand=rng.randint(5, 40), reason="opening stock count")

    # -- selling -------------------------------------------------------------------------
    def sell(self, orders: int) -> None:
        """Take ``orders`` orders, one every 75 seconds on average, with checkout holds,
        sweeps every half hour and a pick wave every three hours."""
        inv, rng, clock, tally = self.inv, self.rng, self.clock, self.tally
        sku_weights = list(accumulate(_popularity(len(self.skus))))
        channel_weights = list(accumulate(share for _, _, share, _ in _CHANNELS))
        self.feed_orders = orders // _FEED_SHARE
        orders -= self.feed_orders
        milestones = self._milestones(orders)
        last_sweep = last_wave = clock.now

        for n in range(1, orders + 1):
            clock.advance(dt.timedelta(seconds=rng.expovariate(1 / 75)))
            self._settle_holds()
            if clock.now - last_sweep >= dt.timedelta(minutes=30):
                tally.hold_bookings_swept += inv.sweep_expired_holds()
                last_sweep = clock.now
            if clock.now - last_wave >= dt.timedelta(hours=3):
                self._pick_wave()
                last_wave = clock.now

            channel = _CHANNELS[_pick(rng, channel_weights)][0]
            order_id = f"{channel.upper()}-{n:05d}"
            lines = self._basket(channel, sku_weights)
            as_hold = channel == "web" and rng.random() < 0.25
            key = f"checkout-{order_id}"
            try:
                placement = self._place(order_id, channel, lines, as_hold, key)
            except InsufficientStock as exc:
                tally.refused[channel] += 1
                tally.refusals[exc.sku or "?", channel] += 1
                tally.units_refused_by_sku[exc.sku or "?"] += exc.requested or 0
            else:
                tally.placed[channel] += 1
                tally.units_booked += sum(q for _, q in lines)
                if rng.random() < 0.02:  # a flaky network: the shop sends the same call again
                    if self._place(order_id, channel, lines, as_hold, key) != placement:
                        raise AssertionError(f"the retry of {order_id} did not return the first result")
                    tally.retries += 1
                if not as_hold:
                    self.to_ship[order_id] = clock.now
                else:
                    tally.holds += 1
                    roll = rng.random()
                    if roll < 0.70:  # pays within the hold's 15 minutes
                        self._return_at(rng.uniform(1, 12), n, order_id)
                    elif roll > 0.95:  # comes back after lunch
                        self._return_at(rng.uniform(16, 40), n, order_id)
                    # else: an abandoned cart; its hold simply runs out
            for event in milestones.get(n, ()):
                event()

        clock.advance(dt.timedelta(hours=1))
        self._settle_holds()
        tally.hold_bookings_swept += inv.sweep_expired_holds()

    def _place(self, order_id: str, channel: str, lines: list[tuple[str, int]], as_hold: bool, key: str) -> Placement:
        if as_hold:
            return self.inv.hold(order_id, channel, lines, ttl=_HOLD_TTL, idempotency_key=key)
        return self.inv.place_order(order_id, channel, lines, idempotency_key=key)

    def _basket(self, channel: str, sku_weights: list[float]) -> list[tuple[str, int]]:
        """The lines of one order: shoppers buy a unit or two, businesses buy in bulk."""
        rng = self.rng
        count = rng.randint(1, 3) if channel == "b2b" else rng.choice((1, 1, 1, 2, 2, 3))
        chosen: dict[str, int] = {}
        while len(chosen) < count:
            sku = self.skus[_pick(rng, sku_weights)]
            chosen[sku] = rng.randint(3, 12) if channel == "b2b" else rng.choice((1, 1, 1, 1, 2, 2, 3))
        return list(chosen.items())

    def _return_at(self, minutes: float, n: int, order_id: str) -> None:
        heapq.heappush(self.pending_holds, (self.clock.now + dt.timedelta(minutes=minutes), n, order_id))

    def _settle_holds(self) -> None:
        """Shoppers who come back to their checkout by now confirm it, if it still holds."""
        while self.pending_holds and self.pending_holds[0][0] <= self.clock.now:
            _when, _n, order_id = heapq.heappop(self.pending_holds)
            try:
                self.inv.confirm_hold(order_id)
            except HoldExpired:
                self.tally.holds_too_late += 1
            else:
                self.tally.holds_confirmed += 1
                self.to_ship[order_id] = self.clock.now

    def _pick_wave(self) -> None:
        """Ship every firm order placed at least an hour ago from where it is booked."""
        cutoff = self.clock.now - dt.timedelta(hours=1)
        for order_id in [o for o, since in self.to_ship.items() if since <= cutoff]:
            for booking in self.inv.get_order(order_id).bookings:
                self._ship(order_id, booking.line_id, booking.warehouse, booking.quantity)
            del self.to_ship[order_id]

    def _ship(self, order_id: str, line_id: str, warehouse: str, quantity: int) -> str:
        shipment = self.inv.ship(order_id, line_id, warehouse, quantity)
        self.tally.shipments += 1
        self.tally.units_shipped += quantity
        return shipment.shipment_id

    # -- the notable moments -------------------------------------------------------------
    def _milestones(self, orders: int) -> dict[int, list[Callable[[], None]]]:
        """What happens after which order number."""
        plan = [
            (0.20, self._add_replenishments),
            (0.30, self._damage),
            (0.40, self._ship_elsewhere),
            (0.45, self._cancel_shipment),
            (0.50, self._send_transfer),
            (0.55, self._cancel_order),
            (0.60, self._receive_replenishments),
            (0.65, self._marketplace_feed),
            (0.75, self._receive_transfer),
        ]
        result: dict[int, list[Callable[[], None]]] = {}
        for fraction, event in plan:
            result.setdefault(max(1, round(orders * fraction)), []).append(event)
        return result

    def _event(self, text: str) -> None:
        now = self.clock.now
        self.tally.events.append(f"day {(now.date() - _START.date()).days + 1} {now:%H:%M}  {text}")

    def _most_wanted(self, count: int) -> list[str]:
        """The SKUs refused most so far, topped up with the most popular ones."""
        ranked = [sku for sku, _ in self.tally.refusals_by_sku().most_common(count)]
        ranked += [sku for sku in self.skus[: 2 * count] if sku not in ranked]
        return ranked[:count]

    def _add_replenishments(self) -> None:
        expected = self.clock.now.date() + dt.timedelta(days=2)
        for sku, warehouse in zip(self._most_wanted(3), ("ams", "ber", "lyo")):
            units = 40 + 5 * self.tally.units_refused_by_sku[sku]
            repl = self.inv.add_replenishment(sku, warehouse, units, expected)
            self._event(f"replenishment {repl.replenishment_id}: {units} x {sku} expected at {warehouse} "
                        f"on {expected}")

    def _receive_replenishments(self) -> None:
        open_ones = self.inv.replenishments()
        if open_ones:
            full = self.inv.receive_replenishment(open_ones[0].replenishment_id)
            self._event(f"replenishment {full.replenishment_id} received in full: {full.received} x {full.sku} "
                        f"now on hand at {full.warehouse}")
        if len(open_ones) > 1:
            half = self.inv.receive_replenishment(open_ones[1].replenishment_id, open_ones[1].quantity // 2)
            self._event(f"replenishment {half.replenishment_id} received in part: {half.received} of "
                        f"{half.quantity} x {half.sku}, the rest still incoming")

    def _damage(self) -> None:
        for sku in self.skus[:20]:
            for level in self.inv.stock(sku).levels:
                if level.available >= 2:
                    self.inv.adjust(sku, level.warehouse, -2, "damaged in handling")
                    self._event(f"2 x {sku} written off at {level.warehouse}: damaged in handling")
                    return

    def _ship_elsewhere(self) -> None:
        """Ship a line from a warehouse it was not allocated to (the packer found it there)."""
        for order_id in self.to_ship:
            placement = self.inv.get_order(order_id)
            for booking in placement.bookings:
                if placement.allocated(booking.line_id) != {booking.warehouse: booking.quantity}:
                    continue  # split lines are left to the pick wave
                for link in self.inv.channel_links(placement.order.channel):
                    other = link.warehouse
                    if other == booking.warehouse or not self.inv.get_warehouse(other).active:
                        continue
                    if self.inv.available(booking.sku, warehouse=other) >= booking.quantity:
                        sid = self._ship(order_id, booking.line_id, other, booking.quantity)
                        self._event(f"shipment {sid}: {order_id} line {booking.line_id} was booked at "
                                    f"{booking.warehouse}, shipped from {other} (booking moved)")
                        return

    def _cancel_shipment(self) -> None:
        shipments = self.inv.shipments()
        if not shipments:
            return
        last = max(shipments, key=lambda s: (s.shipped_at, int(s.shipment_id.rsplit("-", 1)[-1])))
        self.inv.cancel_shipment(last.shipment_id)
        self.tally.shipments_cancelled += 1
        self.tally.units_shipped -= last.quantity
        self.to_ship[last.order_id] = self.clock.now  # it goes out with the next wave
        self._event(f"shipment {last.shipment_id} cancelled at the dock: {last.quantity} x "
                    f"{last.sku} back on hand at {last.warehouse}, booked again")

    def _cancel_order(self) -> None:
        for order_id in self.to_ship:
            released = self.inv.release(order_id, reason="customer cancelled")
            if released:
                del self.to_ship[order_id]
                self.tally.orders_cancelled += 1
                units = sum(b.quantity for b in released)
                self._event(f"order {order_id} cancelled by the customer: {units} units released")
                return

    def _send_transfer(self) -> None:
        for sku in self._most_wanted(10):
            levels = sorted(self.inv.stock(sku).levels, key=lambda lv: (-lv.available, lv.warehouse))
            if levels and levels[0].available >= 4:
                source = levels[0].warehouse
                destination = "ams" if source != "ams" else "ber"
                transfer = self.inv.transfer(sku, source, destination, levels[0].available // 2)
                self.transfer_id = transfer.transfer_id
                self._event(f"transfer {transfer.transfer_id}: {transfer.quantity} x {sku} sent from {source} "
                            f"to {destination}")
                return

    def _worst_channel(self, sku: str) -> str:
        counts = {c: self.tally.refusals[sku, c] for c, *_ in _CHANNELS}
        return max(counts, key=lambda c: counts[c])

    def _marketplace_feed(self) -> None:
        """The marketplace sends a night's orders as one feed: they are placed in one wave,
        each served from the warehouse nearest its shopper."""
        rng, tally = self.rng, self.tally
        if not self.feed_orders:
            return
        sku_weights = list(accumulate(_popularity(len(self.skus))))
        requests = [
            OrderRequest(f"FEED-{n:04d}", "market", tuple(self._basket("market", sku_weights)),
                         ship_to=rng.choice(_SHOPPER_CITIES))
            for n in range(1, self.feed_orders + 1)
        ]
        wave = self.inv.place_orders(requests, policy=Policy(route=RouteOrder.NEAREST, fill=Fill.ORDER),
                                     idempotency_key=f"feed-{self.clock.now:%Y%m%d}")
        for order in wave.placed:
            tally.placed["market"] += 1
            tally.units_booked += sum(line.quantity for line in order.lines)
            self.to_ship[order.order_id] = self.clock.now
        for order in wave.refused:
            short = next(line for line in order.lines if line.reason is not Reason.ORDER_INCOMPLETE)
            tally.refused["market"] += 1
            tally.refusals[short.sku, "market"] += 1
            tally.units_refused_by_sku[short.sku] += short.quantity
        text = (f"marketplace feed: {len(requests)} orders in one wave, nearest warehouse first: "
                f"{len(wave.placed)} placed, {len(wave.refused)} refused")
        if wave.refused:
            first = wave.refused[0]
            short = next(line for line in first.lines if line.reason is not Reason.ORDER_INCOMPLETE)
            why = wave.explain(first.order_id, short.line_id)
            had = ", ".join(f"{c.warehouse} {c.had}" for c in why.candidates)
            text += f" (e.g. {first.order_id}: {short.quantity} x {short.sku}, had {had}: {why.rule})"
        self._event(text)

    def _receive_transfer(self) -> None:
        if self.transfer_id is not None:
            transfer = self.inv.receive_transfer(self.transfer_id)
            self._event(f"transfer {transfer.transfer_id} received at {transfer.destination}")

    # -- the figures ---------------------------------------------------------------------
    def summarise(self, seed: int) -> DemoSummary:
        """Read the end state, prune the ledger, verify, and gather the figures."""
        inv, tally = self.inv, self.tally
        totals: dict[str, list[int]] = {w[0]: [0, 0, 0, 0, 0] for w in _WAREHOUSES}
        for summary in inv.search_skus(""):
            for level in summary.levels:
                row = totals[level.warehouse]
                for i, value in enumerate((level.on_hand, level.safety, level.booked, level.available,
                                           level.incoming)):
                    row[i] += value
        warehouses = tuple(
            WarehouseFigures(w.code, w.city, w.active, *totals[w.code]) for w in inv.warehouses()
        )
        short = tuple(
            ShortSku(sku, count, self._worst_channel(sku), tally.units_refused_by_sku[sku], inv.available(sku),
                     inv.stock(sku).incoming)
            for sku, count in tally.refusals_by_sku().most_common(5)
        )
        entries = len(inv.ledger())
        pruned = inv.prune_ledger(dt.timedelta(days=1))
        report = inv.verify()
        return DemoSummary(
            seed=seed,
            skus=len(self.skus),
            orders_placed=sum(tally.placed.values()),
            orders_refused=sum(tally.refused.values()),
            orders_by_channel=tuple((c, tally.placed[c], tally.refused[c]) for c, *_ in _CHANNELS),
            holds=tally.holds,
            holds_confirmed=tally.holds_confirmed,
            holds_expired=tally.holds - tally.holds_confirmed,
            holds_too_late=tally.holds_too_late,
            hold_bookings_swept=tally.hold_bookings_swept,
            retries_deduplicated=tally.retries,
            orders_cancelled=tally.orders_cancelled,
            units_booked=tally.units_booked,
            units_shipped=tally.units_shipped,
            shipments=tally.shipments,
            shipments_cancelled=tally.shipments_cancelled,
            warehouses=warehouses,
            short_skus=short,
            events=tuple(tally.events),
            ledger_entries=entries,
            ledger_pruned=pruned,
            levels_checked=report.levels_checked,
            verify_ok=report.ok,
            started=_START,
            ended=self.clock.now,
        )


def _popularity(n: int) -> list[float]:
    """Zipf-like shares of demand for ``n`` SKUs ranked by popularity; they sum to 1."""
    raw = [1 / rank**1.07 for rank in range(1, n + 1)]
    total = sum(raw)
    return [r / total for r in raw]


def _pick(rng: random.Random, cum_weights: list[float]) -> int:
    return rng.choices(range(len(cum_weights)), cum_weights=cum_weights)[0]


# -- the report ---------------------------------------------------------------------------
def _write_summary(out: TextIO, s: DemoSummary) -> None:
    def line(text: str = "") -> None:
        out.write(text + "\n")

    span = s.ended - s.started
    hours = span.total_seconds() / 3600
    orders = s.orders_placed + s.orders_refused
    line(f"stockkit demo: seed {s.seed}, {orders:,} orders over {hours:.0f} simulated hours, "
         f"{s.skus} SKUs, {len(s.warehouses)} warehouses")
    line()
    line("Channels             warehouses (allocation order)   placed  refused")
    for (code, name, _share, route), (_c, placed, refused) in zip(_CHANNELS, s.orders_by_channel):
        inactive = {w.code for w in s.warehouses if not w.active}
        shown = " > ".join(f"{w}*" if w in inactive else w for w in route)
        line(f"  {name:<18} {shown:<31} {placed:>6,} {refused:>8,}")
    line(f"  {'all channels':<18} {'(* inactive: never allocated)':<31} {s.orders_placed:>6,} "
         f"{s.orders_refused:>8,}")
    line()
    line("Orders")
    line(f"  placed                  {s.orders_placed:>7,}")
    line(f"  refused                 {s.orders_refused:>7,}   InsufficientStock: nothing of them was booked")
    line(f"  checkout holds          {s.holds:>7,}   {s.holds_confirmed:,} confirmed in time, {s.holds_expired:,} "
         f"ran out ({s.holds_too_late:,} of them confirmed too late)")
    line(f"  hold bookings swept     {s.hold_bookings_swept:>7,}   expired holds tidied by sweep_expired_holds")
    line(f"  cancelled               {s.orders_cancelled:>7,}")
    line(f"  retries deduplicated    {s.retries_deduplicated:>7,}   same idempotency key, first result returned")
    line(f"  units booked            {s.units_booked:>7,}")
    line(f"  units shipped           {s.units_shipped:>7,}   in {s.shipments - s.shipments_cancelled:,} shipments "
         f"({s.shipments_cancelled} cancelled)")
    line()
    line("Events")
    for event in s.events:
        line(f"  {event}")
    line()
    line("Stock by warehouse   city        on hand   safety   booked  available  incoming")
    active = [w for w in s.warehouses if w.active]
    for w in s.warehouses:
        name = w.code if w.active else f"{w.code} (inactive)"
        line(f"  {name:<18} {w.city:<10} {w.on_hand:>8,} {w.safety:>8,} {w.booked:>8,} {w.available:>10,} "
             f"{w.incoming:>9,}")
    line(f"  {'company-wide':<18} {'(active)':<10} {sum(w.on_hand for w in active):>8,} "
         f"{sum(w.safety for w in active):>8,} {sum(w.booked for w in active):>8,} "
         f"{sum(w.available for w in active):>10,} {sum(w.incoming for w in active):>9,}")
    line()
    line("Top short SKUs                refused  mostly on  units asked  available now  incoming")
    for sku in s.short_skus:
        line(f"  {sku.sku:<27} {sku.refusals:>7,}  {sku.channel:<9} {sku.units_refused:>11,} {sku.available:>14,} "
             f"{sku.incoming:>9,}")
    if not s.short_skus:
        line("  (none: every order was covered)")
    line()
    line("Ledger")
    line(f"  entries written         {s.ledger_entries:>7,}")
    line(f"  folded by pruning       {s.ledger_pruned:>7,}   prune_ledger(older than 1 day) -> one snapshot "
         "per level")
    verdict = "OK" if s.verify_ok else "FAILED"
    line(f"  verify                  {verdict:>7}   {s.levels_checked:,} levels agree with the ledger, "
         "bookings and replenishments")
