"""Ids stockkit generates (S-1, T-1, R-1, ...) never collide with ids the caller chose."""

from __future__ import annotations

import datetime as dt


def test_generated_ids_skip_the_ids_callers_took(stocked):
    stocked.place_order("o1", "web", [("TEE-M", 4)])
    stocked.ship("o1", "1", "ams", 1, shipment_id="S-1")
    stocked.transfer("TEE-M", "ams", "par", 1, transfer_id="T-1")
    stocked.add_replenishment("MUG", "ams", 5, dt.date(2030, 1, 1), replenishment_id="R-1")

    assert stocked.ship("o1", "1", "ams", 1).shipment_id == "S-2"
    assert stocked.transfer("TEE-M", "ams", "par", 1).transfer_id == "T-2"
    assert stocked.add_replenishment("MUG", "ams", 5, dt.date(2030, 1, 1)).replenishment_id == "R-2"
    assert stocked.verify().ok
