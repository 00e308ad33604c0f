"""Channels: creating them, linking warehouses with priorities, channel-scoped stock."""

from __future__ import annotations

import pytest
from conftest import unchanged

from stockkit import Channel, ChannelLink
from stockkit.errors import (
    ChannelWithoutWarehouses,
    DuplicateCode,
    InvalidCode,
    InvalidQuantity,
    UnknownChannel,
    UnknownWarehouse,
    ValidationError,
)


def test_create_and_get_a_channel(inv):
    created = inv.create_channel(" b2b ", " Trade portal ")

    assert created == Channel("b2b", "Trade portal")
    assert inv.get_channel("b2b") == created


def test_channels_are_listed_by_code(inv):
    inv.create_channel("web", "Web shop")
    inv.create_channel("amazon", "Amazon")
    inv.create_channel("b2b", "Trade portal")

    assert [c.code for c in inv.channels()] == ["amazon", "b2b", "web"]


def test_a_channel_code_is_unique(stocked):
    with unchanged(stocked), pytest.raises(DuplicateCode):
        stocked.create_channel("web", "Another web shop")
    assert stocked.get_channel("web").name == "Web shop"


@pytest.mark.parametrize(("code", "name", "error"), [
    ("", "Web", InvalidCode),
    ("web\n2", "Web", InvalidCode),
    (7, "Web", InvalidCode),
    ("web", "", ValidationError),
    ("web", "  ", ValidationError),
    ("web", None, ValidationError),
])
def test_a_channel_needs_a_code_and_a_name(inv, code, name, error):
    with unchanged(inv), pytest.raises(error):
        inv.create_channel(code, name)


def test_get_an_unknown_channel(inv):
    with unchanged(inv), pytest.raises(UnknownChannel):
        inv.get_channel("web")


# -- links -------------------------------------------------------------------------------


def test_a_new_warehouse_serves_no_channel(stocked):
    stocked.create_warehouse("lon", "London", latitude=51.5, longitude=-0.1, active=True)
    stocked.set_level("TEE-M", "lon", on_hand=50)

    assert "lon" not in [link.warehouse for link in stocked.channel_links("web")]
    assert stocked.available("TEE-M", channel="web") == 17
    assert stocked.available("TEE-M") == 67


def test_links_come_in_priority_then_code_order(inv):
    inv.create_channel("web", "Web shop")
    for code in ("zrh", "ams", "mad", "ber"):
        inv.create_warehouse(code, code.upper())
    inv.link_warehouse("web", "zrh", priority=1)
    inv.link_warehouse("web", "mad", priority=5)
    inv.link_warehouse("web", "ams", priority=5)
    inv.link_warehouse("web", "ber", priority=-3)

    assert inv.channel_links("web") == [
        ChannelLink("web", "ber", -3),
        ChannelLink("web", "zrh", 1),
        ChannelLink("web", "ams", 5),
        ChannelLink("web", "mad", 5),
    ]


def test_link_returns_the_link_and_defaults_to_priority_zero(inv):
    inv.create_channel("web", "Web shop")
    inv.create_warehouse("ams", "Amsterdam")

    assert inv.link_warehouse("web", "ams") == ChannelLink("web", "ams", 0)


def test_linking_again_changes_the_priority(stocked):
    link = stocked.link_warehouse("web", "par", priority=0)

    assert link == ChannelLink("web", "par", 0)
    assert [lk.warehouse for lk in stocked.channel_links("web")] == ["par", "ams", "ber"]
    # allocation follows the new order
    assert stocked.place_order("o1", "web", [("TEE-M", 4)]).allocated("1") == {"par": 3, "ams": 1}


def test_a_warehouse_can_serve_several_channels(stocked):
    stocked.create_channel("b2b", "Trade portal")
    stocked.link_warehouse("b2b", "ber", priority=1)

    assert stocked.channel_links("b2b") == [ChannelLink("b2b", "ber", 1)]
    assert [lk.warehouse for lk in stocked.channel_links("web")] == ["ams", "ber", "par"]
    assert stocked.available("TEE-M", channel="b2b") == 4


def test_linking_needs_a_known_channel_and_warehouse(stocked):
    with unchanged(stocked), pytest.raises(UnknownChannel):
        stocked.link_warehouse("b2b", "ams")
    with unchanged(stocked), pytest.raises(UnknownWarehouse):
        stocked.link_warehouse("web", "lon")


@pytest.mark.parametrize("priority", [True, 1.0, "1", 2**31, -(2**31) - 1])
def test_a_priority_is_a_32_bit_int(stocked, priority):
    with unchanged(stocked), pytest.raises(InvalidQuantity):
        stocked.link_warehouse("web", "ams", priority=priority)


def test_unlink(stocked):
    assert stocked.unlink_warehouse("web", "ber") is True

    assert [lk.warehouse for lk in stocked.channel_links("web")] == ["ams", "par"]
    assert stocked.available("TEE-M", channel="web") == 13
    # the warehouse itself and its stock stay
    assert stocked.level("TEE-M", "ber").on_hand == 5
    assert stocked.available("TEE-M") == 17


def test_unlinking_what_is_not_linked_returns_false(stocked):
    stocked.create_warehouse("lon", "London")

    with unchanged(stocked):
        assert stocked.unlink_warehouse("web", "lon") is False


def test_unlink_keeps_existing_bookings(stocked):
    stocked.place_order("o1", "web", [("MUG", 3)])

    stocked.unlink_warehouse("web", "ams")

    assert [(b.warehouse, b.quantity) for b in stocked.bookings(order_id="o1")] == [("ams", 3)]
    assert stocked.level("MUG", "ams").available == 1


def test_unlinking_needs_a_known_channel_and_warehouse(stocked):
    with unchanged(stocked), pytest.raises(UnknownChannel):
        stocked.unlink_warehouse("b2b", "ams")
    with unchanged(stocked), pytest.raises(UnknownWarehouse):
        stocked.unlink_warehouse("web", "lon")


def test_links_of_an_unknown_channel(stocked):
    with pytest.raises(UnknownChannel):
        stocked.channel_links("b2b")


# -- a channel needs an active warehouse -------------------------------------------------


def test_a_channel_without_warehouses_cannot_take_orders(stocked):
    stocked.create_channel("b2b", "Trade portal")

    with unchanged(stocked), pytest.raises(ChannelWithoutWarehouses, match="b2b"):
        stocked.place_order("o1", "b2b", [("TEE-M", 1)])


def test_a_channel_whose_warehouses_are_all_inactive_cannot_take_orders(stocked):
    stocked.create_channel("b2b", "Trade portal")
    stocked.link_warehouse("b2b", "ber")
    stocked.deactivate_warehouse("ber")

    with unchanged(stocked), pytest.raises(ChannelWithoutWarehouses):
        stocked.place_order("o1", "b2b", [("TEE-M", 1)])

    stocked.activate_warehouse("ber")
    assert stocked.place_order("o1", "b2b", [("TEE-M", 1)]).allocated("1") == {"ber": 1}


def test_ordering_on_an_unknown_channel(stocked):
    with unchanged(stocked), pytest.raises(UnknownChannel):
        stocked.place_order("o1", "b2b", [("TEE-M", 1)])


# -- channel-scoped availability ---------------------------------------------------------


def test_channel_stock_counts_only_linked_active_warehouses(stocked):
    stocked.create_channel("b2b", "Trade portal")
    stocked.link_warehouse("b2b", "ber")
    stocked.link_warehouse("b2b", "par")
    stocked.deactivate_warehouse("par")

    summary = stocked.stock("TEE-M", channel="b2b")

    assert [lv.warehouse for lv in summary.levels] == ["ber"]
    assert (summary.on_hand, summary.safety, summary.booked, summary.available) == (5, 1, 0, 4)
    assert stocked.available("TEE-M", channel="b2b") == 4
    assert stocked.available("MUG", channel="b2b") == 0


def test_a_booking_in_one_channel_lowers_every_channel_sharing_the_warehouse(stocked):
    stocked.create_channel("b2b", "Trade portal")
    stocked.link_warehouse("b2b", "ams")

    stocked.place_order("o1", "web", [("TEE-M", 6)])

    assert stocked.available("TEE-M", channel="b2b") == 4
    assert stocked.available("TEE-M", channel="web") == 11
    assert stocked.available("TEE-M") == 11


def test_stock_of_an_unknown_channel(stocked):
    with pytest.raises(UnknownChannel):
        stocked.stock("TEE-M", channel="b2b")
    with pytest.raises(UnknownChannel):
        stocked.available("TEE-M", channel="b2b")


def test_available_takes_a_channel_or_a_warehouse_not_both(stocked):
    with pytest.raises(ValidationError):
        stocked.available("TEE-M", channel="web", warehouse="ams")
