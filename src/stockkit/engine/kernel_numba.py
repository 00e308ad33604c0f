"""The compiled kernel (optional ``numba`` extra): the sequential rules as a loop.

A first-come-first-served loop compiled by numba, over lines in one of two groupings:

* SKU by SKU (:func:`allocate_by_sku`), each SKU's lines in service order. Where no rule
  looks past a line's own SKU (no fill per order, no ship complete) this gives the same
  result as serving the wave line by line, and each SKU's records stay in cache while its
  lines draw on them. It reads the validated inputs directly: lines and records are
  bucketed by SKU with counting sorts, and each (SKU, route) candidate list is laid out
  when the SKU's first line on that route needs it.
* order by order (:func:`allocate_compiled`), walking each line's candidate records as
  :mod:`stockkit.engine.problem` lists them, for fill per order and ship complete.

It is the definition's algorithm, so exact by construction. numba is imported on first
use; :func:`available` says whether it is installed.
"""

from __future__ import annotations

import importlib.util
import math
import threading
from collections.abc import Callable

import numpy as np

from stockkit.engine import buffers
from stockkit.engine.inputs import Inputs
from stockkit.engine.kernel_intervals import RouteClasses, priority_span, service_order_given
from stockkit.engine.policy import AllocationArrays, Fill, Policy, RouteOrder, ShipComplete
from stockkit.engine.problem import Problem, nearest_first
from stockkit.engine.threads import chunks, run_parts

__all__ = ["allocate_by_sku", "allocate_compiled", "available", "by_sku_applies"]


def available() -> bool:
    """Whether numba is installed here (it is imported on first use, not before: importing
    numba takes longer than importing the rest of stockkit)."""
    return importlib.util.find_spec("numba") is not None


def by_sku_applies(inp: Inputs) -> bool:
    """Whether :func:`allocate_by_sku` serves ``inp``: no rule of its policy looks past a
    line's SKU (fill partial or per line, no ship complete)."""
    policy = inp.policy
    return policy.fill is not Fill.ORDER and policy.ship_complete is ShipComplete.OFF


# ---------------------------------------------------------------------------------------
# Helpers. The loop keeps the rules for a line inline and calls per line only _take, which
# has no branch: numba counts references to the arrays a call passes, and where LLVM
# cannot pair those counts up inside one block they cost more than the line's work
# (_term runs only where two nearest-first candidates nearly tie).


def _take(e, units, stock, ec_rec, ec_wh, out_wh, out_qty, out_bo, n_out, undo_rec, undo_qty,
          n_undo):  # pragma: no cover - compiled
    """Book ``units`` of candidate ``e``: one record out, stock down, and an undo entry
    (from which fill per order gives a refused order's stock back); returns the new
    counts."""
    out_wh[n_out] = ec_wh[e]
    out_qty[n_out] = units
    out_bo[n_out] = False
    stock[ec_rec[e]] -= units
    undo_rec[n_undo] = ec_rec[e]
    undo_qty[n_undo] = units
    return n_out + 1, n_undo + 1


def _term(p1, c1, l1, p2, c2, l2):  # pragma: no cover - compiled
    """The haversine term between two points (latitude, its cosine, longitude; radians):
    it orders distances exactly as the array kernels do, where dot products of unit
    vectors nearly tie. Scalars only: a call passing arrays costs reference counting."""
    return min(math.sin((p2 - p1) / 2) ** 2 + c1 * c2 * math.sin((l2 - l1) / 2) ** 2, 1.0)


#: up to this many keys, one count per key (a table in the processor's cache); beyond,
#: keys are sorted by digits of at most :data:`RADIX_BITS` bits, least significant first,
#: whose tables stay in the first-level cache where one count per key (a million SKUs)
#: would miss the cache on almost every item
COUNTING_KEYS = 1 << 18
RADIX_BITS = 8


def _key_bits(n_keys: int) -> int:
    """How many low bits of a sort key :func:`_counting_sort` reads for ``n_keys`` keys
    (at least 1)."""
    return max(int(n_keys - 1).bit_length(), 1)


# Bucketing. Python drives the passes; each pass is a compiled loop over a chunk of the
# items (views of their own, indexed from 0: numba skips the wrap-around of negative
# indices only for loops over range(n)), the chunks side by side (:func:`run_parts`).

def _filled(order, t0, keys, items, k):  # pragma: no cover - compiled
    """A chunk of the items to sort: ``order[t]`` (``t0 + t`` when ``order`` is empty)
    into ``items`` and its key into ``k`` (left as they are when ``keys`` is empty)."""
    for t in range(items.shape[0]):
        i = order[t] if order.shape[0] > 0 else t0 + t
        items[t] = i
        if keys.shape[0] > 0:
            k[t] = keys[i]


def _digit_counts(k, low, shift, mask, at):  # pragma: no cover - compiled
    """Per digit ``d`` (bits ``shift`` and up of a key's ``low`` bits, under ``mask``) how
    many of a chunk's keys have it, into ``at[d + 1]``."""
    for t in range(k.shape[0]):
        at[(((k[t] & low) >> shift) & mask) + 1] += 1


def _digit_starts(counts, ptr):  # pragma: no cover - compiled
    """Turn the chunks' digit counts (a row each, from :func:`_digit_counts`) into where
    each chunk's items of each digit go, ``counts[c, d]``: a digit's items chunk after
    chunk (stable). ``ptr[d]``: where digit ``d`` starts, ``ptr[-1]`` the item count."""
    m = counts.shape[1] - 1
    pos = 0
    for d in range(m):
        ptr[d] = pos
        for c in range(counts.shape[0]):
            count = counts[c, d + 1]
            counts[c, d] = pos
            pos += count
    ptr[m] = pos


def _scattered(items, k, low, shift, mask, at, moved_items, moved_k):  # pragma: no cover - compiled
    """A chunk's items and keys moved to their digit's places (``at``, from
    :func:`_digit_starts`, advanced as they fill)."""
    for t in range(k.shape[0]):
        d = ((k[t] & low) >> shift) & mask
        moved_items[at[d]] = items[t]
        moved_k[at[d]] = k[t]
        at[d] += 1


def _key_counts(k, low, ptr):  # pragma: no cover - compiled
    """Offsets per key (``ptr``, zero on entry) of keys sorted by their ``low`` bits."""
    for t in range(k.shape[0]):
        ptr[(k[t] & low) + 1] += 1
    for key in range(ptr.shape[0] - 1):
        ptr[key + 1] += ptr[key]


def _packed_keys(line_sku, prio, low, n_prio, line_qty, line_channel, channel_class, bits, cls_bits,
                 key):  # pragma: no cover - compiled
    """A chunk of lines' sort keys, (SKU, priority from ``low``, or SKU alone when ``prio``
    is empty) in the low ``bits``, quantity and route class riding along above."""
    for i in range(line_sku.shape[0]):
        k = line_sku[i] * n_prio + (prio[i] - low) if prio.shape[0] > 0 else line_sku[i]
        key[i] = k | ((line_qty[i] << cls_bits | channel_class[line_channel[i]]) << bits)


def _slots(lines, t0, slot_of):  # pragma: no cover - compiled
    """Each line's slot, for a chunk of slots from ``t0``."""
    for t in range(lines.shape[0]):
        slot_of[lines[t]] = t0 + t


def _unpacked(bits, cls_bits, qty, cls):  # pragma: no cover - compiled
    """A chunk's quantities and classes from the sorted keys (in ``qty`` on entry)."""
    cls_mask = (1 << cls_bits) - 1
    for t in range(qty.shape[0]):
        v = qty[t] >> bits
        cls[t] = v & cls_mask
        qty[t] = v >> cls_bits


def _counting_sort(keys: np.ndarray, n_keys: int, order: np.ndarray, ordered: bool, work: np.ndarray,
                   threads: int = 1) -> tuple[np.ndarray, int]:
    """Offsets per key (``n_keys + 1``) and the items ``order`` lists (every item in turn
    when ``ordered`` is False) stably sorted by ``keys``: one counting pass up to
    :data:`COUNTING_KEYS` keys, else a radix sort. Only a key's low
    :func:`_key_bits` bits are read: bits above ride along (a payload). ``work`` holds
    four rows of one int64 per item; the sorted items are left in row ``home`` (0 or 2,
    returned) and their keys in row ``home + 1``; the other two rows are free. ``keys``
    may be row 1 itself when ``ordered`` is False. Each pass runs in ``threads`` chunks
    of items (one below :data:`~stockkit.engine.threads.PARALLEL_FROM_LINES` items)."""
    n = order.shape[0] if ordered else keys.shape[0]
    cut = chunks(n, threads)
    nothing = np.zeros(0, np.int64)
    in_place = not ordered and n > 0 and keys.ctypes.data == work[1].ctypes.data
    filled = _jitted("_filled")
    run_parts(lambda c: filled(order[c[0]:c[1]] if ordered else nothing, c[0], nothing if in_place else keys,
                               work[0][c[0]:c[1]], work[1][c[0]:c[1]]), cut)
    bits = _key_bits(n_keys)
    low = (1 << bits) - 1
    passes = 1 if n_keys <= COUNTING_KEYS else (bits + RADIX_BITS - 1) // RADIX_BITS
    digit = (bits + passes - 1) // passes
    mask = (1 << digit) - 1
    count, starts, scatter = _jitted("_digit_counts"), _jitted("_digit_starts"), _jitted("_scattered")
    home = 0
    ptr = np.zeros(mask + 2, np.int64)
    # two pairs of rows taken in turn
    for p in range(passes):
        shift = p * digit
        items, k, moved_items, moved_k = work[home], work[home + 1], work[2 - home], work[3 - home]
        counts = np.zeros((len(cut), mask + 2), np.int64)
        run_parts(lambda c: count(k[cut[c][0]:cut[c][1]], low, shift, mask, counts[c]), range(len(cut)))
        starts(counts, ptr)
        run_parts(lambda c: scatter(items[cut[c][0]:cut[c][1]], k[cut[c][0]:cut[c][1]], low, shift, mask,
                                    counts[c], moved_items, moved_k), range(len(cut)))
        home = 2 - home
    if passes == 1:
        return ptr[:n_keys + 1], home
    by_key = np.zeros(n_keys + 1, np.int64)
    _jitted("_key_counts")(work[home + 1][:n], low, by_key)
    return by_key, home


def _bucket(seq: np.ndarray, prio: np.ndarray, low: int, n_prio: int, line_sku: np.ndarray, line_qty: np.ndarray,
            line_channel: np.ndarray, channel_class: np.ndarray, n_skus: int, rec_sku: np.ndarray, held: np.ndarray,
            rec_wh: np.ndarray, line_work: np.ndarray, rec_work: np.ndarray, threads: int) -> tuple[np.ndarray, ...]:
    """The lines SKU by SKU, each SKU's in service order, and the records ``held`` (those
    with stock) SKU by SKU. The service order is ``seq``, else the lines' order sorted
    stably by ``prio`` (from ``low``, ``n_prio`` values; input order when empty). Returns the
    lines' offsets per SKU; per slot the line; per line its slot; per slot the quantity
    and route class; the records' offsets per SKU, and per entry the record and its
    warehouse. All but the offsets are rows of ``line_work`` (four of one int64 per line)
    and ``rec_work`` (four per held record). Every pass runs in ``threads`` chunks.

    Reads by line in slot order land on random cache lines: where the lines are bucketed
    from input order (no ``seq``) and a line's quantity and class fit above its sort key
    in 63 bits, they ride along through the sort instead."""
    n = line_sku.shape[0]
    cut = chunks(n, threads)
    n_keys = n_skus * n_prio
    bits = _key_bits(n_keys)
    n_cls = int(channel_class.max()) + 1 if channel_class.shape[0] > 0 else 1
    cls_bits = _key_bits(n_cls) if n_cls > 1 else 0
    packed = seq.shape[0] == 0 and n > 0 and bits + cls_bits + _key_bits(int(line_qty.max()) + 1) <= 63
    if packed:
        key = line_work[1]
        pack = _jitted("_packed_keys")
        run_parts(lambda c: pack(line_sku[c[0]:c[1]], prio[c[0]:c[1]], low, n_prio, line_qty[c[0]:c[1]],
                                 line_channel[c[0]:c[1]], channel_class, bits, cls_bits, key[c[0]:c[1]]), cut)
    elif prio.shape[0] > 0:
        key = line_sku * n_prio + (prio - low)
    else:
        key = line_sku
    ptr, home = _counting_sort(key, n_keys, seq, seq.shape[0] > 0, line_work, threads)
    lines = line_work[home]
    slot_of, qty, cls = line_work[3 - home], line_work[1 + home], line_work[2 - home]
    # the lines' slots, quantities and classes (the loop reads them in turn, where a load
    # missing the cache would stall the line's whole work), one array a pass: a pass
    # moving one array keeps many loads in flight, one moving several does not
    slots = _jitted("_slots")
    run_parts(lambda c: slots(lines[c[0]:c[1]], c[0], slot_of), cut)
    gather = _jitted("_gathered")
    if packed:
        unpack = _jitted("_unpacked")
        run_parts(lambda c: unpack(bits, cls_bits, qty[c[0]:c[1]], cls[c[0]:c[1]]), cut)
    else:
        for values, at, out in ((line_qty, lines, qty), (line_channel, lines, cls), (channel_class, cls, cls)):
            run_parts(lambda c: gather(values, at[c[0]:c[1]], out[c[0]:c[1]]), cut)  # noqa: B023
    rec_ptr, rec_home = _counting_sort(rec_sku, n_skus, held, True, rec_work, threads)
    recs = rec_work[rec_home]
    rec_wh_sorted = rec_work[1 + rec_home]
    run_parts(lambda c: gather(rec_wh, recs[c[0]:c[1]], rec_wh_sorted[c[0]:c[1]]), chunks(held.size, threads))
    return ptr[::n_prio].copy(), lines, slot_of, qty, cls, rec_ptr, recs, rec_wh_sorted


# The put-back's steps take each chunk's part of an array as a view of its own, indexed
# from 0: numba skips the wrap-around of negative indices only for loops over range(n).

def _spans(slot_of, first_of, first, end):  # pragma: no cover - compiled
    """Put-back, step 1, a chunk of lines: where each line's records lie among the records
    by slot (``first``, ``end``; the line is at slot ``slot_of[i]``, slot ``t``'s records
    are ``[first_of[t], first_of[t + 1])``). Returns their count. A slot's first record
    and the next slot's share a cache line: one pass."""
    count = 0
    for i in range(slot_of.shape[0]):
        s = slot_of[i]
        first[i] = first_of[s]
        end[i] = first_of[s + 1]
        count += end[i] - first[i]
    return count


def _laid_out(first, end, line0, line, at, out_wh, out_bo, unfilled, reason):  # pragma: no cover - compiled
    """Put-back, step 2, three independent jobs: the records of a chunk of lines, the
    first numbered ``line0``, in line order (``line`` and, by slot, ``at``); a chunk of
    the records by slot with warehouse and back order packed in one (in ``out_wh``); and
    a chunk of slots with unfilled units and reason packed in one (in ``unfilled``).

    Every read by slot (step 3) lands on a random cache line, and costs many sequential
    passes: so columns read by slot are packed two in one (units, below the array
    kernels' ``ARRAY_KERNEL_TOTAL`` of 2**52, and reason) and unpacked in line order."""
    d = 0
    for i in range(first.shape[0]):
        for k in range(first[i], end[i]):
            line[d] = line0 + i
            at[d] = k
            d += 1
    for k in range(out_wh.shape[0]):
        out_wh[k] = out_wh[k] * 2 + out_bo[k]
    for t in range(unfilled.shape[0]):
        unfilled[t] = unfilled[t] * 8 + reason[t]


def _moved_down(values, src, dst, count):  # pragma: no cover - compiled
    """``values[dst:dst + count] = values[src:src + count]`` for ``dst <= src``, in place
    (front to back, so an overlap is read before it is written)."""
    for j in range(count):
        values[dst + j] = values[src + j]


def _put_back(out_wh, out_qty, unfilled, slot_of, at, wh, qty, bo, line_unfilled,
              line_reason):  # pragma: no cover - compiled
    """Put-back, step 3: a chunk of records (``at``) and of lines (``slot_of``) in line
    order, read by slot from what step 2 packed, one array a pass (a pass moving one array
    keeps many reads in flight, one moving several does not)."""
    for d in range(at.shape[0]):
        wh[d] = out_wh[at[d]]
    for d in range(at.shape[0]):
        bo[d] = (wh[d] & 1) == 1
        wh[d] >>= 1
    for d in range(at.shape[0]):
        qty[d] = out_qty[at[d]]
    for i in range(slot_of.shape[0]):
        line_unfilled[i] = unfilled[slot_of[i]]
    for i in range(slot_of.shape[0]):
        line_reason[i] = line_unfilled[i] & 7
        line_unfilled[i] >>= 3


def _gathered(values, at, out):  # pragma: no cover - compiled
    """``out[:] = values[at]`` (``out`` may be ``at``); returns ``out``."""
    for i in range(at.shape[0]):
        out[i] = values[at[i]]
    return out


_FILLED, _BACKORDERED, _SHORT, _NO_WAREHOUSE, _NO_SINGLE, _INCOMPLETE = 0, 1, 2, 3, 4, 5


def _serve(by_sku, group_ptr, g_lo, g_hi, proc_qty, proc_cls, line_sku, backorder, first_wh, route_first, ec_start, ec_end,
           ec_rec, ec_rank, ec_wh, scratch, stock, group_total, split, fill, sc, undo_size, located, sku_ptr,
           sku_rec, sku_wh, link_rank, lp1, lc1, ll1, wp2, wc2, wl2, lx, ly, lz, wx, wy, wz, unfilled, reason,
           first_of, nxt, out_wh, out_qty, out_bo):  # pragma: no cover - compiled
    """The loop. Groups ``g_lo`` to ``g_hi - 1`` (orders, or SKUs when ``by_sku``),
    ``[group_ptr[g], group_ptr[g + 1])`` of processing slots, each slot ``t`` a line with ``proc_qty[t]`` units on route
    class ``proc_cls[t]``. Per slot (per SKU when ``by_sku``): whether it may be back
    ordered (``backorder``). Per slot: ``first_wh`` (else ``route_first`` of its class),
    its candidates ``[ec_start, ec_end)`` (when ``by_sku``: laid out at the first line of
    each route of the SKU, after ``scratch``), whether it is ``located`` (nearest first:
    its SKU's records are ranked here) and its point (``lp1``, ``lc1``, ``ll1``, ``lx``,
    ``ly``, ``lz``): every array of lines is read by slot, in turn, where a line's reads
    from random places would each stall its work. ``stock`` is changed.

    Everything comes out by slot, written in turn: records, ``unfilled`` units and
    ``reason`` (both zero on entry), where each slot's records start (``first_of``,
    counted from the first record of the call); ``nxt`` is scratch, ``[1, 2, ...]`` on
    entry, one past each candidate. Returns the record count, -1 when the out arrays are
    full. Only the groups' slots and their SKUs' stock are written (SKU by SKU, calls on
    different groups may run side by side)."""
    undo_rec = np.zeros(undo_size, np.int64)
    undo_qty = np.zeros(undo_size, np.int64)
    n_cls = link_rank.shape[0]
    list_of = np.full(n_cls, -1, np.int64)      # SKU whose list of the route is laid out
    list_start = np.zeros(n_cls, np.int64)
    list_end = np.zeros(n_cls, np.int64)
    # exhausted candidates are skipped with compressed pointers (nxt; with Fill.ORDER
    # only those the current order has not taken from: a refused order gives that back)
    nearest = located.shape[0] > 0
    given_first = first_wh.shape[0] > 0
    cap = out_wh.shape[0]
    n_out = 0
    for g in range(g_lo, g_hi):
        lo = group_ptr[g]
        hi = group_ptr[g + 1]
        if lo == hi:
            continue
        first_out = n_out
        for t in range(lo, hi):
            first_of[t] = n_out         # until a line of the group takes something
        used = scratch
        if sc != 0:
            # ship complete: one warehouse holding every line's SKU total, in the first
            # line's route order (orders only: lines are positions here)
            done = False
            if first_wh[lo] < 0:
                for i in range(lo, hi):
                    unfilled[i] = proc_qty[i]
                    reason[i] = _NO_WAREHOUSE
                continue
            for e in range(ec_start[lo], ec_end[lo]):
                w = ec_wh[e]
                whole = True
                for i in range(lo, hi):
                    found = False
                    for f in range(ec_start[i], ec_end[i]):
                        if ec_wh[f] == w:
                            found = stock[ec_rec[f]] >= group_total[i]
                            break
                    if not found:
                        whole = False
                        break
                if whole:
                    for i in range(lo, hi):
                        for f in range(ec_start[i], ec_end[i]):
                            if ec_wh[f] == w:
                                if n_out >= cap:
                                    return -1
                                first_of[i] = n_out
                                n_out, n_undo = _take(f, proc_qty[i], stock, ec_rec, ec_wh, out_wh, out_qty,
                                                      out_bo, n_out, undo_rec, undo_qty, 0)
                                break
                    done = True
                    break
            if done:
                continue
            if sc == 2:
                for i in range(lo, hi):
                    unfilled[i] = proc_qty[i]
                    reason[i] = _INCOMPLETE
                continue
        n_undo = 0
        failed = False
        for t in range(lo, hi):
            first_of[t] = n_out
            q = proc_qty[t]
            c = proc_cls[t]
            sku = g if by_sku else line_sku[t]
            fw = first_wh[t] if given_first else route_first[c]
            if fw < 0:
                unfilled[t] = q
                reason[t] = _NO_WAREHOUSE
                failed = True
                continue
            bo_ok = backorder[g] if by_sku else backorder[t]
            if fill != 2:
                n_undo = 0
            start_out = n_out
            need = q
            took_first = False
            lazy = nearest and located[t]
            if lazy:
                # nearest-first line: its SKU's records, of which those on its route
                # holding stock are its candidates, each pick the nearest of them
                ci = sku_ptr[sku]
                cj = sku_ptr[sku + 1]
            elif by_sku:
                if list_of[c] != g:
                    # the SKU's records on this route, in route order (insertion: lists are short)
                    list_of[c] = g
                    list_start[c] = used
                    for j in range(sku_ptr[g], sku_ptr[g + 1]):
                        rank = link_rank[c, sku_wh[j]]
                        if rank < 0:
                            continue
                        e = used
                        while e > list_start[c] and ec_rank[e - 1] > rank:
                            ec_rec[e], ec_rank[e], ec_wh[e] = ec_rec[e - 1], ec_rank[e - 1], ec_wh[e - 1]
                            e -= 1
                        ec_rec[e], ec_rank[e], ec_wh[e] = sku_rec[j], rank, sku_wh[j]
                        used += 1
                    list_end[c] = used
                    for e in range(list_start[c], used):
                        nxt[e] = e + 1
                ci = list_start[c]
                cj = list_end[c]
            else:
                ci = ec_start[t]
                cj = ec_end[t]
            if n_out + cj - ci + 1 > cap:
                return -1
            if lazy:
                if split and fill != 0 and not bo_ok:
                    total = 0
                    for j in range(ci, cj):
                        if link_rank[c, sku_wh[j]] >= 0:
                            total += stock[sku_rec[j]]
                    if total < q:
                        unfilled[t] = q
                        reason[t] = _SHORT
                        failed = True
                        continue
                px = lx[t]
                py = ly[t]
                pz = lz[t]
                while need:
                    # one scan a pick: the nearest candidate that can give (any stock when
                    # split, else the whole need); dot products decide unless they nearly
                    # tie, then the haversine term, then the link rank
                    best = -1
                    best_key = 0.0
                    for j in range(ci, cj):
                        have = stock[sku_rec[j]]
                        if not (have >= need if not split else have > 0):
                            continue
                        w = sku_wh[j]
                        rank = link_rank[c, w]
                        if rank < 0:
                            continue
                        key = px * wx[w] + py * wy[w] + pz * wz[w]
                        if best >= 0 and key - best_key <= 1e-12:
                            if best_key - key > 1e-12:
                                continue
                            b = sku_wh[best]
                            ta = _term(lp1[t], lc1[t], ll1[t], wp2[w], wc2[w], wl2[w])
                            tb = _term(lp1[t], lc1[t], ll1[t], wp2[b], wc2[b], wl2[b])
                            if ta > tb or (ta == tb and rank > link_rank[c, b]):
                                continue
                        best = j
                        best_key = key
                    if best < 0:
                        break
                    took_first = took_first or (bo_ok and sku_wh[best] == fw)
                    give = min(need, stock[sku_rec[best]])
                    n_out, n_undo = _take(best, give, stock, sku_rec, sku_wh, out_wh, out_qty, out_bo,
                                          n_out, undo_rec, undo_qty, n_undo)
                    need -= give
                if need and bo_ok and not split:
                    for j in range(ci, cj):
                        if sku_wh[j] == fw and stock[sku_rec[j]] > 0:
                            give = stock[sku_rec[j]]
                            n_out, n_undo = _take(j, give, stock, sku_rec, sku_wh, out_wh, out_qty, out_bo,
                                                  n_out, undo_rec, undo_qty, n_undo)
                            took_first = True
                            need -= give
            elif split:
                # the first candidate with stock, compressing the path to it; with fill
                # per order only past candidates this order has not taken from (a refused
                # order gives back what it took, nothing else: the others stay empty)
                e = ci
                r = ci
                while r < cj and stock[ec_rec[r]] == 0:
                    if fill == 2:
                        taken = False
                        for k in range(n_undo):
                            if undo_rec[k] == ec_rec[r]:
                                taken = True
                                break
                        if taken:
                            break
                    r = nxt[r]
                while e < r:
                    following = nxt[e]
                    nxt[e] = r
                    e = following
                if fill != 0 and not bo_ok:
                    total = 0
                    for f in range(e, cj):
                        total += stock[ec_rec[f]]
                        if total >= q:
                            break
                    if total < q:
                        unfilled[t] = q
                        reason[t] = _SHORT
                        failed = True
                        continue
                while e < cj:
                    have = stock[ec_rec[e]]
                    if have > 0:
                        give = min(need, have)
                        n_out, n_undo = _take(e, give, stock, ec_rec, ec_wh, out_wh, out_qty, out_bo,
                                              n_out, undo_rec, undo_qty, n_undo)
                        took_first = took_first or ec_rank[e] == 0
                        need -= give
                        if need == 0:
                            break
                    e += 1
            else:
                for e in range(ci, cj):
                    if stock[ec_rec[e]] >= q:
                        n_out, n_undo = _take(e, q, stock, ec_rec, ec_wh, out_wh, out_qty, out_bo,
                                              n_out, undo_rec, undo_qty, n_undo)
                        need = 0
                        break
                if need and bo_ok and ci < cj and ec_rank[ci] == 0 and stock[ec_rec[ci]] > 0:
                    give = stock[ec_rec[ci]]
                    n_out, n_undo = _take(ci, give, stock, ec_rec, ec_wh, out_wh, out_qty, out_bo,
                                          n_out, undo_rec, undo_qty, n_undo)
                    took_first = True
                    need -= give
            if need and bo_ok:
                # the back order sits at rank 0: after a stock record there, before the rest
                at = start_out + 1 if took_first else start_out
                for k in range(n_out, at, -1):
                    out_wh[k] = out_wh[k - 1]
                    out_qty[k] = out_qty[k - 1]
                    out_bo[k] = out_bo[k - 1]
                out_wh[at] = fw
                out_qty[at] = need
                out_bo[at] = True
                n_out += 1
                reason[t] = _BACKORDERED
            elif need and not split:
                unfilled[t] = q
                reason[t] = _NO_SINGLE
                failed = True
            elif need:
                # only with partial fill: fill per line or order refused a split line
                # short of stock before it took anything
                unfilled[t] = need
                reason[t] = _SHORT
            else:
                reason[t] = _FILLED
        if fill == 2 and failed:
            for k in range(n_undo):
                stock[undo_rec[k]] += undo_qty[k]
            n_out = first_out
            for t in range(lo, hi):
                first_of[t] = first_out     # the refused order's records are gone
                if unfilled[t] == 0:
                    reason[t] = _INCOMPLETE
                unfilled[t] = proc_qty[t]
    return n_out


_HELPERS = ("_take", "_term")
_LOOPS = ("_serve", "_filled", "_digit_counts", "_digit_starts", "_scattered", "_key_counts", "_packed_keys", "_slots",
          "_unpacked", "_gathered", "_spans", "_laid_out", "_moved_down", "_put_back")
_compiled: dict[str, object] = {}
_compiling = threading.Lock()


def _jitted(name: str):
    """The compiled ``name`` (a loop or a helper), compiling on first use (once, however
    many threads ask at the same time)."""
    if not _compiled:
        with _compiling:
            if not _compiled:
                import numba

                jit = numba.njit(cache=True, nogil=True)
                # the helpers first: a loop picks up whatever these names hold when it compiles
                for helper in _HELPERS:
                    globals()[helper] = jit(globals()[helper])
                _compiled.update({loop: jit(globals()[loop]) for loop in _LOOPS})
    return _compiled[name] if name in _compiled else globals()[name]


def _unit_vectors(lat: np.ndarray, cos_lat: np.ndarray, lon: np.ndarray) -> tuple[np.ndarray, ...]:
    return cos_lat * np.cos(lon), cos_lat * np.sin(lon), np.sin(lat)


#: SKU by SKU, the lines are bucketed by (SKU, priority) at once while that makes at most
#: this many buckets a line (orders given in turn); else sorted into service order first
BUCKETS_PER_LINE = 4


def _service_order(inp: Inputs) -> tuple[np.ndarray, np.ndarray, int, int]:
    """How :func:`_bucket` finds the service order, as (lines in service order,
    priorities, the lowest, how many from it). Both arrays are empty when the lines come
    in service order. When orders come in turn, sorting stably by priority is enough; if
    bucketing by (SKU, priority) then costs little, the priorities are given instead of
    the lines. Otherwise the lines in service order."""
    n = inp.line_priority.shape[0]
    none = np.zeros(0, np.int64)
    span = priority_span(inp)
    if span is not None:
        low, high = span
        if low == high:
            return none, none, 0, 1
        if (high - low + 1) * inp.n_skus <= BUCKETS_PER_LINE * n:
            return none, inp.line_priority, low, high - low + 1
    return service_order_given(inp, span), none, 0, 1


def _geometry(lat: np.ndarray, lon: np.ndarray, wh_lat: np.ndarray, wh_lon: np.ndarray,
              cos_lat: np.ndarray | None = None) -> tuple[np.ndarray, ...]:
    """What the loop reads to rank nearest-first candidates: per line (``lat``, ``lon`` in
    radians) and per warehouse the latitude, its cosine and the longitude, then the unit
    vectors of both. ``cos_lat``: the lines' cosines, when already known."""
    c1, c2 = np.cos(lat) if cos_lat is None else cos_lat, np.cos(wh_lat)
    return (lat, c1, lon, wh_lat, c2, wh_lon, *_unit_vectors(lat, c1, lon), *_unit_vectors(wh_lat, c2, wh_lon))


#: one serving part, ``(g_lo, g_hi, t_lo, t_hi)``: groups ``g_lo`` to ``g_hi - 1`` of
#: :func:`_serve`, whose lines are the slots ``t_lo`` to ``t_hi - 1``
Part = tuple[int, int, int, int]

def _served(slot_of: np.ndarray, first: np.ndarray, end: np.ndarray, spare: np.ndarray | None, n_candidates: int,
            attempt: Callable[[], Callable[..., int]], parts: list[Part], threads: int) -> AllocationArrays:
    """The result of serving ``parts`` side by side, in line order. ``attempt()`` gives a
    call ``serve(g_lo, g_hi, unfilled, reason, first_of, nxt, out_wh, out_qty, out_bo)`` of
    :func:`_serve` over a fresh copy of the stock (on lines ``i`` at slots ``slot_of[i]``,
    over ``n_candidates`` candidates); each part writes its records in a stretch of the
    out arrays of its own, and the parts are served again with stretches twice as long
    while one's is too short; then each part's records are moved down to follow the
    part's before. ``first`` and ``end`` are scratch of one int64 per line, and so is
    ``spare`` when given, once served. The put-back into line order runs in ``threads``
    chunks of lines.

    The arrays of lines and records the loop writes are allocated here (the caller's
    work arrays likewise), on huge pages (:mod:`stockkit.engine.buffers`), where numba's
    own allocations fault their memory in 4 KiB page by page (on workload M, 21,600 page
    faults, a third of the time SKU by SKU; now about 60)."""
    n = slot_of.shape[0]
    scale = 1
    while True:
        unfilled, reason, first_of = buffers.zeros(n), buffers.zeros(n, np.uint8), buffers.empty(n + 1)
        serve = attempt()
        # most lines give one record
        stretch = np.cumsum([0, *(scale * (t_hi - t_lo + (t_hi - t_lo) // 8 + 64) for _, _, t_lo, t_hi in parts)])
        out = (buffers.empty(int(stretch[-1])), buffers.empty(int(stretch[-1])),
               buffers.empty(int(stretch[-1]), np.bool_))
        counts = run_parts(lambda k: serve(parts[k][0], parts[k][1], unfilled, reason, first_of,
                                           np.arange(1, n_candidates + 2),
                                           *(a[stretch[k]:stretch[k + 1]] for a in out)), range(len(parts)))
        if min(counts) >= 0:
            break
        scale *= 2
    serve = None    # and with it the copy of the stock it served from
    count = sum(counts)
    # each part's records follow the parts' before it (moved down one part after another:
    # a part's new place may overlap the old place of the one before)
    move = _jitted("_moved_down")
    start = counts[0]
    for (_, _, t_lo, t_hi), k0, c in zip(parts[1:], stretch[1:-1].tolist(), counts[1:], strict=True):
        for a in out:
            move(a, k0, start, c)
        first_of[t_lo:t_hi] += start
        start += c
    first_of[n] = count
    result = AllocationArrays(*(buffers.empty(count) for _ in range(3)), buffers.empty(count, np.bool_),
                              buffers.empty(n), buffers.empty(n, np.uint8))
    at = spare[:count] if spare is not None and count <= spare.size else buffers.empty(count)
    # per chunk: its lines (and slots), then its records in line order and by slot
    lines = [slice(lo, hi) for lo, hi in chunks(n, threads)]
    spans = _jitted("_spans")
    ds = np.cumsum([0, *run_parts(lambda i: spans(slot_of[i], first_of, first[i], end[i]), lines)]).tolist()
    ordered = [slice(lo, hi) for lo, hi in zip(ds[:-1], ds[1:], strict=True)]
    cuts = np.linspace(0, count, len(lines) + 1).astype(np.int64).tolist()
    by_slot = [slice(lo, hi) for lo, hi in zip(cuts[:-1], cuts[1:], strict=True)]
    laid_out = _jitted("_laid_out")
    run_parts(lambda k: laid_out(first[lines[k]], end[lines[k]], lines[k].start, result.record_line[ordered[k]],
                                 at[ordered[k]], out[0][by_slot[k]], out[2][by_slot[k]], unfilled[lines[k]],
                                 reason[lines[k]]), range(len(lines)))
    put_back = _jitted("_put_back")
    run_parts(lambda k: put_back(out[0], out[1], unfilled, slot_of[lines[k]], at[ordered[k]],
                                 *(a[ordered[k]] for a in result[1:4]), *(a[lines[k]] for a in result[4:])),
              range(len(lines)))
    return result


def allocate_by_sku(inp: Inputs, rc: RouteClasses, threads: int = 1) -> AllocationArrays:
    """Serve ``inp`` SKU by SKU (``rc``: its route classes); only where
    :func:`by_sku_applies`. Waves of at least :data:`~stockkit.engine.threads.PARALLEL_FROM_LINES` lines are served
    in ``threads`` parts side by side, each a run of SKUs with about as many lines (SKUs
    share no stock here), and put back in line order likewise."""
    n = inp.line_order.shape[0]
    nothing, no_floats = np.zeros(0, np.int64), np.zeros(0)
    held = np.flatnonzero(inp.stock_available > 0)
    line_ptr, lines, slot_of, qty, cls, rec_ptr, recs, rec_wh = _bucket(
        *_service_order(inp), inp.line_sku, inp.line_quantity, inp.line_channel, rc.channel_class, inp.n_skus,
        inp.stock_sku, held, inp.stock_warehouse, buffers.empty((4, n)), buffers.empty((4, held.size)), threads)
    located, geo, first_wh = np.zeros(0, bool), (no_floats,) * 12, nothing
    if inp.policy.route is RouteOrder.NEAREST and not np.isnan(inp.line_lat).all():
        # the loop reads the lines' points in slot order (gathered once, then turned to
        # radians in place: ten million lines hold 16 bytes a line fewer)
        gather = _jitted("_gathered")
        lat, lon = (gather(a, lines, buffers.empty(n, np.float64)) for a in (inp.line_lat, inp.line_lon))
        located = ~np.isnan(lat)
        if inp.sku_backorder.any():
            # back orders go to the nearest warehouse of the whole route
            first_wh = nearest_first(inp, rc, inp.line_sku[lines], cls, lat, lon, np.flatnonzero(located),
                                     rc.route_wh[cls, 0])
        geo = _geometry(np.radians(lat, out=lat), np.radians(lon, out=lon), np.radians(inp.warehouse_lat),
                        np.radians(inp.warehouse_lon))
        del lat, lon
    # room for one SKU's route lists, each at most its record count long
    per_sku = np.diff(rec_ptr)
    n_cls = rc.wh_rank.shape[0]
    room = int((np.minimum(np.diff(line_ptr), n_cls) * per_sku).max(initial=0)) + 1
    undo_size = int(per_sku.max(initial=0)) + 2
    fill = 0 if inp.policy.fill is Fill.PARTIAL else 1
    serve = _jitted("_serve")
    # the loop names records by their place in SKU order, where a SKU's stock is one
    # stretch of memory rather than scattered over the stock arrays
    in_sku_order = np.arange(recs.size)
    route_first = rc.route_wh[:, 0].copy()
    # runs of whole SKUs, each about as many lines as a chunk of the put-back
    sku_bounds = np.searchsorted(line_ptr, [lo for lo, _ in chunks(n, threads)] + [n]).tolist()
    sku_bounds[-1] = line_ptr.shape[0] - 1
    parts = [(g_lo, g_hi, int(line_ptr[g_lo]), int(line_ptr[g_hi]))
             for g_lo, g_hi in zip(sku_bounds[:-1], sku_bounds[1:], strict=True)]

    def attempt() -> Callable[..., int]:
        stock = inp.stock_available[recs]
        return lambda g_lo, g_hi, *out: serve(
            True, line_ptr, g_lo, g_hi, qty, cls, nothing, inp.sku_backorder, first_wh, route_first, nothing,
            nothing, *(np.empty(room, np.int64) for _ in range(3)), 0, stock, nothing, inp.policy.split, fill, 0,
            undo_size, located, rec_ptr, in_sku_order, rec_wh, rc.wh_rank, *geo, *out)

    # the lines' quantities and classes are read only while serving: then scratch
    return _served(slot_of, qty, cls, lines, room, attempt, parts, threads)


def allocate_compiled(pb: Problem, policy: Policy, group_total: np.ndarray, threads: int = 1) -> AllocationArrays:
    """Serve ``pb`` order by order (``group_total``: per position the units of its SKU in
    its order, read for ship complete only), in one part; the put-back into line order
    runs in ``threads`` chunks (see :func:`allocate_by_sku`)."""
    n = pb.qty.shape[0]
    fill = {Fill.PARTIAL: 0, Fill.LINE: 1, Fill.ORDER: 2}[policy.fill]
    sc = {ShipComplete.OFF: 0, ShipComplete.PREFER: 1, ShipComplete.REQUIRE: 2}[policy.ship_complete]
    per_order = np.add.reduceat(pb.ec_end - pb.ec_start, pb.order_start) if n else np.zeros(1, np.int64)
    undo_size = int(per_order.max()) + 1
    lazy = pb.lazy
    stock, ec_rec = pb.stock, pb.ec_rec
    if lazy is None:
        located, line_cls, link_rank = np.zeros(0, bool), np.zeros(n, np.int64), np.zeros((1, 1), np.int64)
        geo = (np.zeros(0),) * 12
        sku_ptr, sku_rec, sku_wh = np.zeros(1, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64)
    else:
        located, line_cls, link_rank = lazy.located, lazy.line_cls, lazy.link_rank
        geo = _geometry(lazy.lat, lazy.lon, lazy.wh_lat, lazy.wh_lon, lazy.cos_lat)
        sku_ptr, sku_wh = lazy.sku_ptr, lazy.sku_wh
        # records renumbered in SKU order: a nearest-first line reads its SKU's stock from
        # one stretch of memory, not from as many random places as the SKU has records
        renumber = np.arange(stock.size)
        renumber[lazy.sku_rec] = np.arange(lazy.sku_rec.size)
        stock = stock[np.append(lazy.sku_rec, stock.size - 1)]      # the empty record stays last
        ec_rec = renumber[ec_rec]
        sku_rec = np.arange(lazy.sku_rec.size)
        # a nearest-first line may take from each record of its SKU
        most_lines = int(np.diff(np.append(pb.order_start, n)).max())
        undo_size = max(undo_size, (int(np.diff(sku_ptr).max()) + 1) * most_lines)
    scratch = pb.ec_rec.shape[0]
    group_ptr = np.append(pb.order_start, n)
    serve = _jitted("_serve")
    slot_of = buffers.empty(n)
    slot_of[pb.seq] = np.arange(n)
    return _served(slot_of, *buffers.empty((2, n)), None, scratch, lambda: lambda g_lo, g_hi, *out: serve(
        False, group_ptr, g_lo, g_hi, pb.qty, line_cls, pb.sku, pb.backorder, pb.first_wh, np.zeros(0, np.int64),
        pb.ec_start, pb.ec_end, ec_rec, pb.ec_rank, pb.ec_wh, scratch, stock.copy(), group_total, policy.split, fill, sc,
        undo_size, located, sku_ptr, sku_rec, sku_wh, link_rank, *geo, *out),
        [(0, group_ptr.shape[0] - 1, 0, n)], threads)
