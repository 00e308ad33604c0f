"""Random sequences of every stock operation on the in-memory store, checked against a
plain-Python model after every step (see :mod:`stockkit.testing.statemachine`)."""

from __future__ import annotations

from hypothesis import settings

import stockkit
from stockkit.testing import FakeClock, inventory_state_machine


def open_memory_inventory(clock: FakeClock) -> stockkit.Inventory:
    return stockkit.open("memory://", clock=clock, autoload_plugins=False)


MemoryInventoryMachine = inventory_state_machine(open_memory_inventory)

TestMemoryInventory = MemoryInventoryMachine.TestCase
TestMemoryInventory.settings = settings(max_examples=75, stateful_step_count=40, deadline=None)
