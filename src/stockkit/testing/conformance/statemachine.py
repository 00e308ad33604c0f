"""The model state machine as a conformance promise: random sequences of every stock
operation leave the backend exactly where :class:`~stockkit.testing.InventoryModel` says.

:class:`StateMachinePromises` runs :func:`~stockkit.testing.inventory_state_machine` with
a new, empty store (the ``new_store_url`` fixture) for every sequence hypothesis tries.
What it checks after every step is listed in :mod:`stockkit.testing.statemachine`: levels,
summaries, bookings, orders, shipments, transfers and replenishments equal the model's, and
so do products, SKU flags and availability estimates (the store's catalogue methods,
``catalogue``, ``advance_product_statuses`` and the estimate methods, are exercised by every
stock change, the status sweep and the estimate rules); the ledger adds up, ``verify()`` is
clean, and a refused call changes nothing.

A backend whose stores are slow to create can lower the budget with
:attr:`StateMachinePromises.state_machine_settings`::

    from hypothesis import settings

    class TestMyBackend(BackendConformance):
        state_machine_settings = settings(max_examples=5, stateful_step_count=20, deadline=None)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from hypothesis import settings
from hypothesis.stateful import run_state_machine_as_test

from stockkit.inventory import Inventory
from stockkit.testing.clock import FakeClock
from stockkit.testing.conformance.base import ConformanceBase, open_inventory
from stockkit.testing.statemachine import inventory_state_machine

__all__ = ["StateMachinePromises"]


class StateMachinePromises(ConformanceBase):
    """The model state machine, run against the backend under test."""

    #: How many sequences, and how long, hypothesis tries. The default keeps the part
    #: under 10 seconds on a PostgreSQL server on the same idle host; raise
    #: ``max_examples`` when hunting a bug: more sequences find rarer ones.
    state_machine_settings: ClassVar[settings] = settings(
        max_examples=10, stateful_step_count=25, deadline=None, report_multiple_bugs=False
    )

    def test_random_operation_sequences_agree_with_the_model(
        self, new_store_url: Callable[[], str]
    ) -> None:
        """Every step gives the model's result or error, every refused step changes
        nothing, and after every step the stored state equals the model's."""

        def open_new(clock: FakeClock) -> Inventory:
            return open_inventory(new_store_url(), clock=clock)

        run_state_machine_as_test(inventory_state_machine(open_new), settings=self.state_machine_settings)
