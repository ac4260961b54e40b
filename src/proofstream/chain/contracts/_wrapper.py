"""The base every contract wrapper shares: calls, sends and log decoding through one ChainClient.

Errors are the client's (:mod:`proofstream.chain.client` maps web3's to proofstream's): a wrapper adds none.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Self, cast

from eth_account.signers.local import LocalAccount
from eth_utils.address import to_checksum_address
from web3.contract import Contract
from web3.contract.contract import ContractEvent
from web3.exceptions import MismatchedABI

from proofstream.chain.client import ChainClient, Receipt
from proofstream.chain.contracts.events import EventPosition
from proofstream.chain.solc import CompilationResult
from proofstream.domain.types import Address


class Wrapper:
    """One deployed contract, its functions called by name; subclasses give them Python names and types."""

    CONTRACT: ClassVar[str]
    """The Solidity contract name, to find its ABI in a compilation."""

    def __init__(self, client: ChainClient, address: str, abi: Sequence[Mapping[str, Any]]) -> None:
        self._client = client
        self._contract: Contract = client.contract(address, abi, name=self.CONTRACT)
        self.address = Address(to_checksum_address(address))

    @classmethod
    def at(cls, client: ChainClient, address: str, compilation: CompilationResult) -> Self:
        """The wrapper of the contract at ``address``, with the ABI from ``compilation``."""
        return cls(client, address, compilation.artifact(cls.CONTRACT).abi)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.address})"

    def _call(self, function: str, *args: Any, confirmations: int = 0) -> Any:
        """``function``'s answer as of the block ``confirmations`` deep (0: the latest)."""
        block = self._client.confirmed_block(confirmations)
        return self._client.call(getattr(self._contract.functions, function)(*args), block=block)

    def linked(self, getter: str) -> Address | None:
        """The contract another one's address getter names (``"projects"``, ``"taskManager"``, ...); None for
        the zero address."""
        return address_or_none(self._call(getter))

    def _send(self, function: str, *args: Any, sender: LocalAccount | None, gas: int | None = None) -> Receipt:
        return self._client.send(getattr(self._contract.functions, function)(*args), sender=sender, gas=gas)

    def transaction_known(self, tx_hash: str) -> bool:
        """Whether the chain holds ``tx_hash``, mined or waiting (a transaction to this contract, or any)."""
        return self._client.transaction_known(tx_hash)

    def _event(self, name: str) -> ContractEvent:
        event: ContractEvent = getattr(self._contract.events, name)()
        return event

    def _logs(self, name: str, from_block: int, to_block: int | str) -> list[Mapping[str, Any]]:
        return self._client.get_logs(self._event(name), from_block, to_block)

    def _receipt_events(self, name: str, receipt: Receipt) -> list[Mapping[str, Any]]:
        event = self._event(name)
        decoded: list[Mapping[str, Any]] = []
        for log in receipt.logs:
            if str(to_checksum_address(log["address"])) != self.address:
                continue
            try:
                decoded.append(dict(event.process_log(cast(Any, log))))
            except MismatchedABI:
                continue  # another event of this contract
        return decoded


def position(entry: Mapping[str, Any]) -> EventPosition:
    """Where a decoded log sits on chain."""
    return EventPosition(
        block_number=int(entry["blockNumber"]),
        block_hash=entry["blockHash"].to_0x_hex(),
        tx_hash=entry["transactionHash"].to_0x_hex(),
        log_index=int(entry["logIndex"]),
    )


def address_or_none(value: str) -> Address | None:
    """A returned address, or None for the zero address (Solidity's "not set")."""
    return None if int(value, 16) == 0 else Address(to_checksum_address(value))
