"""The contract tests' world on a real anvil chain: accounts with roles, the deployed contracts, small helpers,
and the fixtures that make it (the contract tests and the port conformance suites import them into their
conftest.py).

The session deploys the core, one project (owner, sequencer, a registered prover, a registered device) whose
verifier is the test-only MockVerifier, and takes an anvil snapshot; each test gets a fresh client on that
state and the chain goes back to the snapshot afterwards, so tests cannot see each other's transactions.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from toolchain_check import toolchain_available
from web3.contract import Contract

from proofstream.chain.accounts import dev_account
from proofstream.chain.client import ChainClient
from proofstream.chain.contracts.core import CoreContracts
from proofstream.chain.contracts.registries import sign_device_binding
from proofstream.chain.contracts.rewards import RewardDApp, RewardToken
from proofstream.chain.contracts.tasks import TaskRecord
from proofstream.chain.deploy import CoreDeployment, ProjectDeployment, attach_core, deploy_core, deploy_project
from proofstream.chain.localnet import Localnet
from proofstream.chain.solc import CompilationResult, compile_core, read_sources
from proofstream.domain.anchor import Anchor
from proofstream.domain.tasks import TaskCommitment
from proofstream.domain.types import Address, ConfigVersion, FieldElement, Nonce, ProjectId

RATE = 10**15
"""Reward per output unit in token wei (0.001 token per metre)."""
ROOT = FieldElement(0x1234_5678_9ABC_DEF0)
"""A batch root for tests where its value does not matter (it only has to be a field element)."""

LAST = Anchor(1_764_300_000, 0xABCDEF, 1)
"""The next anchor a test route claims (the MockVerifier accepts any): its last message's time and leaf."""

# Fixed so the device address (and so every task id) is the same in every run.
DEVICE_KEY = "0x" + "d1" * 32


@dataclass(frozen=True)
class World:
    """Everything a test needs, on a chain rolled back after the test."""

    net: Localnet
    compilation: CompilationResult
    client: ChainClient
    core: CoreContracts
    core_deployment: CoreDeployment
    project: ProjectDeployment
    token: RewardToken
    dapp: RewardDApp
    mock_verifier: Contract
    deployer: LocalAccount
    owner: LocalAccount
    sequencer: LocalAccount
    prover: LocalAccount
    other: LocalAccount
    """A funded account with no role: the attacker, the front-runner."""
    device_owner: LocalAccount
    device: LocalAccount
    """The device key; registered in the project with ``device_owner`` as owner. Never funded: it only
    signs."""

    @property
    def project_id(self) -> ProjectId:
        return self.project.project

    def assignment(self, first: int, last: int, **changes: Any) -> TaskCommitment:
        values: dict[str, Any] = {
            "project": self.project_id,
            "config": ConfigVersion(1),
            "device": Address(self.device.address),
            "first_nonce": Nonce(first),
            "last_nonce": Nonce(last),
            "root": ROOT,
            "prover": Address(self.prover.address),
        }
        values.update(changes)
        return TaskCommitment(**values)

    def assign(self, first: int = 0, last: int = 7, deadline_blocks: int = 100, **changes: Any) -> TaskRecord:
        """Assign one task as the sequencer and return its on-chain record."""
        result = self.core.tasks.assign_tasks(
            [self.assignment(first, last, **changes)], deadline_blocks, sender=self.sequencer
        )
        return self.core.tasks.get_task(result.task_ids[0])

    def project_with_dapp(self, artifact: str, *args: Any) -> tuple[int, Contract]:
        """Another project of the world's owner, verifier and sequencer whose DApp is the test contract
        ``artifact`` (deployed with ``args``), with the world's device registered in it; (project, its DApp)."""
        compiled = self.compilation.artifact(artifact)
        deployed = self.client.deploy(compiled, *args, sender=self.owner)
        assert deployed.contract_address is not None
        project, _ = self.core.projects.create_project(
            b"\x05" * 32, "u", self.project.verifier, deployed.contract_address, self.sequencer.address,
            sender=self.owner,
        )  # fmt: skip
        self.register_device(project)
        return project, self.client.contract(deployed.contract_address, compiled.abi)

    def register_device(self, project: int, sender: LocalAccount | None = None) -> None:
        """Register the world's device in another ``project`` too (its owner sends, ``sender`` by default the
        world's owner), with the same device owner."""
        signature = sign_device_binding(
            self.device, self.client.chain_id, self.core.devices.address, project, self.device_owner.address
        )
        self.core.devices.register_device(
            project, self.device.address, self.device_owner.address, signature, sender=sender or self.owner
        )

    def set_verifier_result(self, result: bool) -> None:
        self.client.send(self.mock_verifier.functions.setResult(result), sender=self.owner)

    def set_verifier_echo(self, echo: bool) -> None:
        self.client.send(self.mock_verifier.functions.setEcho(echo), sender=self.owner)


def addr(account: LocalAccount) -> Address:
    """An account's address typed as proofstream's Address, to compare with what the wrappers return."""
    return Address(account.address)


# --- fixtures ----------------------------------------------------------------------------------------------

SOL_DIR = Path(__file__).parents[1] / "contracts" / "sol"
"""The test-only contracts (MockVerifier, the reverting DApps, ...)."""


@dataclass
class _Setup:
    core_deployment: CoreDeployment
    project: ProjectDeployment
    mock_verifier: Address
    snapshot: str


@pytest.fixture(scope="session")
def compilation() -> CompilationResult:
    if not toolchain_available():
        pytest.skip("node and node_modules (npm ci) are needed for the contract tests")
    return compile_core(read_sources(SOL_DIR, "tests/contracts/sol"))


@pytest.fixture(scope="session")
def localnet(compilation: CompilationResult) -> Iterator[Localnet]:
    with Localnet() as net:
        yield net


@pytest.fixture(scope="session")
def _setup(localnet: Localnet, compilation: CompilationResult) -> _Setup:
    deployer, owner, sequencer, prover, device_owner = (dev_account(i) for i in (0, 1, 2, 3, 5))
    device: LocalAccount = Account.from_key(DEVICE_KEY)
    client = ChainClient(localnet.rpc_url, deployer)
    core_deployment = deploy_core(client, compilation=compilation)
    mock = client.deploy(compilation.artifact("MockVerifier"), sender=owner).contract_address
    assert mock is not None
    project = deploy_project(
        client,
        core_deployment,
        None,
        8,
        RATE,
        config_hash=b"\x01" * 32,
        uri="ipfs://tracker-distance-v1",
        sequencer=sequencer.address,
        verifier=mock,
        owner=owner,
        compilation=compilation,
    )
    core = attach_core(client, core_deployment, compilation)
    core.provers.register_prover(prover.address, sender=prover)
    signature = sign_device_binding(
        device, client.chain_id, core_deployment.device_registry, project.project, device_owner.address
    )
    core.devices.register_device(project.project, device.address, device_owner.address, signature, sender=owner)
    return _Setup(core_deployment, project, mock, localnet.snapshot())


@pytest.fixture
def world(localnet: Localnet, compilation: CompilationResult, _setup: _Setup) -> Iterator[World]:
    client = ChainClient(localnet.rpc_url, dev_account(0))
    core = attach_core(client, _setup.core_deployment, compilation)
    yield World(
        net=localnet,
        compilation=compilation,
        client=client,
        core=core,
        core_deployment=_setup.core_deployment,
        project=_setup.project,
        token=RewardToken.at(client, _setup.project.reward_token, compilation),
        dapp=RewardDApp.at(client, _setup.project.reward_dapp, compilation),
        mock_verifier=client.contract(_setup.mock_verifier, compilation.artifact("MockVerifier").abi, "MockVerifier"),
        deployer=dev_account(0),
        owner=dev_account(1),
        sequencer=dev_account(2),
        prover=dev_account(3),
        other=dev_account(4),
        device_owner=dev_account(5),
        device=Account.from_key(DEVICE_KEY),
    )
    # evm_revert uses up the snapshot: go back, then take it again for the next test.
    localnet.revert(_setup.snapshot)
    _setup.snapshot = localnet.snapshot()
