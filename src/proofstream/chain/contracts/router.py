"""Router: a task's outputs and proof go to the project's verifier, then the task settles and the DApp runs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Self

from eth_account.signers.local import LocalAccount

from proofstream.chain.client import ChainClient, Receipt
from proofstream.chain.contracts._wrapper import Wrapper, position
from proofstream.chain.contracts.events import TaskFailedEvent, TaskSettledEvent
from proofstream.chain.contracts.tasks import TaskManager, TaskRecord, anchor_tuple
from proofstream.chain.solc import CompilationResult
from proofstream.domain.anchor import Anchor
from proofstream.domain.types import Address, TaskId

DAPP_GAS = 500_000
"""Router.DAPP_GAS: the gas every IDapp.process call gets, exactly (the route reverts when it cannot forward it)."""

ROUTE_GAS = 1_600_000
"""Gas limit of a route() transaction. Explicit, never estimated: a snarkjs verifier that runs short of gas in
its pairing check returns false instead of reverting. Groth16 verification with 16 public inputs, the settlement
and the anchor take about 450k, the DApp's budget DAPP_GAS * 64/63 and the Router after it 60k: this leaves a
margin of some 580k."""

BATCH_GAS_PER_TASK = 250_000
"""What routeBatch's gas limit adds per task over ROUTE_GAS: a task's share of the batched check (one pairing, two
ECMULs), its settlement and its DApp call take some 100k; the Router needs DAPP_GAS * 64/63 + 60k left before each
DApp call, which ROUTE_GAS covers."""


MAX_BATCH_GAS = 16_000_000
"""The most gas a routeBatch transaction is given: below the 2^24 cap on one transaction's gas (EIP-7825, Osaka). A
batch of 64 tasks uses some 10M."""


@dataclass(frozen=True)
class RouteCall:
    """One task of a route: its record and the anchor its proof was made against (as TaskManager holds them), the
    outputs, the anchor it leaves, and the proof."""

    record: TaskRecord
    prev: Anchor
    outputs: tuple[int, ...]
    last: Anchor
    proof: bytes

    def as_tuple(self) -> tuple[object, ...]:
        """Router.Route (without the proof, which routeBatch takes concatenated)."""
        return (
            self.record.as_tuple(),
            list(self.outputs),
            anchor_tuple(self.prev),
            self.last.timestamp,
            self.last.leaf,
        )


@dataclass(frozen=True)
class RouteResult:
    receipt: Receipt
    settled: bool
    """True when the DApp processed the result; False when it reverted and the task ended Failed."""
    failure_reason: bytes | None
    """The DApp's revert data when it failed."""


class Router(Wrapper):
    """The Router's wrapper; it reads task records and anchors through the TaskManager it routes for."""

    CONTRACT = "Router"

    def __init__(self, client: ChainClient, address: str, abi: Sequence[Mapping[str, Any]], tasks: TaskManager) -> None:
        super().__init__(client, address, abi)
        self.tasks = tasks

    @classmethod
    def at(cls, client: ChainClient, address: str, compilation: CompilationResult) -> Self:
        router = cls.__new__(cls)
        Wrapper.__init__(router, client, address, compilation.artifact(cls.CONTRACT).abi)
        router.tasks = TaskManager.at(client, str(router._call("taskManager")), compilation)
        return router

    def call_for(self, task_id: int, outputs: Sequence[int], last: Anchor, proof: bytes) -> RouteCall:
        """The route of task ``task_id`` against its device's anchor as the chain holds it now."""
        record = self.tasks.known_record(task_id, "route", "TaskNotAssigned")
        prev = self.tasks.anchor_of(record.project, record.device)
        return RouteCall(record, prev, tuple(outputs), last, proof)

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
        ``sender`` must be the task's prover. The record and the anchor come from the chain (call_for).

        A reverting DApp does not make this raise: the result says ``settled=False`` with the DApp's reason.
        """
        return self.route_call(self.call_for(task_id, outputs, last, proof), sender=sender, gas=gas)

    def route_call(self, call: RouteCall, *, sender: LocalAccount | None = None, gas: int = ROUTE_GAS) -> RouteResult:
        """route() with the record and anchor given."""
        receipt = self._send("route", *call.as_tuple(), call.proof, sender=sender, gas=gas)
        return self._outcomes(receipt, [call])[0]

    def route_batch(
        self, calls: Sequence[RouteCall], *, sender: LocalAccount | None = None, gas: int | None = None
    ) -> list[RouteResult]:
        """Route ``calls`` in one transaction with one batched check of their proofs (all under one verifier);
        one result per call, in order. Reverts (InvalidBatch) when any proof is bad: none settles then."""
        limit = gas if gas is not None else min(ROUTE_GAS + BATCH_GAS_PER_TASK * len(calls), MAX_BATCH_GAS)
        proofs = b"".join(c.proof for c in calls)
        receipt = self._send("routeBatch", [c.as_tuple() for c in calls], proofs, sender=sender, gas=limit)
        return self._outcomes(receipt, calls)

    def _outcomes(self, receipt: Receipt, calls: Sequence[RouteCall]) -> list[RouteResult]:
        failed = {
            int(e["args"]["taskId"]): bytes(e["args"]["reason"]) for e in self._receipt_events("TaskFailed", receipt)
        }
        return [
            RouteResult(
                receipt=receipt, settled=c.record.task_id not in failed, failure_reason=failed.get(c.record.task_id)
            )
            for c in calls
        ]

    def public_inputs_of(self, task_id: int, outputs: Sequence[int], last: Anchor) -> tuple[int, ...]:
        """What route() would hand the verifier now: outputs then ``domain.anchor.RECORD_INPUTS``."""
        answer = self._call("publicInputsOf", *self.call_for(task_id, outputs, last, b"").as_tuple())
        return tuple(int(x) for x in answer)

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
