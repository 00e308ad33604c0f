"""Low-stock actions and stock events: once per crossing, after the commit, failures
reported and never undoing the change."""

from __future__ import annotations

import datetime as dt

import pytest
from conftest import unchanged

import stockkit
from stockkit import InventoryConfig, StockEvent
from stockkit.errors import InsufficientStock, PluginFailureWarning
from stockkit.events import PluginFailure
from stockkit.model import StockEventKind

MINUTES = dt.timedelta(minutes=15)


class Recorder:
    """A plugin with a low-stock action "record" and a stock event listener."""

    def __init__(self, inv=None):
        self.runs: list[StockEvent] = []
        self.events: list[tuple[str, str, int, int]] = []
        self.failures: list[PluginFailure] = []
        self.inside_transaction: list[bool] = []

    @stockkit.hookimpl
    def stockkit_register_low_stock_actions(self, register):
        register("record", self.record, label="Record it", priority=1)

    def record(self, inventory, event):
        self.runs.append(event)
        # After the commit: the inventory shows the change, and can be called.
        self.inside_transaction.append(inventory.available(event.sku) != event.after)

    @stockkit.hookimpl
    def stockkit_stock_event(self, event):
        self.events.append((event.kind.value, event.sku, event.before, event.after))

    @stockkit.hookimpl
    def stockkit_plugin_failed(self, failure):
        self.failures.append(failure)


@pytest.fixture
def recorder(stocked):
    plugin = Recorder()
    stocked.plugins.register(plugin)
    stocked.update_product("tee", config=InventoryConfig(low_stock_threshold=5, low_stock_action="record"))
    return plugin


def kinds(recorder, sku="TEE-M"):
    """The kinds of the events the recorder heard about ``sku``."""
    return [e[0] for e in recorder.events if e[1] == sku]


def test_the_action_runs_once_when_available_crosses_the_threshold(stocked, recorder):
    stocked.place_order("o-1", "web", [("TEE-M", 11)])        # 17 -> 6: still above 5
    assert recorder.runs == []

    stocked.place_order("o-2", "web", [("TEE-M", 1)])         # 6 -> 5: at the threshold is low
    assert [(e.kind, e.product, e.sku, e.before, e.after, e.threshold, e.action) for e in recorder.runs] == [
        (StockEventKind.LOW_STOCK, "tee", "TEE-M", 6, 5, 5, "record")]

    stocked.place_order("o-3", "web", [("TEE-M", 2)])         # 5 -> 3: still low, no new crossing
    stocked.release("o-1")                                    # 3 -> 14: back in stock
    stocked.place_order("o-4", "web", [("TEE-M", 9)])         # 14 -> 5: a second crossing
    assert len(recorder.runs) == 2
    assert recorder.inside_transaction == [False, False]
    assert kinds(recorder) == ["low_stock", "back_in_stock", "low_stock"]


def test_equal_to_the_threshold_is_low_and_above_is_not(stocked, recorder):
    stocked.set_level("TEE-M", "ams", on_hand=4)             # 17 -> 11
    stocked.set_level("TEE-M", "ber", on_hand=1)             # 11 -> 7: ber gives 0 (safety 1)
    stocked.adjust("TEE-M", "par", -1, "count")              # 7 -> 6
    assert recorder.runs == []
    stocked.adjust("TEE-M", "par", -1, "count")              # 6 -> 5
    assert len(recorder.runs) == 1


def test_out_of_stock_counts_bookings_and_holds(stocked, recorder):
    stocked.hold("cart", "web", [("TEE-M", 17)], ttl=MINUTES)   # fully held: out of stock

    assert kinds(recorder) == ["low_stock", "out_of_stock"]
    assert recorder.events[-1] == ("out_of_stock", "TEE-M", 17, 0)

    stocked.release("cart")
    assert kinds(recorder)[-1] == "back_in_stock"


def test_a_failed_change_runs_nothing(stocked, recorder):
    with unchanged(stocked), pytest.raises(InsufficientStock):
        stocked.place_order("o-1", "web", [("TEE-M", 16), ("MUG", 9)])

    assert recorder.runs == [] and recorder.events == []


def test_an_idempotent_repeat_runs_nothing_again(stocked, recorder):
    stocked.place_order("o-1", "web", [("TEE-M", 12)], idempotency_key="k")
    stocked.place_order("o-1", "web", [("TEE-M", 12)], idempotency_key="k")

    assert len(recorder.runs) == 1


def test_deactivating_a_warehouse_is_a_crossing(stocked, recorder):
    stocked.deactivate_warehouse("ams")                        # 17 -> 7
    assert recorder.runs == []
    stocked.deactivate_warehouse("ber")                        # 7 -> 3
    assert len(recorder.runs) == 1
    stocked.activate_warehouse("ams")                          # 3 -> 13
    assert kinds(recorder) == ["low_stock", "back_in_stock"]
    # MUG is stocked at ams alone: it went out of stock with ams, and came back with it
    assert kinds(recorder, "MUG") == ["low_stock", "out_of_stock", "back_in_stock"]


def test_a_threshold_change_alone_is_not_a_crossing(stocked, recorder):
    stocked.update_product("tee", config=InventoryConfig(low_stock_threshold=20, low_stock_action="record"))

    assert recorder.runs == []


# -- hold expiries: a rise nobody made, reported once by the next write of the SKU -------


def test_a_hold_expiring_is_reported_back_in_stock_by_the_sweep_once(stocked, recorder, clock):
    stocked.hold("cart", "web", [("TEE-M", 13)], ttl=MINUTES)   # 17 -> 4: low
    clock.advance(MINUTES)                                       # the hold expires: 4 -> 17
    assert stocked.available("TEE-M") == 17
    assert kinds(recorder) == ["low_stock"]                      # nobody has seen it yet

    assert stocked.sweep_expired_holds() == 2                    # its bookings at ams and ber
    assert recorder.events[-1] == ("back_in_stock", "TEE-M", 4, 17)
    stocked.sweep_expired_holds()
    stocked.place_order("o-1", "web", [("TEE-M", 1)])            # 17 -> 16: nothing
    assert kinds(recorder) == ["low_stock", "back_in_stock"]
    assert len(recorder.runs) == 1


def test_a_change_after_a_hold_expired_reports_the_expiry_first_and_the_sweep_not_again(
    stocked, recorder, clock
):
    stocked.hold("cart", "web", [("TEE-M", 13)], ttl=MINUTES)   # 17 -> 4: low
    clock.advance(MINUTES)                                       # 4 -> 17, unseen
    stocked.place_order("o-1", "web", [("TEE-M", 12)])           # sees 4 -> 17, then 17 -> 5

    assert recorder.events[1:] == [("back_in_stock", "TEE-M", 4, 17), ("low_stock", "TEE-M", 17, 5)]
    assert [(e.before, e.after) for e in recorder.runs] == [(17, 4), (17, 5)]
    stocked.sweep_expired_holds()
    assert len(recorder.events) == 3


def test_a_change_of_another_sku_or_a_failed_one_does_not_see_the_expiry(stocked, recorder, clock):
    stocked.hold("cart", "web", [("TEE-M", 13)], ttl=MINUTES)
    clock.advance(MINUTES)
    stocked.place_order("o-1", "web", [("MUG", 1)])
    with pytest.raises(InsufficientStock):
        stocked.place_order("o-2", "web", [("TEE-M", 18)])
    assert kinds(recorder) == ["low_stock"]

    stocked.sweep_expired_holds()
    assert kinds(recorder) == ["low_stock", "back_in_stock"]


def test_only_expiries_after_the_skus_last_write_are_unseen(stocked, recorder, clock):
    stocked.hold("a", "web", [("TEE-M", 6)], ttl=MINUTES)        # 17 -> 11
    stocked.hold("b", "web", [("TEE-M", 7)], ttl=3 * MINUTES)    # 11 -> 4: low
    clock.advance(2 * MINUTES)                                   # a expires: 4 -> 10, unseen
    stocked.adjust("TEE-M", "ams", -1, "broken")                 # sees 4 -> 10, then 10 -> 9
    clock.advance(2 * MINUTES)                                   # b expires: 9 -> 16, no crossing
    stocked.sweep_expired_holds()                                # a was seen already: 9 -> 16

    assert recorder.events == [("low_stock", "TEE-M", 11, 4), ("back_in_stock", "TEE-M", 4, 10)]
    assert stocked.available("TEE-M") == 16


def test_deleting_a_warehouse_with_an_expired_hold_reports_the_expiry_then_the_drop(stocked, recorder, clock):
    stocked.update_product("tee", config=InventoryConfig(low_stock_threshold=8, low_stock_action="record"))
    stocked.hold("cart", "web", [("TEE-M", 13)], ttl=MINUTES)   # 17 -> 4: low (ams 10, ber 3 held)
    clock.advance(MINUTES)                                       # 4 -> 17, unseen
    stocked.delete_warehouse("ams", force=True)                  # sees 4 -> 17, then 17 -> 7

    assert [e for e in recorder.events if e[1] == "TEE-M"] == [
        ("low_stock", "TEE-M", 17, 4), ("back_in_stock", "TEE-M", 4, 17), ("low_stock", "TEE-M", 17, 7)]


def test_deactivating_a_warehouse_reports_the_unseen_expiry_there_and_keeps_the_others_unseen(
    stocked, recorder, clock
):
    stocked.update_product("tee", config=InventoryConfig(low_stock_threshold=8, low_stock_action="record"))
    stocked.hold("cart", "web", [("TEE-M", 13)], ttl=MINUTES)   # 17 -> 4: low (ams 10, ber 3 held)
    clock.advance(MINUTES)                                       # 4 -> 17, unseen
    stocked.deactivate_warehouse("ams")                          # ams's 10 seen: 4 -> 14, then -> 4
    stocked.sweep_expired_holds()                                # ber's 3: 4 -> 7, no crossing

    assert [e for e in recorder.events if e[1] == "TEE-M"] == [
        ("low_stock", "TEE-M", 17, 4), ("back_in_stock", "TEE-M", 4, 14), ("low_stock", "TEE-M", 14, 4)]
    assert stocked.available("TEE-M") == 7


def test_activating_a_warehouse_leaves_its_unseen_expiries_to_the_next_write(stocked, recorder, clock):
    stocked.hold("cart", "web", [("TEE-M", 17)], ttl=MINUTES)   # 17 -> 0 (ams 10, ber 4, par 3 held)
    stocked.deactivate_warehouse("par")
    clock.advance(MINUTES)                                       # 0 -> 14, unseen
    stocked.activate_warehouse("par")                            # its hold expired too: -> 17
    assert kinds(recorder) == ["low_stock", "out_of_stock"]

    stocked.sweep_expired_holds()
    stocked.sweep_expired_holds()
    assert kinds(recorder) == ["low_stock", "out_of_stock", "back_in_stock"]
    assert recorder.events[-1] == ("back_in_stock", "TEE-M", 0, 17)


def test_every_product_sharing_the_sku_judges_with_its_own_threshold(stocked, recorder):
    stocked.create_product("tee-b2b", "T-shirt B2B", status="approved",
                           config=InventoryConfig(low_stock_threshold=10, low_stock_action="record"))
    stocked.add_sku("tee-b2b", "TEE-M")

    stocked.place_order("o-1", "web", [("TEE-M", 7)])         # 17 -> 10: low for tee-b2b only
    stocked.place_order("o-2", "web", [("TEE-M", 5)])         # 10 -> 5: low for tee

    assert [(e.product, e.after) for e in recorder.runs] == [("tee-b2b", 10), ("tee", 5)]


# -- failures -----------------------------------------------------------------------------


class Failing:
    @stockkit.hookimpl
    def stockkit_register_low_stock_actions(self, register):
        register("explode", self.explode, label="Explode")

    def explode(self, inventory, event):
        raise RuntimeError("the mail server is down")

    @stockkit.hookimpl
    def stockkit_stock_event(self, inventory, event):
        raise ValueError("listener bug")


def test_a_failing_action_or_listener_is_reported_and_undoes_nothing(stocked, recorder):
    stocked.plugins.register(Failing())
    stocked.update_product("tee", config=InventoryConfig(low_stock_threshold=5, low_stock_action="explode"))

    with pytest.warns(PluginFailureWarning) as warned:
        placement = stocked.place_order("o-1", "web", [("TEE-M", 12)])

    assert placement.allocated("1") == {"ams": 10, "ber": 2}
    assert stocked.available("TEE-M") == 5
    assert stocked.get_order("o-1").order.order_id == "o-1"
    assert stocked.verify().ok
    assert [(f.during, type(f.error).__name__) for f in recorder.failures] == [
        ("low-stock action 'explode'", "RuntimeError"), ("stock event listener", "ValueError")]
    assert "the mail server is down" in str(warned[0].message)
    assert kinds(recorder) == ["low_stock"]                   # the other listener still heard it


class BrokenRegistry:
    """A plugin whose low-stock action registration raises."""

    @stockkit.hookimpl
    def stockkit_register_low_stock_actions(self, register):
        raise RuntimeError("registry bug")


def test_an_action_registry_that_raises_after_the_commit_is_reported_and_undoes_nothing(stocked, recorder):
    stocked.plugins.register(BrokenRegistry())

    with pytest.warns(PluginFailureWarning, match="registry bug"):
        stocked.place_order("o-1", "web", [("TEE-M", 12)])     # 17 -> 5: low

    assert stocked.available("TEE-M") == 5
    assert stocked.verify().ok
    assert [(f.during, str(f.error)) for f in recorder.failures] == [("low-stock action 'record'", "registry bug")]
    assert recorder.runs == [] and kinds(recorder) == ["low_stock"]   # the listeners still heard it


def test_an_action_whose_plugin_is_gone_is_reported(stocked, recorder):
    stocked.plugins.unregister(recorder)
    stocked.plugins.register(watcher := Recorder())

    stocked.plugins.unregister(watcher)
    failures = []

    class Listener:
        @stockkit.hookimpl
        def stockkit_plugin_failed(self, failure):
            failures.append(failure)

    stocked.plugins.register(Listener())
    with pytest.warns(PluginFailureWarning, match="no plugin provides the low-stock action 'record'"):
        stocked.place_order("o-1", "web", [("TEE-M", 12)])
    assert stocked.available("TEE-M") == 5
    assert len(failures) == 1


# -- the built-in "unpublish" action ------------------------------------------------------


def test_unpublish_sets_the_sku_unpublished_and_nothing_republishes_it(stocked):
    stocked.update_product("tee", config=InventoryConfig(low_stock_threshold=2, low_stock_action="unpublish"))

    stocked.place_order("o-1", "web", [("TEE-M", 15)])        # 17 -> 2

    assert stocked.skus("tee")[0].published is False
    assert stocked.availability("TEE-M").purchasable is False
    stocked.release("o-1")                                     # back in stock: still unpublished
    assert stocked.skus("tee")[0].published is False
    stocked.update_sku("tee", "TEE-M", published=True)         # republishing is explicit
    stocked.place_order("o-2", "web", [("TEE-M", 1)])


def test_actions_are_listed_by_priority_and_a_key_registered_again_replaces(stocked, recorder):
    assert [(a.key, a.label, a.priority) for a in stocked.low_stock_actions()] == [
        ("record", "Record it", 1), ("unpublish", "Set as unpublished", 10)]

    class Replacement:
        @stockkit.hookimpl
        def stockkit_register_low_stock_actions(self, register):
            register("unpublish", lambda inventory, event: None, label="Do nothing", priority=0)

    stocked.plugins.register(Replacement())
    assert [(a.key, a.label) for a in stocked.low_stock_actions()] == [("unpublish", "Do nothing"), ("record", "Record it")]
    stocked.update_product("tee", config=InventoryConfig(low_stock_threshold=2, low_stock_action="unpublish"))
    stocked.place_order("o-1", "web", [("TEE-M", 15)])
    assert stocked.skus("tee")[0].published is True


def test_blocking_the_built_in_action_removes_it(clock):
    inv = stockkit.open(clock=clock, autoload_plugins=False, blocked_plugins=["stockkit.default_plugins.unpublish"])

    assert inv.low_stock_actions() == []


# -- concurrency ----------------------------------------------------------------------------


@pytest.mark.sql_only
def test_concurrent_orders_cross_once(store_url, clock):
    """Four processes' worth of inventories sell one SKU down to nothing through two
    channels that draw on the warehouses in opposite orders: the action runs exactly once,
    out of stock is heard exactly once, and every unit is sold exactly once."""
    import threading

    from conftest import build_stocked

    recorder = Recorder()
    inventories = [stockkit.open(store_url, clock=clock, autoload_plugins=False, plugins=[recorder])
                   for _ in range(4)]
    shop = build_stocked(inventories[0])
    shop.update_product("tee", config=InventoryConfig(low_stock_threshold=5, low_stock_action="record"))
    shop.create_channel("back", "Backwards")
    for priority, code in enumerate(("par", "ber", "ams")):
        shop.link_warehouse("back", code, priority=priority)
    recorder.events.clear()
    sold = [0] * len(inventories)

    def sell(n: int) -> None:
        inv = inventories[n]
        for i in range(100):
            try:
                inv.place_order(f"o-{n}-{i}", "web" if (n + i) % 2 else "back", [("TEE-M", 1)])
            except InsufficientStock:
                return
            sold[n] += 1

    threads = [threading.Thread(target=sell, args=(n,)) for n in range(len(inventories))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for inv in inventories:
        inv.close()

    assert sum(sold) == 17
    assert [(e.before, e.after) for e in recorder.runs] == [(6, 5)]
    assert kinds(recorder) == ["low_stock", "out_of_stock"]
