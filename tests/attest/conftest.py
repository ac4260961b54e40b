"""A real anvil chain for the attest tests: the core, an AttestVerifier (3 attesters, quorum 2) and a project
that uses it, set up once per session and rolled back after every test.

Attesters: dev accounts 6 and 7 are in the set and registered provers; 8 is in the set but never registered;
9 is a registered prover outside the set. Dev account 3 is the task's assigned prover (it routes).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from chain_world import localnet
from eth_account import Account
from toolchain_check import toolchain_available

from attest.attest_world import CONFIG_HASH, DEVICE_KEY, QUORUM, RATE, AttestWorld
from proofstream.chain.accounts import dev_account
from proofstream.chain.attest import AttestVerifier, deploy_attest_verifier
from proofstream.chain.client import ChainClient
from proofstream.chain.contracts.registries import sign_device_binding
from proofstream.chain.contracts.rewards import RewardDApp, RewardToken
from proofstream.chain.deploy import CoreDeployment, ProjectDeployment, attach_core, deploy_core, deploy_project
from proofstream.chain.localnet import Localnet
from proofstream.chain.solc import CompilationResult, compile_core
from proofstream.sdk.device import DeviceKey

__all__ = ["localnet"]  # chain_world's, on this folder's compilation (the core contracts, no test contracts)


@dataclass
class _Setup:
    core: CoreDeployment
    project: ProjectDeployment
    verifier: str
    snapshot: str


@pytest.fixture(scope="session")
def compilation() -> CompilationResult:
    if not toolchain_available():
        pytest.skip("node and node_modules (npm ci) are needed for the attest contract tests")
    return compile_core()


@pytest.fixture(scope="session")
def _setup(localnet: Localnet, compilation: CompilationResult) -> _Setup:
    deployer, owner, sequencer, prover = (dev_account(i) for i in (0, 1, 2, 3))
    device_owner = dev_account(5)
    client = ChainClient(localnet.rpc_url, deployer)
    core_deployment = deploy_core(client, compilation=compilation)
    core = attach_core(client, core_deployment, compilation)
    verifier = deploy_attest_verifier(
        client,
        compilation,
        core_deployment.router,
        core_deployment.prover_registry,
        1,
        [dev_account(i).address for i in (6, 7, 8)],
        QUORUM,
        sender=owner,
        outputs=1,
    )
    project = deploy_project(
        client,
        core_deployment,
        None,
        8,
        RATE,
        config_hash=CONFIG_HASH,
        uri="proofstream:attest-test",
        sequencer=sequencer.address,
        verifier=verifier.address,
        owner=owner,
        compilation=compilation,
    )
    for account in (prover, dev_account(6), dev_account(7), dev_account(9)):
        core.provers.register_prover(account.address, sender=account)
    device = Account.from_key(DEVICE_KEY)
    signature = sign_device_binding(
        device, client.chain_id, core_deployment.device_registry, project.project, device_owner.address
    )
    core.devices.register_device(project.project, device.address, device_owner.address, signature, sender=owner)
    return _Setup(core_deployment, project, verifier.address, localnet.snapshot())


@pytest.fixture
def aw(localnet: Localnet, compilation: CompilationResult, _setup: _Setup) -> Iterator[AttestWorld]:
    client = ChainClient(localnet.rpc_url, dev_account(0))
    yield AttestWorld(
        net=localnet,
        compilation=compilation,
        client=client,
        core=attach_core(client, _setup.core, compilation),
        core_deployment=_setup.core,
        project=_setup.project,
        verifier=AttestVerifier.at(client, _setup.verifier, compilation),
        token=RewardToken.at(client, _setup.project.reward_token, compilation),
        dapp=RewardDApp.at(client, _setup.project.reward_dapp, compilation),
        owner=dev_account(1),
        sequencer=dev_account(2),
        prover=dev_account(3),
        device_owner=dev_account(5),
        device=DeviceKey.from_hex(DEVICE_KEY),
        attesters=(dev_account(6), dev_account(7), dev_account(8)),
        outsider=dev_account(9),
    )
    localnet.revert(_setup.snapshot)
    _setup.snapshot = localnet.snapshot()
