"""A chain proofstream did not start is never "the local chain", even an anvil with anvil's chain id 31337: no
development keys, no deployment on the node's own, no open device registration unless asked for."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount

from projects.helpers import cli, invoke
from proofstream.chain.accounts import DEV_PRIVATE_KEYS, dev_account
from proofstream.chain.client import ChainClient
from proofstream.chain.localnet import DEFAULT_CHAIN_ID, Localnet
from proofstream.chain.roles import roles_for
from proofstream.errors import ConfigError
from proofstream.node import Node
from proofstream.projects.scaffold import scaffold
from proofstream.projects.session import open_chain
from proofstream.projects.spec import ProjectSpec, load_project
from proofstream.sdk.device import DeviceKey
from proofstream.settings import KEY_ENV, ChainSettings, GatewaySettings, Settings

pytestmark = pytest.mark.chain


@pytest.fixture
def external() -> Iterator[Localnet]:
    """An anvil started by the test, not by the node: to the node it is just an RPC URL."""
    with Localnet() as net:
        assert net.chain_id == DEFAULT_CHAIN_ID == 31337
        yield net


@pytest.fixture
def operator(external: Localnet) -> LocalAccount:
    """The operator's own key (not one of anvil's), funded on the chain."""
    account: LocalAccount = Account.create()
    ChainClient(external.rpc_url, account).web3.provider.make_request(
        "anvil_setBalance",  # type: ignore[arg-type]
        [account.address, hex(10**20)],
    )
    return account


@pytest.fixture
def project(tmp_path: Path) -> ProjectSpec:
    return load_project(scaffold("remote", "uptime", tmp_path, backend="attest"))


def _settings(spec: ProjectSpec, rpc_url: str, **gateway: object) -> Settings:
    return Settings(
        data_dir=str(spec.state_dir),
        gateway=replace(GatewaySettings(port=0), **gateway),  # type: ignore[arg-type]
        chain=ChainSettings(rpc_url=rpc_url, poll_seconds=0.2),
    )


def _untouched(net: Localnet) -> bool:
    """Nothing was sent from anvil's development accounts, and nothing deployed."""
    client = ChainClient(net.rpc_url, dev_account(0))
    return client.block_number() == 0 and all(
        client.web3.eth.get_transaction_count(dev_account(i).address) == 0 for i in range(len(DEV_PRIVATE_KEYS))
    )


def test_roles_come_from_the_origin_of_the_chain_not_its_id() -> None:
    remote = Settings(chain=ChainSettings(rpc_url="http://127.0.0.1:8545"))
    with pytest.raises(ConfigError, match=KEY_ENV):
        roles_for(remote, local_chain=False, env={})
    assert roles_for(Settings(), local_chain=True, env={}).owner.address == dev_account(0).address
    key = Account.create()
    given = roles_for(remote, local_chain=False, env={KEY_ENV: key.key.hex()})
    assert given.owner.address == given.prover.address == key.address


def test_a_node_on_an_anvil_it_did_not_start_needs_a_key(external: Localnet, project: ProjectSpec) -> None:
    with pytest.raises(ConfigError, match=KEY_ENV):
        Node(_settings(project, external.rpc_url), project=project, env={}).start()
    assert _untouched(external)
    assert not (project.state_dir / "anvil.url").exists()


def test_with_a_key_it_does_not_deploy_on_its_own(
    external: Localnet, project: ProjectSpec, operator: LocalAccount
) -> None:
    env = {KEY_ENV: operator.key.hex()}
    with pytest.raises(ConfigError, match="not deployed on chain 31337"):
        Node(_settings(project, external.rpc_url), project=project, env=env).start()
    assert _untouched(external)
    assert ChainClient(external.rpc_url, operator).web3.eth.get_transaction_count(operator.address) == 0
    assert not (project.state_dir / "deployments-31337.json").exists()


def test_project_commands_need_a_key_for_an_anvil_they_did_not_start(external: Localnet, project: ProjectSpec) -> None:
    code, output = invoke("project", "deploy", "--project", str(project.root), "--chain", external.rpc_url)
    assert code == 1
    assert KEY_ENV in output
    with pytest.raises(ConfigError, match=KEY_ENV), open_chain(project, external.rpc_url, env={}):
        pass
    assert _untouched(external)


def test_deployed_by_the_operator_the_node_runs_and_registration_opens_only_when_set(
    external: Localnet, project: ProjectSpec, operator: LocalAccount, tmp_path: Path
) -> None:
    key_file = tmp_path / "operator.key"
    key_file.write_text(operator.key.hex())
    attesters = [a for i in (6, 7) for a in ("--attester", dev_account(i).address)]
    root, url = str(project.root), external.rpc_url
    cli("project", "deploy", "--project", root, "--chain", url, "--key-file", str(key_file), "--yes", *attesters)
    env = {KEY_ENV: operator.key.hex()}
    device = DeviceKey.generate()
    owner = Account.create().address

    with Node(_settings(project, url), project=project, env=env) as node:
        assert not node.local_chain
        assert node.roles.owner.address == node.roles.prover.address == operator.address
        assert node._attesters == []  # attesters of a real chain run on their operators' machines
        body = _registration(node, device, owner)
        refused = httpx.post(f"{node.gateway_url}/v1/projects/{node.deployment.project}/devices", json=body)
        # A plain binding needs the project owner's consent, which only a voucher carries on a real chain.
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "voucher_required"
        assert not node.core.devices.is_registered(node.deployment.project, device.address)

    with Node(_settings(project, url, open_registration=True), project=project, env=env) as node:
        body = _registration(node, device, owner)
        accepted = httpx.post(f"{node.gateway_url}/v1/projects/{node.deployment.project}/devices", json=body)
        assert accepted.status_code == 202, accepted.text
        assert node.core.devices.is_registered(node.deployment.project, device.address)

    client = ChainClient(url, dev_account(0))
    assert all(client.web3.eth.get_transaction_count(dev_account(i).address) == 0 for i in range(len(DEV_PRIVATE_KEYS)))


def _registration(node: Node, device: DeviceKey, owner: str) -> dict[str, str]:
    from proofstream.domain.eip712 import Domain

    domain = Domain(node.client.chain_id, node.manifest.core.device_registry)
    signature = device.sign_binding(domain, node.deployment.project, owner)
    return {"device": device.address, "owner": owner, "signature": "0x" + signature.hex()}
