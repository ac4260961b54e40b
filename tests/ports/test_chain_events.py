"""The conformance suite of the events the indexer reads (:class:`proofstream.indexer.ports.ChainEvents`), run
against ChainBook on anvil and against the FakeEvents of the indexer's tests.

Each world makes happen, outside the port, what the events report: a device registered or deactivated, a task
transferred, settled or failed by its DApp; and says at which block and in which transaction it happened.
"""

from __future__ import annotations

import re
from typing import Protocol

import pytest
from chain_fakes import FakeEvents
from chain_world import LAST, World
from eth_account import Account

from proofstream.chain.book import ChainBook
from proofstream.chain.contracts.registries import sign_device_binding
from proofstream.domain.anchor import Anchor
from proofstream.domain.types import Address, ProjectId, TaskId
from proofstream.indexer.ports import ChainEvents, DeviceDeactivation, DeviceRegistration, DeviceTransfer, TaskOutcome

PROOF = b"\x00" * 256


class EventsWorld(Protocol):
    @property
    def events(self) -> ChainEvents: ...

    @property
    def project(self) -> ProjectId: ...

    def register_device(self) -> DeviceRegistration:
        """Register a new device in the project; what the events must then report."""
        ...

    def deactivate_device(self, device: Address) -> DeviceDeactivation: ...

    def transfer_device(self, registered: DeviceRegistration, to: Address) -> DeviceTransfer:
        """Move the device's NFT from its registered owner to ``to``; ``log_index`` need not be reported here."""
        ...

    def settle_task(self) -> TaskOutcome:
        """Assign and route a task of the project's device whose DApp takes the result."""
        ...

    def fail_task(self) -> TaskOutcome:
        """Assign and route a task of a project whose DApp reverts; ``reason`` is part of what is reported."""
        ...


class FakeWorld:
    """The fake's events are what the test appends: this world appends them as the chain would, one block each."""

    def __init__(self) -> None:
        self.events = FakeEvents(block=1)
        self.project = ProjectId(1)
        self._tasks = 0

    def _next_block(self) -> int:
        self.events.block += 1
        return self.events.block

    def register_device(self) -> DeviceRegistration:
        device = Address(Account.create().address)
        registration = DeviceRegistration(self.project, device, Address("0x" + "05" * 20), self._next_block())
        self.events.registered.append(registration)
        return registration

    def deactivate_device(self, device: Address) -> DeviceDeactivation:
        deactivation = DeviceDeactivation(self.project, device, self._next_block())
        self.events.deactivated.append(deactivation)
        return deactivation

    def transfer_device(self, registered: DeviceRegistration, to: Address) -> DeviceTransfer:
        transfer = DeviceTransfer(self.project, registered.device, to, self._next_block(), 0)
        self.events.transfers.append(transfer)
        return transfer

    def _outcome(self, settled: bool, reason: str | None) -> TaskOutcome:
        self._tasks += 1
        self._next_block()  # the assignment
        block = self._next_block()
        outcome = TaskOutcome(TaskId(self._tasks), settled, f"0x{block:064x}", block, reason)
        self.events.outcomes.append(outcome)
        return outcome

    def settle_task(self) -> TaskOutcome:
        return self._outcome(True, None)

    def fail_task(self) -> TaskOutcome:
        return self._outcome(False, "Refused")


class AnvilWorld:
    def __init__(self, world: World) -> None:
        self._world = world
        self.events = ChainBook(world.client, world.core, sequencer=world.sequencer, prover=world.prover)
        self.project = world.project_id
        self._nonce = 0
        self._refusing: int | None = None

    def register_device(self) -> DeviceRegistration:
        w = self._world
        device = Account.create()
        owner = Address(w.device_owner.address)
        signature = sign_device_binding(device, w.client.chain_id, w.core.devices.address, self.project, owner)
        receipt = w.core.devices.register_device(self.project, device.address, owner, signature, sender=w.owner)
        return DeviceRegistration(self.project, Address(device.address), owner, receipt.block_number)

    def deactivate_device(self, device: Address) -> DeviceDeactivation:
        receipt = self._world.core.devices.deactivate_device(self.project, device, sender=self._world.owner)
        return DeviceDeactivation(self.project, device, receipt.block_number)

    def transfer_device(self, registered: DeviceRegistration, to: Address) -> DeviceTransfer:
        # Only the registration's owner may send it: the world's device owner.
        receipt = self._world.core.devices.transfer_device(
            self.project, registered.device, to, sender=self._world.device_owner
        )
        return DeviceTransfer(self.project, registered.device, to, receipt.block_number, 0)

    def _route(self, project: int) -> tuple[TaskId, str, int]:
        w = self._world
        record = w.assign(self._nonce, self._nonce + 3, project=project)
        last = Anchor(LAST.timestamp + self._nonce, LAST.leaf, LAST.config)
        self._nonce += 4
        result = w.core.router.route(record.task_id, [7], last, PROOF, sender=w.prover)
        return record.task_id, result.receipt.tx_hash, result.receipt.block_number

    def settle_task(self) -> TaskOutcome:
        task, tx, block = self._route(self.project)
        return TaskOutcome(task, True, tx, block)

    def fail_task(self) -> TaskOutcome:
        if self._refusing is None:
            self._refusing, _ = self._world.project_with_dapp("RevertingDApp")
        task, tx, block = self._route(self._refusing)
        return TaskOutcome(task, False, tx, block, "Refused")


@pytest.fixture(params=["fake", pytest.param("anvil", marks=pytest.mark.chain)])
def w(request: pytest.FixtureRequest) -> EventsWorld:
    if request.param == "fake":
        return FakeWorld()
    return AnvilWorld(request.getfixturevalue("world"))


def _without_reason(outcome: TaskOutcome) -> tuple[TaskId, bool, str, int]:
    return outcome.task_id, outcome.settled, outcome.tx_hash, outcome.block


class TestChainEvents:
    def test_the_latest_block_moves_with_each_transaction(self, w: EventsWorld) -> None:
        before = w.events.latest_block()
        registered = w.register_device()
        assert w.events.latest_block() == registered.block > before

    def test_each_block_up_to_the_head_has_its_own_hash(self, w: EventsWorld) -> None:
        registered = w.register_device()
        hashes = [w.events.block_hash(n) for n in (registered.block - 1, registered.block)]
        assert all(h is not None and re.fullmatch(r"0x[0-9a-f]{64}", h) for h in hashes)
        assert hashes[0] != hashes[1] and w.events.block_hash(registered.block) == hashes[1]
        assert w.events.block_hash(w.events.latest_block() + 1) is None

    def test_a_registration_is_reported_in_every_range_that_holds_its_block(self, w: EventsWorld) -> None:
        registered = w.register_device()
        w.register_device()  # a later block
        b, latest = registered.block, w.events.latest_block()
        for first, last in ((b, b), (b - 1, b + 1), (0, latest)):
            assert registered in w.events.device_registrations(first, last)
        assert registered.key is None  # a secp256k1 device
        for first, last in ((b + 1, latest), (0, b - 1)):
            assert registered not in w.events.device_registrations(first, last)

    def test_registrations_come_in_chain_order(self, w: EventsWorld) -> None:
        first, second = w.register_device(), w.register_device()
        reported = w.events.device_registrations(first.block, second.block)
        assert [r.device for r in reported] == [first.device, second.device]

    def test_a_deactivation_is_reported_at_its_block(self, w: EventsWorld) -> None:
        registered = w.register_device()
        gone = w.deactivate_device(registered.device)
        assert gone.block > registered.block
        assert w.events.device_deactivations(gone.block, gone.block) == [gone]
        assert w.events.device_deactivations(registered.block, gone.block - 1) == []

    def test_a_transfer_is_reported_at_its_block_with_the_new_owner(self, w: EventsWorld) -> None:
        registered = w.register_device()
        moved = w.transfer_device(registered, Address("0x" + "66" * 20))
        (reported,) = w.events.device_transfers(moved.block, moved.block)
        assert (reported.project, reported.device, reported.block) == (w.project, registered.device, moved.block)
        assert reported.owner.lower() == moved.owner.lower() and reported.log_index >= 0
        assert w.events.device_transfers(registered.block, moved.block - 1) == []  # the mint is no transfer

    def test_a_settled_task_is_reported_with_its_route_transaction(self, w: EventsWorld) -> None:
        settled = w.settle_task()
        w.register_device()  # a later block
        assert w.events.task_outcomes(settled.block, settled.block) == [settled]
        assert w.events.task_outcomes(settled.block + 1, w.events.latest_block()) == []

    def test_a_task_its_dapp_refused_is_reported_failed_with_the_reason(self, w: EventsWorld) -> None:
        failed = w.fail_task()
        (reported,) = w.events.task_outcomes(failed.block, failed.block)
        assert _without_reason(reported) == _without_reason(failed)
        assert failed.reason is not None and failed.reason in (reported.reason or "")

    def test_outcomes_of_a_range_come_in_block_order(self, w: EventsWorld) -> None:
        failed = w.fail_task()
        settled = w.settle_task()
        reported = w.events.task_outcomes(failed.block, settled.block)
        assert [(o.task_id, o.settled) for o in reported] == [(failed.task_id, False), (settled.task_id, True)]
