"""The conformance suite of the attester's view of the chain (:class:`proofstream.attester.ports.AttesterChain`),
run against AttesterChainView on anvil and against the FakeAttesterChain of the attester's tests.

Each world assigns and settles tasks, and adds a config version verified by an AttestVerifier whose attester set
holds the attester, outside the port; the suite checks what the port then reports.
"""

from __future__ import annotations

from typing import Protocol

import pytest
from chain_fakes import FakeAttesterChain
from chain_world import LAST, ROOT, World

from proofstream.attester.ports import AttesterChain, AttestVersion, ChainTask
from proofstream.chain.accounts import dev_account
from proofstream.chain.attest import AttesterChainView, chain_task, deploy_attest_verifier
from proofstream.chain.client import ChainClient
from proofstream.domain.anchor import NO_ANCHOR, Anchor
from proofstream.domain.tasks import task_id
from proofstream.domain.types import Address, ConfigVersion, Nonce, ProjectId, TaskId

PROOF = b"\x00" * 256
V1_HASH = b"\x01" * 32
"""The config hash of the project's version 1 (verified by a verifier that is no AttestVerifier)."""
V2_HASH = b"\x02" * 32
ATTESTER = 6
"""The dev account that attests: no role in the world, not yet a registered prover."""

PROVER = Address("0x90F79bf6EB2c4f870365E785982E1f101E93b906")
"""A prover account for the fake chain's tasks: the attester never reads it."""


class AttesterWorld(Protocol):
    @property
    def chain(self) -> AttesterChain: ...

    @property
    def project(self) -> ProjectId: ...

    @property
    def device(self) -> Address: ...

    @property
    def expected(self) -> tuple[int, Address, Address, Address]:
        """(chain id, router, device registry, attester) the view must name."""
        ...

    @property
    def v1_verifier(self) -> Address: ...

    def assign(self, first: int, last: int) -> ChainTask:
        """Assign a task of the world's device under version 1; the commitment the chain now holds."""
        ...

    def settle(self, task: TaskId, last: Anchor) -> None: ...

    def add_attest_version(self, quorum: int) -> tuple[ConfigVersion, Address]:
        """A new version (hash :data:`V2_HASH`) verified by an AttestVerifier that counts the attester, its
        verifier."""
        ...


class FakeWorld:
    def __init__(self) -> None:
        self.project = ProjectId(1)
        self.device = Address("0x70997970C51812dc3A010C7d01b50e0d17dc79C8")
        self.v1_verifier = Address("0x" + "ab" * 20)
        router, registry = Address("0x" + "12" * 20), Address("0x" + "34" * 20)
        self.chain = FakeAttesterChain(Address(dev_account(ATTESTER).address), router=router, device_registry=registry)
        self.chain.versions[(self.project, ConfigVersion(1))] = AttestVersion(
            V1_HASH, self.v1_verifier, False, None, False, 0
        )
        self.expected = (self.chain.chain_id, router, registry, self.chain.attester)

    def assign(self, first: int, last: int) -> ChainTask:
        tid = task_id(self.chain.chain_id, Address("0x" + "56" * 20), self.project, self.device, first)
        task = ChainTask(
            task_id=tid,
            project=self.project,
            config=ConfigVersion(1),
            device=self.device,
            first_nonce=Nonce(first),
            last_nonce=Nonce(last),
            root=ROOT,
            prover=PROVER,
            assigned=True,
        )
        self.chain.put_task(task)
        return task

    def settle(self, task: TaskId, last: Anchor) -> None:
        self.chain.settle(task, last)

    def add_attest_version(self, quorum: int) -> tuple[ConfigVersion, Address]:
        verifier = Address("0x" + "cd" * 20)
        version = ConfigVersion(2)
        self.chain.versions[(self.project, version)] = AttestVersion(V2_HASH, verifier, True, version, True, quorum)
        return version, verifier


class AnvilWorld:
    def __init__(self, world: World) -> None:
        self._world = world
        deployment = world.core_deployment
        account = dev_account(ATTESTER)
        self.chain = AttesterChainView(
            ChainClient(world.net.rpc_url, account), deployment.router, deployment.device_registry
        )
        self.project = world.project_id
        self.device = Address(world.device.address)
        self.v1_verifier = world.project.verifier
        self.expected = (world.client.chain_id, deployment.router, deployment.device_registry, Address(account.address))

    def assign(self, first: int, last: int) -> ChainTask:
        return chain_task(self._world.assign(first, last))  # an assigned record: assigned=True

    def settle(self, task: TaskId, last: Anchor) -> None:
        self._world.core.router.route(task, [7], last, PROOF, sender=self._world.prover)

    def add_attest_version(self, quorum: int) -> tuple[ConfigVersion, Address]:
        w = self._world
        verifier = deploy_attest_verifier(
            w.client,
            w.compilation,
            w.core_deployment.router,
            w.core_deployment.prover_registry,
            2,
            [self.expected[3]],
            quorum,
            w.owner,
            outputs=1,
        )
        version, _ = w.core.projects.add_version(
            self.project, V2_HASH, "ipfs://v2", verifier.address, 100, sender=w.owner
        )
        return version, verifier.address


@pytest.fixture(params=["fake", pytest.param("anvil", marks=pytest.mark.chain)])
def w(request: pytest.FixtureRequest) -> AttesterWorld:
    if request.param == "fake":
        return FakeWorld()
    return AnvilWorld(request.getfixturevalue("world"))


class TestAttesterChain:
    def test_the_deployment_and_the_attester_it_names(self, w: AttesterWorld) -> None:
        c = w.chain
        assert (c.chain_id, c.router, c.device_registry, c.attester) == w.expected

    def test_a_task_reads_as_committed_and_is_no_longer_assigned_once_settled(self, w: AttesterWorld) -> None:
        task = w.assign(0, 3)
        assert w.chain.task(task.task_id) == task
        w.settle(task.task_id, LAST)
        settled = w.chain.task(task.task_id)
        assert settled is not None and not settled.assigned
        assert (settled.root, settled.first_nonce, settled.last_nonce) == (task.root, task.first_nonce, task.last_nonce)

    def test_an_unknown_task_is_none(self, w: AttesterWorld) -> None:
        assert w.chain.task(TaskId(12345)) is None

    def test_the_anchor_is_the_settled_tasks_last_message_per_project_and_device(self, w: AttesterWorld) -> None:
        assert w.chain.anchor(w.project, w.device) == NO_ANCHOR
        task = w.assign(0, 3)
        w.settle(task.task_id, LAST)
        assert w.chain.anchor(w.project, w.device) == Anchor(LAST.timestamp, LAST.leaf, task.config)
        assert w.chain.anchor(ProjectId(w.project + 100), w.device) == NO_ANCHOR
        assert w.chain.anchor(w.project, Address("0x" + "77" * 20)) == NO_ANCHOR

    def test_a_task_is_pending_behind_its_assigned_predecessor(self, w: AttesterWorld) -> None:
        first, second = w.assign(0, 3), w.assign(4, 7)
        assert not w.chain.predecessor_pending(first.task_id)
        assert w.chain.predecessor_pending(second.task_id)
        w.settle(first.task_id, LAST)
        assert not w.chain.predecessor_pending(second.task_id)
        assert not w.chain.predecessor_pending(TaskId(12345))

    def test_a_version_without_an_attest_verifier(self, w: AttesterWorld) -> None:
        version = w.chain.version(w.project, ConfigVersion(1))
        assert version == AttestVersion(V1_HASH, w.v1_verifier, False, None, False, 0)

    def test_an_attest_version(self, w: AttesterWorld) -> None:
        config, verifier = w.add_attest_version(quorum=1)
        assert w.chain.version(w.project, config) == AttestVersion(V2_HASH, verifier, True, config, True, 1)

    def test_an_unknown_project_or_version_is_none(self, w: AttesterWorld) -> None:
        assert w.chain.version(w.project, ConfigVersion(9)) is None
        assert w.chain.version(ProjectId(w.project + 100), ConfigVersion(1)) is None

    def test_the_attester_registers_once(self, w: AttesterWorld) -> None:
        assert w.chain.ensure_registered()
        assert not w.chain.ensure_registered()
