"""The reference reward DApp and its ERC-20: what a settled task pays the device owners."""

from __future__ import annotations

from collections.abc import Sequence

from eth_account.signers.local import LocalAccount
from eth_utils.address import to_checksum_address

from proofstream.chain.client import Receipt
from proofstream.chain.contracts._wrapper import Wrapper, address_or_none, position
from proofstream.chain.contracts.events import RewardedEvent
from proofstream.domain.types import Address, ProjectId, TaskId


class RewardToken(Wrapper):
    CONTRACT = "RewardToken"

    def name(self) -> str:
        return str(self._call("name"))

    def symbol(self) -> str:
        return str(self._call("symbol"))

    def decimals(self) -> int:
        return int(self._call("decimals"))

    def total_supply(self) -> int:
        return int(self._call("totalSupply"))

    def balance_of(self, account: str) -> int:
        return int(self._call("balanceOf", to_checksum_address(account)))

    def allowance(self, owner: str, spender: str) -> int:
        return int(self._call("allowance", to_checksum_address(owner), to_checksum_address(spender)))

    def minter(self) -> Address | None:
        return address_or_none(self._call("minter"))

    def set_minter(self, minter: str, *, sender: LocalAccount | None = None) -> Receipt:
        return self._send("setMinter", minter, sender=sender)

    def transfer(self, to: str, amount: int, *, sender: LocalAccount | None = None) -> Receipt:
        return self._send("transfer", to, amount, sender=sender)

    def approve(self, spender: str, amount: int, *, sender: LocalAccount | None = None) -> Receipt:
        return self._send("approve", spender, amount, sender=sender)

    def transfer_from(self, owner: str, to: str, amount: int, *, sender: LocalAccount | None = None) -> Receipt:
        return self._send("transferFrom", owner, to, amount, sender=sender)


class RewardDApp(Wrapper):
    CONTRACT = "RewardDApp"

    def rate_per_unit(self) -> int:
        return int(self._call("ratePerUnit"))

    def project(self) -> ProjectId | None:
        project = int(self._call("project"))
        return ProjectId(project) if project else None

    def token(self) -> Address:
        return Address(self._call("token"))

    def set_rate(self, rate_per_unit: int, *, sender: LocalAccount | None = None) -> Receipt:
        return self._send("setRate", rate_per_unit, sender=sender)

    def bind_project(self, project: int, *, sender: LocalAccount | None = None) -> Receipt:
        return self._send("bindProject", project, sender=sender)

    def accrued(self, device: str) -> int:
        """Token wei ``device`` has earned and not yet claimed."""
        return int(self._call("accrued", to_checksum_address(device)))

    def claim(self, devices: Sequence[str], *, sender: LocalAccount | None = None) -> Receipt:
        """Mint each device's accrued rewards to its current owner (anyone may send it)."""
        return self._send("claim", [to_checksum_address(d) for d in devices], sender=sender)

    def rewarded_events(self, from_block: int, to_block: int | str) -> list[RewardedEvent]:
        return [
            RewardedEvent(
                project=ProjectId(a["project"]),
                task_id=TaskId(a["taskId"]),
                device=Address(a["device"]),
                units=int(a["units"]),
                amount=int(a["amount"]),
                position=position(e),
            )
            for e in self._logs("Rewarded", from_block, to_block)
            for a in (e["args"],)
        ]
