"""The indexer and the gateway on an anvil that mines on a timer (``--block-time``), as a real chain does: a
registration counts only once ``confirmations`` blocks follow it, and a registration a reorganisation took away
(``anvil_reorg``) is undone, so its device is refused while the one registered in the new chain is admitted.

One anvil for the module (not the session's, which mines per transaction); the gateway is the real app over a
real SQLite store, its version liveness read from the chain at the confirmed block.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from fastapi.testclient import TestClient
from testbed import TRACKER_SCHEMA

from proofstream.chain.accounts import dev_account
from proofstream.chain.book import ChainBook
from proofstream.chain.client import ChainClient
from proofstream.chain.contracts.core import CoreContracts
from proofstream.chain.contracts.registries import sign_device_binding
from proofstream.chain.deploy import attach_core, deploy_core, deploy_project
from proofstream.chain.gateway import ChainLiveness
from proofstream.chain.localnet import Localnet
from proofstream.chain.solc import CompilationResult
from proofstream.domain.eip712 import Domain
from proofstream.domain.types import ConfigVersion, ProjectId
from proofstream.indexer.service import Indexer
from proofstream.ingest.http import create_app
from proofstream.sdk.device import DeviceKey
from proofstream.store.ports import ProjectConfig
from proofstream.store.sqlite import SqliteStore

pytestmark = pytest.mark.chain

BLOCK_TIME_S = 1
CONFIRMATIONS = 2
WAIT_S = 30.0


@dataclass
class Chain:
    net: Localnet
    compilation: CompilationResult
    client: ChainClient
    core: CoreContracts
    project: ProjectId
    owner: LocalAccount
    start_block: int
    store: SqliteStore
    gateway: TestClient

    def binding(self, device: DeviceKey) -> tuple[str, str, bytes]:
        owner = dev_account(5).address
        signature = sign_device_binding(
            Account.from_key(device.to_hex()), self.client.chain_id, self.core.devices.address, self.project, owner
        )
        return device.address, owner, signature

    def register(self, device: DeviceKey) -> int:
        """Register ``device`` as the project owner; the block it landed in."""
        receipt = self.core.devices.register_device(self.project, *self.binding(device), sender=self.owner)
        return receipt.block_number

    def send(self, device: DeviceKey, nonce: int = 0) -> Any:
        """A message of ``device`` to the gateway; its response."""
        domain = Domain(self.client.chain_id, self.core.devices.address)
        body = device.sign_message(
            TRACKER_SCHEMA, domain, self.project, 1, nonce, int(time.time()), {"lat": 1, "lon": 2}
        )
        return self.gateway.post("/messages", json=body)


@pytest.fixture(scope="module")
def chain(compilation: CompilationResult, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chain]:
    deployer, owner = dev_account(0), dev_account(1)
    with Localnet(block_time_s=BLOCK_TIME_S) as net:
        client = ChainClient(net.rpc_url, deployer)
        deployment = deploy_core(client, compilation=compilation)
        project = deploy_project(
            client, deployment, None, 8, 1, config_hash=b"\x01" * 32, uri="ipfs://indexer-test",
            sequencer=deployer.address, verifier=deployment.task_manager, owner=owner, compilation=compilation,
        )  # fmt: skip
        core = attach_core(client, deployment, compilation)
        domain = Domain(client.chain_id, core.devices.address)
        path = Path(tmp_path_factory.mktemp("indexer")) / "store.db"
        with SqliteStore(path) as store:
            store.upsert_project(ProjectConfig(project.project, ConfigVersion(1), TRACKER_SCHEMA, domain))
            liveness = ChainLiveness(core.projects, confirmations=CONFIRMATIONS, cache_s=0)
            with TestClient(create_app(store, liveness=liveness)) as gateway:
                yield Chain(
                    net, compilation, client, core, project.project, owner, deployment.start_block, store, gateway
                )


def indexer(chain: Chain, confirmations: int) -> Indexer:
    """A new indexer over the chain and the module's store: it resumes from the store's checkpoint."""
    book = ChainBook(chain.client, chain.core, sequencer=dev_account(0), prover=dev_account(0))
    return Indexer(chain.store, book, start_block=chain.start_block, confirmations=confirmations)


def wait_for(condition: Callable[[], bool], what: str) -> None:
    """Poll the chain until ``condition`` holds: blocks come on anvil's timer, not on an event we can await."""
    deadline = time.monotonic() + WAIT_S
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"waited {WAIT_S} s for {what}")
        time.sleep(0.05)


def test_a_registration_counts_once_its_confirmations_have_passed(chain: Chain) -> None:
    device = DeviceKey.generate()
    block = chain.register(device)
    following = indexer(chain, CONFIRMATIONS)
    assert following.tick() < block  # the block is not confirmed yet (at most one more block came meanwhile)
    refused = chain.send(device)
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "unknown_device")
    wait_for(lambda: following.tick() >= block, f"block {block} to be {CONFIRMATIONS} deep")
    assert chain.store.device_projects(device.address) == {chain.project}
    assert chain.send(device).status_code == 202


def test_a_registration_a_reorg_took_away_is_undone_and_the_new_chain_read(chain: Chain) -> None:
    orphaned, replacement = DeviceKey.generate(), DeviceKey.generate()
    nonce = chain.client.web3.eth.get_transaction_count(chain.owner.address)
    block = chain.register(orphaned)
    assert indexer(chain, 0).tick() >= block
    assert chain.store.device_projects(orphaned.address) == {chain.project}
    # The new chain holds another registration under the same sender nonce, so the old one cannot come back. One
    # block more than needed: a block anvil's timer mines before the call cannot leave the registration standing.
    registry = chain.client.contract(chain.core.devices.address, chain.compilation.artifact("DeviceRegistry").abi)
    params: Any = {"from": chain.owner.address, "nonce": nonce, "gas": 500_000, "gasPrice": 10**10}
    tx: Any = registry.functions.registerDevice(chain.project, *chain.binding(replacement)).build_transaction(params)
    depth = chain.client.block_number() - block + 2
    chain.net.reorg(depth, [bytes(chain.owner.sign_transaction(tx).raw_transaction)])
    assert not chain.core.devices.is_registered(chain.project, orphaned.address)

    restarted = indexer(chain, 0)  # a node restarted after the reorg: its checkpoint says where it was
    wait_for(lambda: restarted.tick() >= 0 and bool(chain.store.device_projects(replacement.address)), "the new chain")
    assert chain.store.device_projects(orphaned.address) == set()
    refused = chain.send(orphaned)
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "unknown_device")
    assert chain.send(replacement).status_code == 202
