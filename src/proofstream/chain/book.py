"""The pipeline's view of the chain (:mod:`proofstream.ports`) over the typed contract wrappers.

The sequencer's account assigns, the prover's account routes: the Router only accepts a route from the task's
assigned prover, so the two keys are kept apart even when one process holds both.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from eth_account.signers.local import LocalAccount

from proofstream.chain.client import ChainClient
from proofstream.chain.contracts.core import CoreContracts
from proofstream.chain.contracts.router import RouteCall, RouteResult
from proofstream.chain.contracts.tasks import TaskStatus as ChainStatus
from proofstream.domain.anchor import Anchor
from proofstream.domain.tasks import TaskCommitment, gas_shares
from proofstream.domain.tasks import task_id as task_id_of
from proofstream.domain.types import Address, ConfigVersion, ProjectId, TaskId
from proofstream.indexer.ports import DeviceDeactivation, DeviceRegistration, DeviceTransfer, TaskOutcome
from proofstream.ports import ChainTaskState, RouteRequest, TxOutcome

_STATES = {
    ChainStatus.NONE: ChainTaskState.UNKNOWN,
    ChainStatus.ASSIGNED: ChainTaskState.ASSIGNED,
    ChainStatus.SETTLED: ChainTaskState.SETTLED,
    ChainStatus.FAILED: ChainTaskState.FAILED,
    ChainStatus.EXPIRED: ChainTaskState.EXPIRED,
}


class ChainBook:
    """Implements TaskBook (:mod:`proofstream.ports`) and ChainEvents (:mod:`proofstream.indexer.ports`)."""

    def __init__(
        self, client: ChainClient, core: CoreContracts, *, sequencer: LocalAccount, prover: LocalAccount
    ) -> None:
        self._client = client
        self._core = core
        self._sequencer = sequencer
        self._prover = prover

    @property
    def chain_id(self) -> int:
        return self._client.chain_id

    @property
    def task_manager(self) -> Address:
        return self._core.tasks.address

    def assign(self, commitments: Sequence[TaskCommitment], deadline_blocks: int) -> TxOutcome:
        result = self._core.tasks.assign_tasks(commitments, deadline_blocks, sender=self._sequencer)
        return TxOutcome(result.receipt.tx_hash, result.receipt.gas_used)

    def state(self, task_id: TaskId) -> ChainTaskState:
        return _STATES[self._core.tasks.status_of(task_id)]

    def project_active(self, project: ProjectId) -> bool:
        return self._core.projects.is_active(project)

    def version_live(self, project: ProjectId, version: ConfigVersion) -> bool:
        return self._core.projects.is_live(project, version)

    def route(self, task_id: TaskId, outputs: Sequence[int], last: Anchor, proof: bytes) -> TxOutcome:
        (call,) = self._calls([RouteRequest(task_id, tuple(outputs), last, proof)])
        result = self._core.router.route_call(call, sender=self._prover)
        return self._outcome(result, result.receipt.gas_used)

    def route_batch(self, requests: Sequence[RouteRequest]) -> list[TxOutcome]:
        results = self._core.router.route_batch(self._calls(requests), sender=self._prover)
        shares = gas_shares(results[0].receipt.gas_used, len(results)) if results else []
        return [self._outcome(result, gas) for result, gas in zip(results, shares, strict=True)]

    def _calls(self, requests: Sequence[RouteRequest]) -> list[RouteCall]:
        """Each request with its record and the anchor it is proven against: the chain's, or the one the request
        before it (same device) leaves."""
        left: dict[tuple[int, str], Anchor] = {}
        calls = []
        for request in requests:
            call = self._core.router.call_for(request.task_id, request.outputs, request.last, request.proof)
            key = (call.record.project, call.record.device.lower())
            if key in left:
                call = replace(call, prev=left[key])
            left[key] = request.last
            calls.append(call)
        return calls

    def _outcome(self, result: RouteResult, gas: int) -> TxOutcome:
        """One task's outcome with its share ``gas`` of the transaction."""
        reason = None if result.failure_reason is None else self._reason(result.failure_reason)
        return TxOutcome(result.receipt.tx_hash, gas, settled=result.settled, reason=reason)

    def anchor(self, project: ProjectId, device: Address) -> Anchor:
        return self._core.tasks.anchor_of(project, device)

    def predecessor_pending(self, task_id: TaskId) -> bool:
        record = self._core.tasks.get_task(task_id)
        if record.previous_first_nonce is None:
            return False
        # The id is TaskManager's (domain.tasks.task_id, golden-tested against taskIdOf): no call to compute it.
        previous = task_id_of(
            self.chain_id, self.task_manager, record.project, record.device, record.previous_first_nonce
        )
        return self._core.tasks.get_task(previous).status is ChainStatus.ASSIGNED

    def overdue(self, task_id: TaskId) -> bool:
        record = self._core.tasks.get_task(task_id)
        return record.status is ChainStatus.ASSIGNED and self._client.block_number() > record.deadline

    def expire(self, task_id: TaskId) -> TxOutcome:
        receipt = self._core.tasks.expire(task_id, sender=self._sequencer)
        return TxOutcome(receipt.tx_hash, receipt.gas_used)

    def release(self, task_id: TaskId) -> TxOutcome:
        receipt = self._core.tasks.release(task_id, sender=self._prover)
        return TxOutcome(receipt.tx_hash, receipt.gas_used)

    def reassign(self, task_id: TaskId, deadline_blocks: int) -> TxOutcome:
        receipt = self._core.tasks.reassign(task_id, self._prover.address, deadline_blocks, sender=self._sequencer)
        return TxOutcome(receipt.tx_hash, receipt.gas_used)

    def latest_block(self) -> int:
        return self._client.block_number()

    def block_hash(self, number: int) -> str | None:
        return self._client.block_hash(number)

    def device_registrations(self, from_block: int, to_block: int) -> list[DeviceRegistration]:
        devices = self._core.devices
        # A BabyJubJub (P-256) registration emits BjjKeyRegistered (P256KeyRegistered) with its DeviceRegistered:
        # the key goes with it, and the device id (a hash of the key with its type's prefix) tells the type.
        keys = {
            (e.project, e.device): (int(e.ax), int(e.ay))
            for e in devices.bjj_key_registered_events(from_block, to_block)
        }
        keys.update(
            ((e.project, e.device), (e.x, e.y)) for e in devices.p256_key_registered_events(from_block, to_block)
        )
        return [
            DeviceRegistration(e.project, e.device, e.owner, e.position.block_number, keys.get((e.project, e.device)))
            for e in devices.device_registered_events(from_block, to_block)
        ]

    def device_deactivations(self, from_block: int, to_block: int) -> list[DeviceDeactivation]:
        return [
            DeviceDeactivation(e.project, e.device, e.position.block_number)
            for e in self._core.devices.device_deactivated_events(from_block, to_block)
        ]

    def device_transfers(self, from_block: int, to_block: int) -> list[DeviceTransfer]:
        return [
            DeviceTransfer(e.project, e.device, e.owner, e.position.block_number, e.position.log_index)
            for e in self._core.devices.device_transferred_events(from_block, to_block)
        ]

    def task_outcomes(self, from_block: int, to_block: int) -> list[TaskOutcome]:
        settled = [
            TaskOutcome(e.task_id, True, e.position.tx_hash, e.position.block_number)
            for e in self._core.router.task_settled_events(from_block, to_block)
        ]
        failed = [
            TaskOutcome(e.task_id, False, e.position.tx_hash, e.position.block_number, self._reason(e.reason))
            for e in self._core.router.task_failed_events(from_block, to_block)
        ]
        return sorted(settled + failed, key=lambda o: o.block)

    def _reason(self, data: bytes) -> str:
        """A DApp's revert data as text: the Error(string) message, a decoded custom error, or hex."""
        name, args = self._client.decode_error(data)
        if name == "Error" and args:
            return str(args[0])
        return f"{name}{args}" if name else "0x" + data.hex()
