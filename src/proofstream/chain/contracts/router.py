"""Router: a task's outputs and proof go to the project's verifier, then the task settles and the DApp runs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from eth_account.signers.local import LocalAccount

from proofstream.chain.client import Receipt
from proofstream.chain.contracts._wrapper import Wrapper, position
from proofstream.chain.contracts.events import TaskFailedEvent, TaskSettledEvent
from proofstream.domain.anchor import Anchor
from proofstream.domain.types import Address, TaskId

DAPP_GAS = 500_000
"""Router.DAPP_GAS: the gas every IDapp.process call gets, exactly (the route reverts when it cannot forward it)."""

ROUTE_GAS = 1_600_000
"""Gas limit of a route() transaction. Explicit, never estimated: a snarkjs verifier that runs short of gas in
its pairing check returns false instead of reverting. Groth16 verification with 16 public inputs, the settlement
and the anchor take about 450k, the DApp's budget DAPP_GAS * 64/63 and the Router after it 60k: this leaves a
margin of some 580k."""


@dataclass(frozen=True)
class RouteResult:
    receipt: Receipt
    settled: bool
    """True when the DApp processed the result; False when it reverted and the task ended Failed."""
    failure_reason: bytes | None
    """The DApp's revert data when it failed."""


class Router(Wrapper):
    CONTRACT = "Router"

    def route(
        self,
        task_id: int,
        outputs: Sequence[int],
        last: Anchor,
        proof: bytes,
        *,
        sender: LocalAccount | None = None,
        gas: int = ROUTE_GAS,
    ) -> RouteResult:
        """Submit a task's outputs, the anchor it leaves (its last message's timestamp and leaf) and its proof;
        ``sender`` must be the task's prover.

        A reverting DApp does not make this raise: the result says ``settled=False`` with the DApp's reason.
        """
        receipt = self._send("route", task_id, list(outputs), last.timestamp, last.leaf, proof, sender=sender, gas=gas)
        failed = self._receipt_events("TaskFailed", receipt)
        if failed:
            return RouteResult(receipt=receipt, settled=False, failure_reason=bytes(failed[0]["args"]["reason"]))
        return RouteResult(receipt=receipt, settled=True, failure_reason=None)

    def public_inputs_of(self, task_id: int, outputs: Sequence[int], last: Anchor) -> tuple[int, ...]:
        """What route() would hand the verifier now: outputs then ``domain.anchor.RECORD_INPUTS``."""
        return tuple(int(x) for x in self._call("publicInputsOf", task_id, list(outputs), last.timestamp, last.leaf))

    def task_settled_events(self, from_block: int, to_block: int | str) -> list[TaskSettledEvent]:
        return [
            TaskSettledEvent(
                task_id=TaskId(e["args"]["taskId"]),
                prover=Address(e["args"]["prover"]),
                position=position(e),
            )
            for e in self._logs("TaskSettled", from_block, to_block)
        ]

    def task_failed_events(self, from_block: int, to_block: int | str) -> list[TaskFailedEvent]:
        return [
            TaskFailedEvent(
                task_id=TaskId(e["args"]["taskId"]), reason=bytes(e["args"]["reason"]), position=position(e)
            )
            for e in self._logs("TaskFailed", from_block, to_block)
        ]
