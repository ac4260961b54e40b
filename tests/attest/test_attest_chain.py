"""The attester's chain view on anvil, and the whole attest path: attesters sign into the store, the assigned
prover gathers a quorum, the Router settles and the DApp mints."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from attest.attest_world import (
    CAPACITY,
    CONFIG_HASH,
    LOGIC,
    QUORUM,
    RATE,
    TRACKER_SCHEMA,
    AttestWorld,
    expected_metres,
    store_task,
    write_logic,
)
from proofstream.attester.service import Attester, AttesterSettings
from proofstream.chain.accounts import dev_account
from proofstream.chain.attest import ATTESTER_ABIS, AttesterChainView
from proofstream.chain.client import ChainClient
from proofstream.chain.contracts.tasks import TaskStatus
from proofstream.domain.anchor import RECORD_INPUTS, Anchor
from proofstream.domain.types import Address, ConfigVersion, ProjectId, TaskId
from proofstream.errors import ConfigError
from proofstream.prover.attest import AttestBackend
from proofstream.prover.isolated import IsolatedLogic
from proofstream.prover.service import ProverWorker
from proofstream.store.sqlite import SqliteStore

pytestmark = pytest.mark.chain


class ChainAnchors:
    """The prover worker's anchors, read from the test chain's TaskManager."""

    def __init__(self, aw: AttestWorld) -> None:
        self._aw = aw

    def anchor(self, project: ProjectId, device: Address) -> Anchor:
        return self._aw.core.tasks.anchor_of(project, device)


def _shape(item: dict[str, Any]) -> Any:
    def types(params: list[dict[str, Any]]) -> list[Any]:
        return [(p["type"], types(p["components"])) if "components" in p else p["type"] for p in params]

    return (item["type"], item["name"], types(item.get("inputs", [])), types(item.get("outputs", [])))


@pytest.mark.parametrize("contract", sorted(ATTESTER_ABIS))
def test_abi_fragments_match_the_compiled_contracts(aw: AttestWorld, contract: str) -> None:
    compiled = [_shape(i) for i in aw.compilation.artifact(contract).abi if "name" in i]
    for fragment in ATTESTER_ABIS[contract]:
        assert _shape(fragment) in compiled


def _view(aw: AttestWorld, index: int) -> AttesterChainView:
    return AttesterChainView(
        ChainClient(aw.net.rpc_url, dev_account(index)), aw.core_deployment.router, aw.core_deployment.device_registry
    )


def test_view_reads_versions_tasks_and_registers(aw: AttestWorld) -> None:
    view = _view(aw, 8)
    project = ProjectId(aw.project.project)
    version = view.version(project, ConfigVersion(1))
    assert version is not None
    assert (version.is_attest_verifier, version.in_set, version.quorum) == (True, True, QUORUM)
    assert (version.config_hash, version.verifier_config, version.verifier) == (
        CONFIG_HASH,
        1,
        aw.verifier.address,
    )
    outsider = _view(aw, 9).version(project, ConfigVersion(1))
    assert outsider is not None and not outsider.in_set
    assert view.version(project, ConfigVersion(2)) is None
    assert view.version(ProjectId(99), ConfigVersion(1)) is None
    assert view.task(TaskId(12345)) is None
    record = aw.assign(first=3, last=5, root=777)
    task = view.task(record.task_id)
    assert task is not None and task.assigned
    assert (task.project, task.config, task.device, task.first_nonce, task.last_nonce, task.root) == (
        project,
        1,
        aw.device.address,
        3,
        5,
        777,
    )
    assert not aw.core.provers.is_prover(aw.attesters[2].address)
    assert view.ensure_registered() is True
    assert aw.core.provers.is_prover(aw.attesters[2].address)
    assert view.ensure_registered() is False


def test_a_version_whose_verifier_is_not_an_attest_verifier(aw: AttestWorld) -> None:
    # Any contract can be named as a verifier; the ProverRegistry has none of AttestVerifier's functions.
    project, _ = aw.core.projects.create_project(
        b"\x01" * 32,
        "x",
        aw.core_deployment.prover_registry,
        aw.project.reward_dapp,
        aw.sequencer.address,
        sender=aw.owner,
    )
    version = _view(aw, 6).version(project, ConfigVersion(1))
    assert version is not None and not version.is_attest_verifier and not version.in_set


def test_view_needs_a_router(aw: AttestWorld) -> None:
    with pytest.raises(ConfigError, match="no contract"):
        AttesterChainView(
            ChainClient(aw.net.rpc_url, dev_account(6)), aw.outsider.address, aw.core_deployment.device_registry
        )


def test_view_takes_the_message_domain_from_the_chain(aw: AttestWorld) -> None:
    view = _view(aw, 6)
    assert view.device_registry == aw.core_deployment.device_registry
    assert aw.device_domain.verifying_contract == view.device_registry


def test_view_refuses_a_device_registry_that_is_not_this_deployments(aw: AttestWorld) -> None:
    client = ChainClient(aw.net.rpc_url, dev_account(6))
    router = aw.core_deployment.router
    with pytest.raises(ConfigError, match="no contract"):
        AttesterChainView(client, router, aw.outsider.address)
    with pytest.raises(ConfigError, match="not a DeviceRegistry"):
        AttesterChainView(client, router, aw.core_deployment.prover_registry)
    # A real DeviceRegistry, but of another ProjectRegistry: another deployment's domain.
    other = aw.client.deploy(
        aw.compilation.artifact("DeviceRegistry"), aw.core_deployment.prover_registry, aw.core.devices.poseidon()
    )
    assert other.contract_address is not None
    with pytest.raises(ConfigError, match="another deployment"):
        AttesterChainView(client, router, other.contract_address)


def test_attesters_sign_the_prover_routes_and_the_device_owner_is_paid(aw: AttestWorld, tmp_path: Path) -> None:
    lats = [1000, 1300, 1250, 1900, 2000]
    logic_path = write_logic(tmp_path, LOGIC)
    with SqliteStore(tmp_path / "store.db") as store:
        stored = store_task(
            store,
            chain_id=aw.client.chain_id,
            task_manager=aw.core_deployment.task_manager,
            project=aw.project.project,
            domain=aw.device_domain,
            device=aw.device,
            lats=lats,
        )
        record = aw.assign(first=0, last=len(lats) - 1, root=stored.row.root)
        assert record.task_id == stored.row.id
        attesters = [
            Attester(
                store,
                _view(aw, index),
                IsolatedLogic(logic_path, repeat=2),
                bytes(dev_account(index).key),
                AttesterSettings(config_hash=CONFIG_HASH, capacity=CAPACITY, schema=TRACKER_SCHEMA),
            )
            for index in (6, 8)  # 8 is in the set and registers itself on its first tick
        ]
        backend = AttestBackend(
            store,
            IsolatedLogic(logic_path),
            chain_id=aw.client.chain_id,
            router=aw.core_deployment.router,
            config_version=1,
            attesters=[a.address for a in aw.attesters],
            quorum=QUORUM,
            is_registered=lambda a: aw.core.provers.is_prover(a),
        )
        worker = ProverWorker(
            store,
            backend,
            prover=aw.prover.address,
            n_public=1 + len(RECORD_INPUTS),
            constraints=None,
            anchors=ChainAnchors(aw),
        )
        assert worker.tick() is None  # nobody attested yet
        assert attesters[0].tick() == 1
        assert worker.tick() is None  # 1 of 2
        assert attesters[1].tick() == 1
        assert aw.core.provers.is_prover(aw.attesters[2].address)
        proven = worker.tick()
        assert proven is not None and proven.proof is not None and proven.outputs == (expected_metres(lats),)
        last = Anchor(proven.proof.last_time, proven.proof.last_leaf)
        result = aw.core.router.route(
            stored.row.id, [expected_metres(lats)], last, proven.proof.calldata, sender=aw.prover
        )
    assert result.settled and aw.core.tasks.get_task(stored.row.id).status is TaskStatus.SETTLED
    assert aw.dapp.accrued(aw.device.address) == expected_metres(lats) * RATE
