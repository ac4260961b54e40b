"""The TaskBook conformance suite (:class:`proofstream.ports.TaskBook`), run against ChainBook on anvil and
against the FakeBook of the roles' tests.

Each adapter comes with a small world that does, outside the port, what the suite needs done: give it the
commitment of a registered device, mine blocks, pause the project, name a project whose DApp refuses results.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Protocol

import pytest
from chain_fakes import FakeBook
from chain_world import LAST, ROOT, World
from eth_utils.address import to_checksum_address

from proofstream.chain.book import ChainBook
from proofstream.domain.anchor import NO_ANCHOR, Anchor
from proofstream.domain.tasks import TaskCommitment, task_id
from proofstream.domain.types import Address, ConfigVersion, Nonce, ProjectId, TaskId
from proofstream.errors import TransactionRevertedError
from proofstream.ports import ChainTaskState, TaskBook, TxOutcome

PROOF = b"\x00" * 256
"""Any proof: both worlds' verifiers accept every proof (the real one is the test-only MockVerifier)."""


class BookWorld(Protocol):
    @property
    def book(self) -> TaskBook: ...

    @property
    def project(self) -> ProjectId: ...

    @property
    def device(self) -> Address: ...

    def commitment(self, first: int, last: int, project: ProjectId | None = None) -> TaskCommitment:
        """A commitment of the world's registered device, for this book's prover, under config version 1."""
        ...

    def mine(self, blocks: int) -> None: ...

    def pause(self) -> None: ...

    def refusing_project(self) -> ProjectId:
        """Another project of the same sequencer and device whose DApp reverts on every result."""
        ...


class FakeWorld:
    def __init__(self) -> None:
        self.book = FakeBook()
        self.project = ProjectId(1)
        self.device = Address("0x70997970C51812dc3A010C7d01b50e0d17dc79C8")
        self.prover = Address("0x90F79bf6EB2c4f870365E785982E1f101E93b906")

    def commitment(self, first: int, last: int, project: ProjectId | None = None) -> TaskCommitment:
        return TaskCommitment(
            project=project or self.project,
            config=ConfigVersion(1),
            device=self.device,
            first_nonce=Nonce(first),
            last_nonce=Nonce(last),
            root=ROOT,
            prover=self.prover,
        )

    def mine(self, blocks: int) -> None:
        self.book.mine(blocks)

    def pause(self) -> None:
        self.book.active = False

    def refusing_project(self) -> ProjectId:
        self.book.refusing_dapps[ProjectId(2)] = "Refused"
        return ProjectId(2)


class AnvilWorld:
    def __init__(self, world: World) -> None:
        self._world = world
        self.book = ChainBook(world.client, world.core, sequencer=world.sequencer, prover=world.prover)
        self.project = world.project_id
        self.device = Address(world.device.address)

    def commitment(self, first: int, last: int, project: ProjectId | None = None) -> TaskCommitment:
        return self._world.assignment(first, last, project=project or self.project)

    def mine(self, blocks: int) -> None:
        self._world.net.mine(blocks)

    def pause(self) -> None:
        self._world.core.projects.pause(self.project, sender=self._world.owner)

    def refusing_project(self) -> ProjectId:
        project, _ = self._world.project_with_dapp("RevertingDApp")
        return ProjectId(project)


@pytest.fixture(params=["fake", pytest.param("anvil", marks=pytest.mark.chain)])
def w(request: pytest.FixtureRequest) -> BookWorld:
    if request.param == "fake":
        return FakeWorld()
    return AnvilWorld(request.getfixturevalue("world"))


def _id(w: BookWorld, c: TaskCommitment) -> TaskId:
    return task_id(w.book.chain_id, w.book.task_manager, c.project, c.device, c.first_nonce)


def _refused(error: str) -> pytest.RaisesExc[TransactionRevertedError]:
    return pytest.raises(TransactionRevertedError, match=error)


def _later(anchor: Anchor, seconds: int) -> Anchor:
    return Anchor(anchor.timestamp + seconds, anchor.leaf + seconds, anchor.config)


def _assert_sent(outcome: TxOutcome) -> None:
    assert outcome.tx_hash.startswith("0x") and outcome.gas_used > 0


class TestTaskBook:
    def test_the_deployment_it_names(self, w: BookWorld) -> None:
        assert w.book.chain_id == 31337
        assert str(w.book.task_manager) == to_checksum_address(w.book.task_manager)

    def test_assigned_tasks_are_known_under_the_ids_the_domain_computes(self, w: BookWorld) -> None:
        first, second = w.commitment(0, 3), w.commitment(4, 7)
        _assert_sent(w.book.assign([first, second], 10))
        assert w.book.state(_id(w, first)) is ChainTaskState.ASSIGNED
        assert w.book.state(_id(w, second)) is ChainTaskState.ASSIGNED
        assert w.book.state(_id(w, w.commitment(8, 9))) is ChainTaskState.UNKNOWN

    def test_a_nonce_is_assigned_once(self, w: BookWorld) -> None:
        w.book.assign([w.commitment(0, 7)], 10)
        for again in (w.commitment(0, 7), w.commitment(5, 9)):
            with _refused("NonceAlreadyAssigned") as caught:
                w.book.assign([again], 10)
            assert caught.value.error_name == "NonceAlreadyAssigned"
        w.book.assign([w.commitment(8, 9)], 10)

    def test_an_assignment_is_all_or_nothing(self, w: BookWorld) -> None:
        good = w.commitment(0, 3)
        with _refused("NonceAlreadyAssigned"):
            w.book.assign([good, w.commitment(2, 5)], 10)
        assert w.book.state(_id(w, good)) is ChainTaskState.UNKNOWN

    def test_a_route_settles_the_task_once_and_leaves_its_anchor(self, w: BookWorld) -> None:
        c = w.commitment(0, 3)
        w.book.assign([c], 10)
        assert w.book.anchor(w.project, w.device) == NO_ANCHOR
        outcome = w.book.route(_id(w, c), [7], LAST, PROOF)
        _assert_sent(outcome)
        assert (outcome.settled, outcome.reason) == (True, None)
        assert w.book.state(_id(w, c)) is ChainTaskState.SETTLED
        assert w.book.anchor(w.project, w.device) == LAST
        with _refused("TaskNotAssigned"):
            w.book.route(_id(w, c), [7], _later(LAST, 1), PROOF)

    def test_anchors_are_kept_per_project_and_device(self, w: BookWorld) -> None:
        c = w.commitment(0, 3)
        w.book.assign([c], 10)
        w.book.route(_id(w, c), [7], LAST, PROOF)
        assert w.book.anchor(ProjectId(w.project + 100), w.device) == NO_ANCHOR
        assert w.book.anchor(w.project, Address("0x" + "77" * 20)) == NO_ANCHOR

    def test_an_unknown_task_is_not_routed(self, w: BookWorld) -> None:
        with _refused("TaskNotAssigned"):
            w.book.route(_id(w, w.commitment(0, 3)), [7], LAST, PROOF)

    def test_a_dapp_that_refuses_leaves_the_task_failed_with_its_reason(self, w: BookWorld) -> None:
        project = w.refusing_project()
        c = w.commitment(0, 3, project=project)
        w.book.assign([c], 10)
        outcome = w.book.route(_id(w, c), [7], LAST, PROOF)
        assert not outcome.settled and "Refused" in (outcome.reason or "")
        assert w.book.state(_id(w, c)) is ChainTaskState.FAILED
        assert w.book.anchor(project, w.device) == LAST  # the proof verified: its messages are spent

    def test_a_task_waits_for_its_predecessor(self, w: BookWorld) -> None:
        first, second = w.commitment(0, 3), w.commitment(4, 7)
        w.book.assign([first], 10)
        w.book.assign([second], 10)
        assert not w.book.predecessor_pending(_id(w, first))
        assert w.book.predecessor_pending(_id(w, second))
        with _refused("PredecessorPending"):
            w.book.route(_id(w, second), [7], _later(LAST, 10), PROOF)
        w.book.route(_id(w, first), [7], LAST, PROOF)
        assert not w.book.predecessor_pending(_id(w, second))
        assert w.book.route(_id(w, second), [7], _later(LAST, 10), PROOF).settled

    def test_a_released_predecessor_holds_nothing_back(self, w: BookWorld) -> None:
        first, second = w.commitment(0, 3), w.commitment(4, 7)
        w.book.assign([first, second], 10)
        _assert_sent(w.book.release(_id(w, first)))
        assert w.book.state(_id(w, first)) is ChainTaskState.EXPIRED
        assert not w.book.predecessor_pending(_id(w, second))
        with _refused("BadStatus"):
            w.book.release(_id(w, first))

    def test_deadlines_count_blocks_and_an_expired_task_is_reassigned(self, w: BookWorld) -> None:
        c = w.commitment(0, 3)
        w.book.assign([c], 3)
        tid = _id(w, c)
        with _refused("DeadlineNotPassed"):
            w.book.expire(tid)
        w.mine(3)
        assert not w.book.overdue(tid)  # the deadline block itself still takes a route
        w.mine(1)
        assert w.book.overdue(tid)
        with _refused("DeadlinePassed"):
            w.book.route(tid, [7], LAST, PROOF)
        _assert_sent(w.book.expire(tid))
        assert w.book.state(tid) is ChainTaskState.EXPIRED and not w.book.overdue(tid)
        _assert_sent(w.book.reassign(tid, 10))
        assert w.book.state(tid) is ChainTaskState.ASSIGNED and not w.book.overdue(tid)
        assert w.book.route(tid, [7], LAST, PROOF).settled

    def test_only_an_expired_task_is_reassigned(self, w: BookWorld) -> None:
        c = w.commitment(0, 3)
        w.book.assign([c], 10)
        with _refused("BadStatus"):
            w.book.reassign(_id(w, c), 10)
        with _refused("BadStatus"):
            w.book.expire(_id(w, w.commitment(4, 5)))

    def test_a_paused_project_takes_no_assignment_and_no_route(self, w: BookWorld) -> None:
        c = w.commitment(0, 3)
        w.book.assign([c], 10)
        assert w.book.project_active(w.project)
        w.pause()
        assert not w.book.project_active(w.project)
        with _refused("ProjectNotActive"):
            w.book.assign([w.commitment(4, 7)], 10)
        with _refused("ProjectNotActive"):
            w.book.route(_id(w, c), [7], LAST, PROOF)

    def test_only_a_live_version_takes_tasks(self, w: BookWorld) -> None:
        assert w.book.version_live(w.project, ConfigVersion(1))
        assert not w.book.version_live(w.project, ConfigVersion(2))
        with _refused("VersionNotLive"):
            w.book.assign([replace(w.commitment(0, 3), config=ConfigVersion(2))], 10)
