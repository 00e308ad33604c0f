"""Which stock events a change caused: crossings of company-wide availability.

A change touches some SKU codes. For the catalogue SKUs among them (codes some product
lists), :class:`StockWatch` reads the company-wide available quantity (every active
warehouse; bookings and unexpired holds subtracted) just before the change's first write
of the SKU and again at the end of the transaction, and :func:`crossings` turns each
``before -> after`` pair into events. Only touched SKUs are read, so watching costs two
reads per transaction, however big the catalogue.

Crossings are judged per product (each product has its own threshold):

- low stock: ``before > threshold >= after``;
- out of stock: ``before > 0 >= after``;
- back in stock: ``before <= threshold < after``.

A threshold change alone is not a crossing (the next change is judged by the new
threshold).

A hold that expires raises the available quantity by itself, with no transaction to see
it. Its crossing (back in stock, the only one a rise can make) is reported by the first
transaction that writes the SKU after the expiry: the hold sweep
(:meth:`~stockkit.Inventory.sweep_expired_holds`), or any other change of the SKU, which
then reports the expiry's crossing before its own. Which expired holds no transaction has
seen yet is told by time: those that expired after the SKU's newest ledger entry (a
transaction writes its SKUs' entries at its own time, when it saw every hold expired by
then). So each expiry's crossing is reported once, late by at most the time to the next
write of the SKU, with the event's ``at`` the time it is reported. The extra reads (the
SKU's newest ledger entry, and its expired holds at that time) happen only for SKUs that
have unswept expired holds, so a frequent sweep keeps them rare.

Activating or deactivating a warehouse writes no ledger entry but changes which expired
holds count: a SKU that such a transaction only reads keeps its expiries unseen, except
those at a warehouse it deactivates, which it reports (nothing would count them again).

>>> import datetime as dt
>>> from stockkit.model import StockEventKind
>>> at = dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc)
>>> [e.kind.value for e in crossings("mug", "MUG", before=3, after=0, threshold=2, action=None, at=at)]
['low_stock', 'out_of_stock']
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import attrs

from stockkit.catalogue import CatalogueEntry
from stockkit.model import StockEvent, StockEventKind
from stockkit.store import Change, LedgerQuery, LevelKey, Transaction

__all__ = ["PluginFailure", "StockWatch", "WatchedTransaction", "company_available", "crossings", "unseen_expiries"]


def crossings(
    product: str, sku: str, *, before: int, after: int, threshold: int, action: str | None, at: dt.datetime
) -> list[StockEvent]:
    """The events of one SKU of one product whose available quantity went from ``before``
    to ``after``."""
    events = []
    if before > threshold >= after:
        events.append(StockEvent(StockEventKind.LOW_STOCK, product, sku, before, after, threshold, at, action))
    if before > 0 >= after:
        events.append(StockEvent(StockEventKind.OUT_OF_STOCK, product, sku, before, after, threshold, at))
    if before <= threshold < after:
        events.append(StockEvent(StockEventKind.BACK_IN_STOCK, product, sku, before, after, threshold, at))
    return events


def company_available(tx: Transaction, skus: Sequence[str], now: dt.datetime) -> dict[str, int]:
    """Each SKU's available quantity over every active warehouse at ``now`` (expired holds
    not counted), in two store reads."""
    return _company_stock(tx, skus, now)[0]


def _company_stock(
    tx: Transaction, skus: Sequence[str], now: dt.datetime
) -> tuple[dict[str, int], dict[str, list[LevelKey]]]:
    """Each SKU's company-wide available quantity at ``now``, and the active levels of the
    SKUs that have unswept expired holds there."""
    if not skus:
        return {}, {}
    active = [w.code for w in tx.list_warehouses(active=True)]
    keys = [(s, w) for s in sorted(skus) for w in active]
    levels = tx.get_levels(keys)
    expired = tx.expired_holds_by_level(keys, now) if keys else {}
    totals = dict.fromkeys(skus, 0)
    for key, level in levels.items():
        totals[key[0]] += level.available + expired.get(key, 0)
    with_expired: dict[str, list[LevelKey]] = {}
    for key in expired:
        with_expired.setdefault(key[0], []).append(key)
    return totals, with_expired


def unseen_expiries(tx: Transaction, sku: str, keys: Sequence[LevelKey], now: dt.datetime) -> int:
    """Units of the SKU's unswept holds at the levels ``keys`` that expired by ``now`` but
    after the SKU's newest ledger entry: expiries no transaction has seen yet."""
    newest = tx.ledger(LedgerQuery(sku=sku, limit=1))
    expired = sum(tx.expired_holds_by_level(keys, now).values())
    if not newest:
        return expired
    return expired - sum(tx.expired_holds_by_level(keys, newest[0].at).values())


class StockWatch:
    """Records the availability of the catalogue SKUs a transaction touches, before its
    first write of each, and says at the end which events the transaction caused.

    ``lookup(tx, codes)`` gives the catalogue entries of the codes (see
    :func:`stockkit.catalogue.catalogue_entries`).
    """

    def __init__(
        self,
        tx: Transaction,
        now: dt.datetime,
        lookup: Callable[[Transaction, Iterable[str]], dict[str, list[CatalogueEntry]]],
    ) -> None:
        self._tx = tx
        self._now = now
        self._lookup = lookup
        self._entries: dict[str, list[CatalogueEntry]] = {}
        self._before: dict[str, int] = {}
        self._unseen: dict[str, int] = {}
        self._expired_at: dict[str, list[LevelKey]] = {}
        self._written: set[str] = set()

    def touch(self, skus: Iterable[str]) -> dict[str, list[CatalogueEntry]]:
        """Note the SKUs about to change, read the availability of the new catalogue ones,
        and return the catalogue entries of every SKU given (empty for stock-only codes)."""
        wanted = set(skus)
        new = sorted(s for s in wanted if s not in self._entries)
        if new:
            found = self._lookup(self._tx, new)
            for sku in new:
                self._entries[sku] = found.get(sku, [])
            available, with_expired = _company_stock(self._tx, [s for s in new if self._entries[s]], self._now)
            self._before.update(available)
            for sku, keys in with_expired.items():
                self._expired_at[sku] = keys
                self._unseen[sku] = unseen_expiries(self._tx, sku, keys, self._now)
        return {s: self._entries[s] for s in wanted}

    def write(self, skus: Iterable[str]) -> None:
        """Note SKUs about to be written (a ledger entry each): the transaction then
        reports their unseen hold expiries too."""
        skus = set(skus)
        self.touch(skus)
        self._written |= skus

    def events(self) -> list[StockEvent]:
        """The events the transaction caused so far (read at the end of its work): per
        touched SKU, the crossings along :meth:`_path`."""
        skus = sorted(self._before)
        after, expired_at = _company_stock(self._tx, skus, self._now)
        return [
            event
            for sku in skus
            for start, end in itertools.pairwise(self._path(sku, after[sku], expired_at.get(sku, [])))
            if start != end
            for entry in self._entries[sku]
            for event in crossings(entry.product.code, sku, before=start, after=end,
                                   threshold=entry.rules.low_stock_threshold,
                                   action=entry.rules.low_stock_action, at=self._now)
        ]

    def _path(self, sku: str, after: int, expired_after: list[LevelKey]) -> list[int]:
        """The available quantities, as the events have seen them, that a SKU went
        through. A written SKU: its last seen quantity (expiries unseen so far not
        counted), then with them, then after the change; the write marks every expiry
        seen. A SKU only read (a warehouse toggled): expiries stay unseen, except at
        warehouses no longer active, which nothing will count again."""
        before, unseen = self._before[sku], self._unseen.get(sku, 0)
        if sku in self._written:
            return [before - unseen, before, after]
        expired_before = self._expired_at.get(sku, [])
        kept = [key for key in expired_before if key in set(expired_after)]
        still_unseen = unseen if kept == expired_before else self._unseen_at(sku, kept)
        unseen_after = still_unseen if expired_after == kept else self._unseen_at(sku, expired_after)
        return [before - unseen, before - still_unseen, after - unseen_after]

    def _unseen_at(self, sku: str, keys: list[LevelKey]) -> int:
        return unseen_expiries(self._tx, sku, keys, self._now) if keys else 0


class WatchedTransaction:
    """A transaction that tells its :class:`StockWatch` which SKUs each
    :meth:`apply` is about to change; every other call goes straight through.

    It also tells the watch about the SKUs of each :meth:`get_levels` before reading them,
    so that the watch's reads, which lock every active level of a catalogue SKU in one
    canonical order on PostgreSQL, come before the operation locks any level of it: two
    transactions then never take the same level locks in different orders.
    """

    def __init__(self, tx: Transaction, watch: StockWatch) -> None:
        self._tx = tx
        self._watch = watch

    def __getattr__(self, name: str) -> Any:
        return getattr(self._tx, name)

    def get_levels(self, keys: Iterable[LevelKey]) -> dict[LevelKey, Any]:
        """Note the SKUs, then read (and lock) the levels."""
        keys = list(keys)
        self._watch.touch(k[0] for k in keys)
        return self._tx.get_levels(keys)

    def apply(self, changes: Sequence[Change], *, at: dt.datetime, actor: str | None) -> Any:
        """Note the changed SKUs, then apply the changes."""
        self._watch.write(c.sku for c in changes)
        return self._tx.apply(changes, at=at, actor=actor)


@attrs.frozen
class PluginFailure:
    """A plugin that raised outside any transaction.

    ``plugin`` is the plugin's name in the manager, ``during`` what it was doing
    (``"low-stock action 'unpublish'"``, ``"stock event listener"``, ``"availability
    estimator"``), ``event`` the stock event it was handling, if any.
    """

    plugin: str
    during: str
    error: BaseException
    event: StockEvent | None = None

    def __str__(self) -> str:
        about = f" on {self.event.kind.value} of {self.event.sku} ({self.event.product})" if self.event else ""
        return (f"plugin {self.plugin!r} failed as {self.during}{about}: {self.error!r}; the inventory is "
                "unchanged by this failure")
