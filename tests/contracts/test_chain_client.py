"""ChainClient: revert decoding, errors at the boundary, nonces for back-to-back sends."""

from __future__ import annotations

import logging
import socket
import threading

import pytest
from chain_world import LAST, World
from eth_abi.abi import encode
from eth_account import Account

from proofstream.chain.accounts import dev_account
from proofstream.chain.client import ChainClient
from proofstream.chain.localnet import Localnet
from proofstream.errors import ChainError, ChainUnavailableError, TransactionRevertedError

pytestmark = pytest.mark.chain


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_unreachable_node_is_chain_unavailable() -> None:
    with pytest.raises(ChainUnavailableError):
        ChainClient(f"http://127.0.0.1:{_closed_port()}", dev_account(0), request_timeout_s=2)


def test_decodes_error_string_panic_and_unknown(world: World) -> None:
    error_string = bytes.fromhex("08c379a0") + encode(["string"], ["boom"])
    panic = bytes.fromhex("4e487b71") + encode(["uint256"], [0x11])
    assert world.client.decode_error(error_string) == ("Error", ("boom",))
    assert world.client.decode_error(panic) == ("Panic", (0x11,))
    assert world.client.decode_error(bytes.fromhex("deadbeef")) == (None, ())
    assert world.client.decode_error(b"") == (None, ())


def test_revert_message_names_contract_function_and_error(world: World) -> None:
    with pytest.raises(TransactionRevertedError) as info:
        world.core.projects.pause(world.project_id, sender=world.other)
    assert str(info.value).startswith("ProjectRegistry.pause reverted: NotProjectOwner(1, ")
    assert info.value.tx_hash is None  # refused in simulation: nothing was sent
    assert info.value.data[:4] == bytes.fromhex(
        world.client.web3.keccak(text="NotProjectOwner(uint64,address)").hex()[:8]
    )


def test_too_little_gas_is_refused_before_sending(world: World) -> None:
    nonce_before = world.client.web3.eth.get_transaction_count(world.prover.address)
    record = world.assign()
    with pytest.raises(TransactionRevertedError, match=r"(?i)out ?of ?gas"):
        world.core.router.route(record.task_id, [1], LAST, b"", sender=world.prover, gas=40_000)
    assert world.client.web3.eth.get_transaction_count(world.prover.address) == nonce_before


def test_every_write_logs_its_contract_function_tx_and_gas(world: World, caplog: pytest.LogCaptureFixture) -> None:
    """A call and a deployment each log "tx sent" then "tx mined", the label split into contract and function, with
    the receipt's hash and gas used."""
    with caplog.at_level(logging.INFO, logger="proofstream.chain.client"):
        call = world.client.send(world.mock_verifier.functions.setResult(True), sender=world.owner)
        deployment = world.client.deploy(world.compilation.artifact("MockVerifier"), sender=world.owner)
    records = [r for r in caplog.records if r.name == "proofstream.chain.client"]
    assert [r.getMessage().split(" ", 2)[:2] for r in records] == [["tx", "sent"], ["tx", "mined"]] * 2
    mined = [r.fields for r in records if r.getMessage().startswith("tx mined")]  # type: ignore[attr-defined]
    wanted = [("MockVerifier", "setResult", call), ("MockVerifier", "constructor", deployment)]
    for fields, (contract, function, receipt) in zip(mined, wanted, strict=True):
        assert (fields["contract"], fields["function"], fields["tx"], fields["gas"], fields["block"]) == (
            contract,
            function,
            receipt.tx_hash,
            receipt.gas_used,
            receipt.block_number,
        )
    line = records[1].getMessage()
    assert f"contract=MockVerifier function=setResult tx={call.tx_hash} gas={call.gas_used} " in line
    assert f"tx={call.tx_hash} " in records[0].getMessage() and "gas=" not in records[0].getMessage()


def test_back_to_back_sends_from_threads_get_distinct_nonces(world: World) -> None:
    """Eight sends from one sender at once: the nonce manager hands each its own nonce."""
    sender = world.other
    start = world.client.web3.eth.get_transaction_count(sender.address)
    errors: list[BaseException] = []

    def send_one() -> None:
        try:
            world.client.send(world.mock_verifier.functions.setResult(True), sender=sender, gas=100_000)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=send_one) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert world.client.web3.eth.get_transaction_count(sender.address) == start + 8


def test_nonce_recovers_after_another_client_sent(world: World) -> None:
    """Another process using the same key moves the nonce; the next send fails once, then recovers."""
    world.core.provers.register_prover(world.other.address, sender=world.other)  # caches other's nonce
    second = ChainClient(world.client.web3.provider.endpoint_uri, world.other)  # type: ignore[attr-defined]
    second.send(world.mock_verifier.functions.setResult(True))
    with pytest.raises(ChainError):
        world.client.send(world.mock_verifier.functions.setResult(True), sender=world.other)
    world.client.send(world.mock_verifier.functions.setResult(True), sender=world.other)


def test_unfunded_sender_gets_a_chain_error(world: World) -> None:
    with pytest.raises(ChainError):
        world.client.send(world.mock_verifier.functions.setResult(True), sender=Account.create(), gas=50_000)


def test_localnet_is_reported_when_it_stops(compilation: object) -> None:
    with Localnet() as net:
        client = ChainClient(net.rpc_url, dev_account(0), request_timeout_s=2)
    with pytest.raises(ChainUnavailableError):
        client.block_number()
