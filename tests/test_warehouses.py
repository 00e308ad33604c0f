"""Warehouses: creating, changing, activating, deleting, listing and searching them."""

from __future__ import annotations

import datetime as dt

import pytest
from conftest import unchanged

from stockkit import LedgerKind, ReplenishmentStatus, TransferStatus, Warehouse
from stockkit.errors import (
    DuplicateCode,
    InvalidCode,
    InvalidLocation,
    UnknownWarehouse,
    ValidationError,
    WarehouseNotEmpty,
    WarehouseWithoutLocation,
)

# -- create ------------------------------------------------------------------------------


def test_a_new_warehouse_is_inactive_and_keeps_its_fields(inv):
    created = inv.create_warehouse(
        "ams", "Amsterdam", description="main DC", street1="Keizersgracht 1", city="Amsterdam",
        postal_code="1015", region_code="NH", country_code="nl", latitude=52.37, longitude=4.9,
    )

    assert created == Warehouse(
        code="ams", name="Amsterdam", description="main DC", active=False, street1="Keizersgracht 1",
        city="Amsterdam", postal_code="1015", region_code="NH", country_code="NL",
        latitude=52.37, longitude=4.9,
    )
    assert inv.get_warehouse("ams") == created


def test_code_and_name_are_stripped_of_surrounding_spaces(inv):
    created = inv.create_warehouse("  ams ", "  Amsterdam ")

    assert (created.code, created.name) == ("ams", "Amsterdam")
    assert inv.get_warehouse("ams") == created


def test_a_warehouse_created_active_needs_both_coordinates(inv):
    with unchanged(inv), pytest.raises(WarehouseWithoutLocation):
        inv.create_warehouse("ams", "Amsterdam", active=True)
    with unchanged(inv), pytest.raises(WarehouseWithoutLocation):
        inv.create_warehouse("ams", "Amsterdam", active=True, latitude=52.37)

    created = inv.create_warehouse("ams", "Amsterdam", active=True, latitude=52.37, longitude=4.9)
    assert created.active and created.has_location


@pytest.mark.parametrize(
    "coordinates",
    [
        {"latitude": 90.5, "longitude": 0.0},
        {"latitude": -91, "longitude": 0.0},
        {"latitude": 0.0, "longitude": 180.01},
        {"latitude": 0.0, "longitude": -181},
        {"latitude": float("nan"), "longitude": 0.0},
        {"latitude": 0.0, "longitude": float("inf")},
        {"latitude": "52.37", "longitude": 4.9},
        {"latitude": True, "longitude": 4.9},
    ],
)
def test_bad_coordinates_are_refused(inv, coordinates):
    with unchanged(inv), pytest.raises(InvalidLocation):
        inv.create_warehouse("ams", "Amsterdam", **coordinates)


def test_coordinates_on_the_limits_are_accepted(inv):
    assert inv.create_warehouse("n", "North pole", latitude=90, longitude=180).latitude == 90.0
    assert inv.create_warehouse("s", "South pole", latitude=-90, longitude=-180).longitude == -180.0


@pytest.mark.parametrize("country", ["NLD", "N", "1A", "N1", "ÑL", 31])
def test_a_country_code_must_be_two_iso_letters(inv, country):
    with unchanged(inv), pytest.raises(InvalidLocation):
        inv.create_warehouse("ams", "Amsterdam", country_code=country)


@pytest.mark.parametrize("name", ["", "   ", None, 42])
def test_a_warehouse_needs_a_name(inv, name):
    with unchanged(inv), pytest.raises(ValidationError):
        inv.create_warehouse("ams", name)


@pytest.mark.parametrize("code", ["", "  ", None, "a\tb", "x" * 201])
def test_a_warehouse_needs_a_valid_code(inv, code):
    with unchanged(inv), pytest.raises(InvalidCode):
        inv.create_warehouse(code, "Somewhere")


def test_a_warehouse_code_is_unique(inv):
    inv.create_warehouse("ams", "Amsterdam")

    with unchanged(inv), pytest.raises(DuplicateCode):
        inv.create_warehouse("ams", "Another Amsterdam", city="Amsterdam")
    assert inv.get_warehouse("ams").name == "Amsterdam"


def test_create_refuses_unknown_fields(inv):
    with unchanged(inv), pytest.raises(ValidationError, match="colour"):
        inv.create_warehouse("ams", "Amsterdam", colour="blue")


# -- update ------------------------------------------------------------------------------


def test_update_changes_only_the_given_fields(stocked):
    updated = stocked.update_warehouse("ams", name="Amsterdam West", city="Amsterdam-West", postal_code="1060")

    assert (updated.name, updated.city, updated.postal_code) == ("Amsterdam West", "Amsterdam-West", "1060")
    assert (updated.country_code, updated.latitude, updated.active) == ("NL", 52.37, True)
    assert stocked.get_warehouse("ams") == updated


def test_update_can_move_a_warehouse(stocked):
    moved = stocked.update_warehouse("par", latitude=45.76, longitude=4.84, city="Lyon")

    assert (moved.latitude, moved.longitude, moved.city) == (45.76, 4.84, "Lyon")


@pytest.mark.parametrize("changes", [{"colour": "blue"}, {"active": False}, {"city": "Noord", "colour": "blue"}, {}])
def test_update_refuses_unknown_fields_and_empty_changes(stocked, changes):
    with unchanged(stocked), pytest.raises(ValidationError):
        stocked.update_warehouse("ams", **changes)


def test_update_checks_values_like_create(stocked):
    with unchanged(stocked), pytest.raises(InvalidLocation):
        stocked.update_warehouse("ams", latitude=100)
    with unchanged(stocked), pytest.raises(InvalidLocation):
        stocked.update_warehouse("ams", country_code="Netherlands")
    with unchanged(stocked), pytest.raises(ValidationError):
        stocked.update_warehouse("ams", name="")


def test_an_active_warehouse_cannot_lose_its_location(stocked):
    with unchanged(stocked), pytest.raises(WarehouseWithoutLocation):
        stocked.update_warehouse("ams", latitude=None)
    with unchanged(stocked), pytest.raises(WarehouseWithoutLocation):
        stocked.update_warehouse("ams", longitude=None)


def test_an_inactive_warehouse_can_lose_its_location(stocked):
    stocked.deactivate_warehouse("ams")

    updated = stocked.update_warehouse("ams", latitude=None, longitude=None)

    assert not updated.has_location


def test_update_of_an_unknown_warehouse_fails(stocked):
    with unchanged(stocked), pytest.raises(UnknownWarehouse):
        stocked.update_warehouse("lon", name="London")


# -- activate / deactivate ---------------------------------------------------------------


def test_activate_and_deactivate(inv):
    inv.create_warehouse("ams", "Amsterdam", latitude=52.37, longitude=4.9)

    assert inv.activate_warehouse("ams").active is True
    assert inv.get_warehouse("ams").active is True
    assert inv.deactivate_warehouse("ams").active is False
    assert inv.get_warehouse("ams").active is False


def test_a_warehouse_without_location_cannot_be_activated(inv):
    inv.create_warehouse("ams", "Amsterdam")

    with unchanged(inv), pytest.raises(WarehouseWithoutLocation):
        inv.activate_warehouse("ams")

    inv.update_warehouse("ams", latitude=52.37, longitude=4.9)
    assert inv.activate_warehouse("ams").active


def test_activating_an_unknown_warehouse_fails(inv):
    with unchanged(inv), pytest.raises(UnknownWarehouse):
        inv.activate_warehouse("ams")
    with unchanged(inv), pytest.raises(UnknownWarehouse):
        inv.deactivate_warehouse("ams")


def test_deactivating_keeps_the_stock(stocked):
    stocked.deactivate_warehouse("ams")

    assert stocked.level("TEE-M", "ams").on_hand == 10
    stocked.activate_warehouse("ams")
    assert stocked.available("TEE-M") == 17


# -- inactive warehouses count for nothing -----------------------------------------------


def test_inactive_warehouses_count_for_nothing_company_wide(stocked):
    assert stocked.available("TEE-M") == 17

    stocked.deactivate_warehouse("ams")

    summary = stocked.stock("TEE-M")
    assert (summary.on_hand, summary.safety, summary.available) == (8, 1, 7)
    assert {lv.warehouse for lv in summary.levels} == {"ber", "par"}
    assert stocked.available("TEE-M") == 7
    assert stocked.available("MUG") == 0
    # its own level still shows what is there
    assert stocked.available("TEE-M", warehouse="ams") == 10


def test_inactive_warehouses_count_for_nothing_in_a_channel(stocked):
    stocked.deactivate_warehouse("ber")

    summary = stocked.stock("TEE-M", channel="web")
    assert {lv.warehouse for lv in summary.levels} == {"ams", "par"}
    assert stocked.available("TEE-M", channel="web") == 13


def test_inactive_warehouses_count_for_nothing_in_the_inventory_view(stocked):
    stocked.deactivate_warehouse("ams")

    (tee,) = stocked.search_skus("tee")
    assert (tee.on_hand, tee.available) == (8, 7)
    # the view still lists the level at every warehouse
    assert {lv.warehouse for lv in tee.levels} == {"ams", "ber", "par"}


def test_an_inactive_warehouse_is_not_allocated_to(stocked):
    stocked.deactivate_warehouse("ams")

    placement = stocked.place_order("o1", "web", [("TEE-M", 5)])

    assert placement.allocated("1") == {"ber": 4, "par": 1}


# -- delete ------------------------------------------------------------------------------


def test_an_empty_warehouse_is_deleted(stocked):
    stocked.create_warehouse("lon", "London")
    stocked.set_level("TEE-M", "lon", on_hand=3)
    stocked.set_level("TEE-M", "lon", on_hand=0)

    stocked.delete_warehouse("lon")

    with pytest.raises(UnknownWarehouse):
        stocked.get_warehouse("lon")
    assert [w.code for w in stocked.warehouses()] == ["ams", "ber", "par"]
    assert stocked.verify().ok


def test_delete_removes_the_channel_links(stocked):
    stocked.set_level("TEE-M", "par", on_hand=0)

    stocked.delete_warehouse("par")

    assert [link.warehouse for link in stocked.channel_links("web")] == ["ams", "ber"]


def test_delete_is_refused_while_the_warehouse_holds_stock(stocked):
    with unchanged(stocked), pytest.raises(WarehouseNotEmpty):
        stocked.delete_warehouse("par")


def test_delete_is_refused_while_the_warehouse_has_bookings(stocked):
    stocked.place_order("o1", "web", [("MUG", 2)])

    with unchanged(stocked), pytest.raises(WarehouseNotEmpty, match="1 bookings"):
        stocked.delete_warehouse("ams")


def test_delete_is_refused_while_a_replenishment_is_open(stocked):
    stocked.create_warehouse("lon", "London")
    stocked.add_replenishment("TEE-M", "lon", 20, dt.date(2024, 2, 1))

    with unchanged(stocked), pytest.raises(WarehouseNotEmpty, match="1 open replenishments"):
        stocked.delete_warehouse("lon")


def test_delete_is_refused_while_a_transfer_is_in_transit(stocked):
    stocked.create_warehouse("lon", "London")
    stocked.transfer("TEE-M", "par", "lon", 3)
    # par is now empty, lon has nothing yet: only the transfer binds them

    with unchanged(stocked), pytest.raises(WarehouseNotEmpty, match="1 transfers in transit"):
        stocked.delete_warehouse("lon")
    with unchanged(stocked), pytest.raises(WarehouseNotEmpty, match="1 transfers in transit"):
        stocked.delete_warehouse("par")


def test_a_closed_replenishment_does_not_block_delete(stocked):
    stocked.create_warehouse("lon", "London")
    repl = stocked.add_replenishment("TEE-M", "lon", 20, dt.date(2024, 2, 1))
    stocked.cancel_replenishment(repl.replenishment_id)

    stocked.delete_warehouse("lon")

    assert [w.code for w in stocked.warehouses()] == ["ams", "ber", "par"]


def test_forced_delete_removes_levels_and_releases_bookings(stocked):
    stocked.set_level("TEE-M", "ams", on_hand=10, safety=2)
    placement = stocked.place_order("o1", "web", [("TEE-M", 10)])
    assert placement.allocated("1") == {"ams": 8, "ber": 2}

    stocked.delete_warehouse("ams", force=True)

    with pytest.raises(UnknownWarehouse):
        stocked.get_warehouse("ams")
    assert [b.warehouse for b in stocked.bookings(order_id="o1")] == ["ber"]
    assert stocked.available("TEE-M") == 2 + 3
    assert stocked.search_skus("MUG") == []
    released = stocked.ledger("TEE-M", warehouse="ams", kinds=["released"])
    assert [(e.booked, e.order_id, e.line_id) for e in released] == [(-8, "o1", "1")]
    removed = stocked.ledger("TEE-M", warehouse="ams", kinds=["removed"])
    assert [(e.on_hand, e.safety) for e in removed] == [(-10, -2)]
    assert [(e.on_hand, e.safety) for e in stocked.ledger("MUG", kinds=[LedgerKind.REMOVED])] == [(-4, 0)]
    assert stocked.verify().ok


def test_forced_delete_cancels_open_replenishments(stocked):
    repl = stocked.add_replenishment("TEE-M", "par", 20, dt.date(2024, 2, 1))
    stocked.receive_replenishment(repl.replenishment_id, 5)

    stocked.delete_warehouse("par", force=True)

    (cancelled,) = stocked.replenishments("TEE-M", open_only=False)
    assert cancelled.status is ReplenishmentStatus.CANCELLED
    assert stocked.replenishments("TEE-M") == []
    entries = stocked.ledger("TEE-M", warehouse="par", kinds=["cancelled"])
    assert [(e.incoming, e.reference) for e in entries] == [(-15, repl.replenishment_id)]
    assert [e.on_hand for e in stocked.ledger("TEE-M", warehouse="par", kinds=["removed"])] == [-8]
    assert stocked.verify().ok


def test_forced_delete_sends_transfers_bound_for_it_back(stocked):
    stocked.create_warehouse("lon", "London")
    sent = stocked.transfer("TEE-M", "ams", "lon", 4)
    assert stocked.level("TEE-M", "ams").on_hand == 6

    stocked.delete_warehouse("lon", force=True)

    (back,) = stocked.transfers()
    assert back.transfer_id == sent.transfer_id
    assert back.status is TransferStatus.CANCELLED
    assert stocked.level("TEE-M", "ams").on_hand == 10
    assert stocked.verify().ok


def test_forced_delete_of_an_empty_warehouse_writes_no_ledger_entries(stocked):
    stocked.create_warehouse("lon", "London")
    entries = len(stocked.ledger())

    stocked.delete_warehouse("lon", force=True)

    assert len(stocked.ledger()) == entries


def test_a_deleted_code_can_be_used_again(stocked):
    stocked.delete_warehouse("par", force=True)

    stocked.create_warehouse("par", "Paris Nord", latitude=48.9, longitude=2.36, active=True)

    assert stocked.level("TEE-M", "par").on_hand == 0
    assert stocked.available("TEE-M", channel="web") == 14
    assert stocked.verify().ok


def test_delete_of_an_unknown_warehouse_fails(stocked):
    with unchanged(stocked), pytest.raises(UnknownWarehouse):
        stocked.delete_warehouse("lon")
    with unchanged(stocked), pytest.raises(UnknownWarehouse):
        stocked.delete_warehouse("lon", force=True)


def test_force_must_be_a_bool(stocked):
    with unchanged(stocked), pytest.raises(ValidationError):
        stocked.delete_warehouse("par", force="yes")


# -- list, search, get -------------------------------------------------------------------


def test_warehouses_are_listed_by_code(inv):
    for code in ("zrh", "ams", "mad"):
        inv.create_warehouse(code, code.upper())

    assert [w.code for w in inv.warehouses()] == ["ams", "mad", "zrh"]


def test_list_filters_by_active(stocked):
    stocked.create_warehouse("lon", "London")
    stocked.deactivate_warehouse("ber")

    assert [w.code for w in stocked.warehouses(active=True)] == ["ams", "par"]
    assert [w.code for w in stocked.warehouses(active=False)] == ["ber", "lon"]
    assert [w.code for w in stocked.warehouses()] == ["ams", "ber", "lon", "par"]


@pytest.mark.parametrize(
    ("search", "codes"),
    [
        ("amster", ["ams"]),       # part of the name, any case
        ("PARIS", ["par"]),
        ("charlottenburg", ["ber"]),  # part of the city
        ("de", ["ber"]),           # country code, any case
        ("fr", ["par"]),
        ("madrid", []),
        ("", ["ams", "ber", "par"]),
    ],
)
def test_search_by_name_city_or_country(stocked, search, codes):
    stocked.update_warehouse("ber", name="Spree DC", city="Berlin-Charlottenburg")

    assert [w.code for w in stocked.warehouses(search=search)] == codes


def test_search_combines_with_the_active_filter(stocked):
    stocked.create_warehouse("rtm", "Rotterdam", country_code="NL")

    assert [w.code for w in stocked.warehouses(search="nl")] == ["ams", "rtm"]
    assert [w.code for w in stocked.warehouses(search="nl", active=False)] == ["rtm"]


def test_list_arguments_are_checked(stocked):
    with pytest.raises(ValidationError):
        stocked.warehouses(active="yes")
    with pytest.raises(ValidationError):
        stocked.warehouses(search=3)


def test_get_an_unknown_warehouse(stocked):
    with unchanged(stocked), pytest.raises(UnknownWarehouse, match="lon"):
        stocked.get_warehouse("lon")
    with pytest.raises(LookupError):
        stocked.get_warehouse("lon")
