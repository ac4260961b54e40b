"""The anvil wrapper and anvil's development accounts."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from eth_account import Account

from proofstream.chain.accounts import DEV_MNEMONIC, DEV_PRIVATE_KEYS, dev_account
from proofstream.chain.client import ChainClient
from proofstream.chain.localnet import Localnet
from proofstream.chain.solc import CompilationResult
from proofstream.errors import ToolchainError

pytestmark = pytest.mark.chain


def test_dev_keys_derive_from_the_mnemonic() -> None:
    """Checked against eth_account's own HD wallet derivation, not against copied constants."""
    Account.enable_unaudited_hdwallet_features()
    for index, key in enumerate(DEV_PRIVATE_KEYS):
        derived = Account.from_mnemonic(DEV_MNEMONIC, account_path=f"m/44'/60'/0'/0/{index}")
        assert derived.key.to_0x_hex() == key
    with pytest.raises(IndexError):
        dev_account(len(DEV_PRIVATE_KEYS))


def test_anvil_funds_the_dev_accounts(localnet: Localnet) -> None:
    client = ChainClient(localnet.rpc_url, dev_account(9))
    assert client.chain_id == 31337
    assert client.balance(dev_account(9).address) > 0


def test_two_chains_run_side_by_side(compilation: CompilationResult) -> None:
    with Localnet(chain_id=1337) as one, Localnet(chain_id=1338) as two:
        assert one.rpc_url != two.rpc_url
        assert ChainClient(one.rpc_url, dev_account(0)).chain_id == 1337
        assert ChainClient(two.rpc_url, dev_account(0)).chain_id == 1338
    with pytest.raises(ToolchainError):
        _ = one.rpc_url


def test_state_file_survives_a_restart(tmp_path: Path, compilation: CompilationResult) -> None:
    state = tmp_path / "chain.json"
    with Localnet(state_path=state) as net:
        client = ChainClient(net.rpc_url, dev_account(0))
        deployed = client.deploy(compilation.artifact("ProverRegistry"))
        net.mine(3)
        height = client.block_number()
        session = net.pid
    # stop() returns only once every process of anvil's session is gone, so the state file is complete: the npm
    # wrapper alone exits while the binary is still writing it.
    with pytest.raises(ProcessLookupError):
        os.killpg(session, 0)
    assert json.loads(state.read_text())
    with Localnet(state_path=state) as net:
        client = ChainClient(net.rpc_url, dev_account(0))
        assert client.block_number() == height
        assert deployed.contract_address is not None
        assert client.code_at(deployed.contract_address) == bytes.fromhex(
            compilation.artifact("ProverRegistry").deployed_bytecode[2:]
        )


def test_snapshot_and_revert(localnet: Localnet) -> None:
    client = ChainClient(localnet.rpc_url, dev_account(0))
    snapshot = localnet.snapshot()
    height = client.block_number()
    localnet.mine(5)
    assert client.block_number() == height + 5
    localnet.revert(snapshot)
    assert client.block_number() == height
