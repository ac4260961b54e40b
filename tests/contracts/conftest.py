"""A real anvil chain for the contract tests, set up once per session and rolled back after every test.

The session deploys the core, one project (owner, sequencer, a registered prover, a registered device) whose
verifier is the test-only MockVerifier, and takes an anvil snapshot; each test gets a fresh client on that
state and the chain goes back to the snapshot afterwards, so tests cannot see each other's transactions.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from chain_world import DEVICE_KEY, RATE, World
from eth_account import Account
from eth_account.signers.local import LocalAccount
from toolchain_check import toolchain_available

from proofstream.chain.accounts import dev_account
from proofstream.chain.client import ChainClient
from proofstream.chain.contracts.registries import sign_device_binding
from proofstream.chain.contracts.rewards import RewardDApp, RewardToken
from proofstream.chain.deploy import (
    CoreDeployment,
    ProjectDeployment,
    attach_core,
    deploy_core,
    deploy_project,
)
from proofstream.chain.localnet import Localnet
from proofstream.chain.solc import CompilationResult, compile_core, read_sources
from proofstream.domain.types import Address

SOL_DIR = Path(__file__).parent / "sol"


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
