"""A small synchronous EVM client: simulate, sign locally, send, wait, and say why it reverted.

Every write follows one path: build -> simulate with ``eth_call`` (a revert is decoded by name, with the
arguments, from the ABIs the client has seen) -> pick the gas limit -> sign with a local key -> send -> wait
for the receipt -> log contract, function, tx hash and gas used. Errors leave as :mod:`proofstream.errors`
types (:class:`TransactionRevertedError`, :class:`ChainUnavailableError`, :class:`ChainError`); web3's never
do.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, cast

import requests
from eth_abi.abi import decode as abi_decode
from eth_abi.exceptions import DecodingError
from eth_account.signers.local import LocalAccount
from eth_utils.abi import abi_to_signature, function_signature_to_4byte_selector, get_abi_input_types
from eth_utils.address import to_checksum_address
from hexbytes import HexBytes
from web3 import Web3
from web3.contract import Contract
from web3.contract.contract import ContractConstructor, ContractEvent, ContractFunction
from web3.exceptions import (
    BlockNotFound,
    ContractLogicError,
    TimeExhausted,
    TransactionNotFound,
    Web3Exception,
    Web3RPCError,
)
from web3.providers.rpc import HTTPProvider
from web3.types import BlockIdentifier, TxParams, Wei

from proofstream import logs as log
from proofstream.chain.solc import ContractArtifact
from proofstream.domain.types import Address
from proofstream.errors import ChainError, ChainUnavailableError, TransactionRevertedError

logger = logging.getLogger(__name__)

GAS_MARGIN = 1.2
"""Estimated gas times this is the default gas limit: estimates are exact for the state they ran on, and the
state can move (a storage slot written by an earlier tx of the same batch) before the tx is mined."""

_ERROR_STRING = bytes.fromhex("08c379a0")
"""Selector of Error(string), what ``require(cond, "message")`` reverts with."""
_PANIC = bytes.fromhex("4e487b71")
"""Selector of Panic(uint256): assert, arithmetic overflow, division by zero, out-of-bounds index."""


@dataclass(frozen=True)
class Receipt:
    """A mined, successful transaction."""

    tx_hash: str
    block_number: int
    gas_used: int
    contract_address: Address | None
    """The new contract's address for a deployment, else None."""
    logs: tuple[Mapping[str, Any], ...] = field(repr=False, default=())
    """Raw logs, for the typed wrappers in :mod:`proofstream.chain.contracts` to decode."""


class NonceManager:
    """Hands out consecutive nonces per sender, so several transactions can be sent without waiting.

    The first nonce of a sender comes from the node (pending count); after a failed send, :meth:`reset` makes
    the next one come from the node again.
    """

    def __init__(self, fetch: Callable[[str], int]) -> None:
        self._fetch = fetch
        self._next: dict[str, int] = {}
        self._lock = threading.Lock()

    def next(self, sender: str) -> int:
        with self._lock:
            nonce = self._next.get(sender)
            if nonce is None:
                nonce = self._fetch(sender)
            self._next[sender] = nonce + 1
            return nonce

    def reset(self, sender: str) -> None:
        with self._lock:
            self._next.pop(sender, None)


class ChainClient:
    """One JSON-RPC endpoint, a default sending account, and the ABIs needed to explain reverts."""

    def __init__(
        self,
        rpc_url: str,
        account: LocalAccount,
        *,
        request_timeout_s: float = 30.0,
        receipt_timeout_s: float = 120.0,
        poll_interval_s: float = 0.05,
    ) -> None:
        self._w3 = Web3(HTTPProvider(rpc_url, request_kwargs={"timeout": request_timeout_s}))
        self._account = account
        self._receipt_timeout_s = receipt_timeout_s
        self._poll_interval_s = poll_interval_s
        self._errors: dict[bytes, tuple[str, list[str]]] = {}
        self._names: dict[str, str] = {}
        self._nonces = NonceManager(self._pending_nonce)
        with self._mapped("eth_chainId"):
            self._chain_id = int(self._w3.eth.chain_id)

    @property
    def chain_id(self) -> int:
        return self._chain_id

    @property
    def account(self) -> LocalAccount:
        """The default sender."""
        return self._account

    @property
    def web3(self) -> Web3:
        """The underlying Web3, for the typed wrappers of this package only."""
        return self._w3

    def block_number(self) -> int:
        with self._mapped("eth_blockNumber"):
            return int(self._w3.eth.block_number)

    def block_hash(self, number: int) -> str | None:
        """The 0x-hex hash of block ``number`` in the chain the node follows now; None past its head."""
        with self._mapped("eth_getBlockByNumber"):
            try:
                block = self._w3.eth.get_block(number)
            except BlockNotFound:
                return None
        return HexBytes(block["hash"]).to_0x_hex()

    def transaction_known(self, tx_hash: str) -> bool:
        """Whether the node holds the transaction, mined in its chain as it is now or in its mempool."""
        with self._mapped("eth_getTransactionByHash"):
            try:
                self._w3.eth.get_transaction(HexBytes(tx_hash))
            except TransactionNotFound:
                return False
        return True

    def confirmed_block(self, confirmations: int) -> BlockIdentifier:
        """The block to read state at that is ``confirmations`` deep: ``"latest"`` for 0."""
        return "latest" if confirmations == 0 else max(self.block_number() - confirmations, 0)

    def code_at(self, address: str) -> bytes:
        """The runtime bytecode at ``address`` (empty for an account without code)."""
        with self._mapped("eth_getCode"):
            return bytes(self._w3.eth.get_code(to_checksum_address(address)))

    def balance(self, address: str) -> int:
        with self._mapped("eth_getBalance"):
            return int(self._w3.eth.get_balance(to_checksum_address(address)))

    def contract(self, address: str, abi: Sequence[Mapping[str, Any]], name: str = "") -> Contract:
        """A web3 contract at ``address``; its errors become decodable and its name appears in logs."""
        checksum = to_checksum_address(address)
        self.register_abi(abi)
        if name:
            self._names[checksum] = name
        return self._w3.eth.contract(address=checksum, abi=list(abi))

    def register_abi(self, abi: Sequence[Mapping[str, Any]]) -> None:
        """Learn the custom errors of ``abi`` so reverts carrying them are decoded by name."""
        for item in abi:
            if item.get("type") == "error":
                signature = abi_to_signature(cast(Any, item))
                types = list(get_abi_input_types(cast(Any, item)))
                self._errors[function_signature_to_4byte_selector(signature)] = (str(item["name"]), types)

    def call(self, fn_call: ContractFunction, *, block: BlockIdentifier = "latest") -> Any:
        """Run a view (or simulate a write) and return its decoded result."""
        with self._mapped(self._label(fn_call)):
            try:
                return fn_call.call(block_identifier=block)
            except ContractLogicError as exc:
                raise self._reverted(self._label(fn_call), exc) from exc

    def get_logs(
        self,
        event: ContractEvent,
        from_block: int,
        to_block: int | str,
        topics: Mapping[str, Any] | None = None,
    ) -> list[Mapping[str, Any]]:
        """Decoded logs of one event type of one contract, in chain order; ``topics`` filters indexed arguments
        by value."""
        with self._mapped(f"eth_getLogs {event.event_name}"):
            found = event.get_logs(
                from_block=from_block, to_block=cast(Any, to_block), argument_filters=dict(topics) if topics else None
            )
            return [dict(entry) for entry in found]

    def send(
        self,
        fn_call: ContractFunction,
        *,
        sender: LocalAccount | None = None,
        gas: int | None = None,
        value: int = 0,
    ) -> Receipt:
        """Simulate, sign, send and wait for ``fn_call``; TransactionRevertedError with the decoded reason if
        it reverts.

        ``gas`` None uses the estimate times GAS_MARGIN. Pass it explicitly for anything that verifies a
        pairing: a snarkjs verifier short of gas returns false instead of reverting.
        """
        account = sender or self._account
        label = self._label(fn_call)
        params: TxParams = {"from": account.address, "value": Wei(value)}
        with self._mapped(label):
            try:
                # Simulate under the gas limit the tx will have: too little gas must fail here too.
                simulation: TxParams = {**params, "gas": gas} if gas is not None else params
                fn_call.call(cast(Any, simulation), block_identifier="pending")
                gas_limit = gas if gas is not None else self._estimate(fn_call, params)
            except ContractLogicError as exc:
                raise self._reverted(label, exc) from exc
            except Web3RPCError as exc:
                # Nodes report running out of gas as an RPC error, not as a revert with data.
                if "gas" in str(exc.message).lower():
                    raise TransactionRevertedError(f"{label} fails: {exc.message}") from exc
                raise
        return self._sign_send_wait(label, fn_call, account, params, gas_limit)

    def deploy(
        self,
        artifact: ContractArtifact,
        *args: Any,
        sender: LocalAccount | None = None,
        gas: int | None = None,
    ) -> Receipt:
        """Deploy ``artifact`` with constructor ``args``; the address is ``receipt.contract_address``."""
        account = sender or self._account
        self.register_abi(artifact.abi)
        label = f"{artifact.name}.constructor"
        factory = self._w3.eth.contract(abi=list(artifact.abi), bytecode=artifact.bytecode)
        constructor = factory.constructor(*args)
        params: TxParams = {"from": account.address}
        with self._mapped(label):
            try:
                gas_limit = gas if gas is not None else self._estimate(constructor, params)
            except ContractLogicError as exc:
                raise self._reverted(label, exc) from exc
        receipt = self._sign_send_wait(label, constructor, account, params, gas_limit)
        if receipt.contract_address is None:
            raise ChainError(f"{label}: receipt {receipt.tx_hash} has no contract address")
        self._names[receipt.contract_address] = artifact.name
        return receipt

    def _estimate(self, buildable: ContractFunction | ContractConstructor, params: TxParams) -> int:
        estimate = buildable.estimate_gas(cast(Any, params), block_identifier="pending")
        return int(estimate * GAS_MARGIN)

    def _sign_send_wait(
        self,
        label: str,
        buildable: ContractFunction | ContractConstructor,
        account: LocalAccount,
        params: TxParams,
        gas_limit: int,
    ) -> Receipt:
        # A label is "Contract.function" (a deployment's "Name.constructor"); the log keeps the two apart.
        contract, _, function = label.rpartition(".")
        nonce = self._nonces.next(account.address)
        with self._mapped(label):
            try:
                tx = buildable.build_transaction(
                    cast(Any, {**params, "nonce": nonce, "gas": gas_limit, "chainId": self._chain_id})
                )
                signed = account.sign_transaction(cast(Any, tx))
                tx_hash = self._w3.eth.send_raw_transaction(signed.raw_transaction).to_0x_hex()
            except BaseException:
                # The nonce may or may not have been used: ask the node next time.
                self._nonces.reset(account.address)
                raise
            log.info(
                logger,
                "tx sent",
                contract=contract,
                function=function,
                tx=tx_hash,
                sender=account.address,
                nonce=nonce,
                gas_limit=gas_limit,
            )
            try:
                raw = self._w3.eth.wait_for_transaction_receipt(
                    HexBytes(tx_hash), timeout=self._receipt_timeout_s, poll_latency=self._poll_interval_s
                )
            except TimeExhausted as exc:
                raise ChainUnavailableError(
                    f"{label}: no receipt for {tx_hash} after {self._receipt_timeout_s} s"
                ) from exc
        gas_used = int(raw["gasUsed"])
        block = int(raw["blockNumber"])
        log.info(
            logger,
            "tx mined",
            contract=contract,
            function=function,
            tx=tx_hash,
            gas=gas_used,
            gas_limit=gas_limit,
            block=block,
            sender=account.address,
            nonce=nonce,
            status=raw["status"],
        )
        if raw["status"] != 1:
            raise self._reverted_on_chain(label, tx, block, tx_hash)
        address = raw.get("contractAddress")
        return Receipt(
            tx_hash=tx_hash,
            block_number=block,
            gas_used=gas_used,
            contract_address=Address(to_checksum_address(address)) if address else None,
            logs=tuple(raw["logs"]),
        )

    def _reverted_on_chain(
        self, label: str, tx: Mapping[str, Any], block: int, tx_hash: str
    ) -> TransactionRevertedError:
        # The simulation passed but the mined tx reverted (state moved, or too little gas): replay it on the
        # state it ran on to learn why.
        replay = {k: tx[k] for k in ("from", "to", "data", "value", "gas") if k in tx}
        try:
            self._w3.eth.call(cast(Any, replay), block_identifier=block - 1)
        except ContractLogicError as exc:
            error = self._reverted(label, exc)
            error.tx_hash = tx_hash
            return error
        except (Web3Exception, requests.RequestException, OSError):
            pass
        return TransactionRevertedError(f"{label} reverted on chain in {tx_hash} (out of gas?)", tx_hash=tx_hash)

    def _reverted(self, label: str, exc: ContractLogicError) -> TransactionRevertedError:
        data = _revert_data(exc)
        name, args = self.decode_error(data)
        if name is None:
            reason = exc.message or (f"unknown error 0x{data.hex()}" if data else "reverted without data")
        else:
            reason = f"{name}({', '.join(_show(a) for a in args)})"
        return TransactionRevertedError(f"{label} reverted: {reason}", error_name=name, error_args=args, data=data)

    def decode_error(self, data: bytes) -> tuple[str | None, tuple[Any, ...]]:
        """Name and arguments of the Solidity error in revert ``data``; (None, ()) if no known ABI matches."""
        selector, body = data[:4], data[4:]
        if selector == _ERROR_STRING:
            types, name = ["string"], "Error"
        elif selector == _PANIC:
            types, name = ["uint256"], "Panic"
        elif selector in self._errors:
            name, types = self._errors[selector]
        else:
            return None, ()
        try:
            values = abi_decode(types, body)
        except (DecodingError, ValueError, TypeError):
            return None, ()
        return name, tuple(to_checksum_address(v) if t == "address" else v for t, v in zip(types, values, strict=True))

    def _label(self, fn_call: ContractFunction) -> str:
        contract = self._names.get(str(fn_call.address), str(fn_call.address))
        return f"{contract}.{fn_call.fn_name}"

    def _pending_nonce(self, address: str) -> int:
        with self._mapped("eth_getTransactionCount"):
            return int(self._w3.eth.get_transaction_count(to_checksum_address(address), "pending"))

    @contextmanager
    def _mapped(self, what: str) -> Iterator[None]:
        """Translate web3 / transport exceptions into proofstream's at this boundary."""
        try:
            yield
        except (requests.ConnectionError, requests.Timeout, ConnectionError, TimeoutError) as exc:
            raise ChainUnavailableError(f"{what}: node unreachable: {exc}") from exc
        except ContractLogicError as exc:
            raise self._reverted(what, exc) from exc
        except (Web3Exception, requests.RequestException, OSError) as exc:
            raise ChainError(f"{what} failed: {exc}") from exc


def _revert_data(exc: ContractLogicError) -> bytes:
    data = exc.data
    if isinstance(data, dict):  # some nodes nest it: {"data": "0x..."}
        data = data.get("data")
    if isinstance(data, str) and data.startswith("0x"):
        try:
            return bytes.fromhex(data[2:])
        except ValueError:
            return b""
    return b""


def _show(value: Any) -> str:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return repr(value) if isinstance(value, str) else str(value)
