"""TaskManager: tasks assigned with their commitments, their deadlines, expiry, release and reassignment.

TaskManager stores only a hash of each task record and of each device's anchor: the wrapper reads the fields from
the events that carry them (TaskAssigned and the latest TaskReassigned; the latest AnchorAdvanced) and checks them
against the stored hashes (``recordMatches``, ``anchorHashOf``), so what it returns is what the chain holds."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

from eth_abi.abi import encode
from eth_account.signers.local import LocalAccount
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from proofstream.chain.client import Receipt
from proofstream.chain.contracts._wrapper import Wrapper, address_or_none, position
from proofstream.chain.contracts.events import TaskAssignedEvent
from proofstream.domain.anchor import Anchor
from proofstream.domain.tasks import TaskCommitment
from proofstream.domain.types import Address, ConfigVersion, FieldElement, Nonce, ProjectId, TaskId
from proofstream.errors import ChainError, TransactionRevertedError


class TaskStatus(enum.IntEnum):
    """TaskManager.Status, same numbering."""

    NONE = 0
    ASSIGNED = 1
    SETTLED = 2
    FAILED = 3
    EXPIRED = 4
    """Its deadline passed unrouted and someone called ``expire``: the sequencer may reassign it."""


TaskCommitment = TaskCommitment
"""One task to assign (TaskManager.TaskInput): the pipeline's TaskCommitment, field for field."""


@dataclass(frozen=True, kw_only=True)
class TaskRecord(TaskCommitment):
    """A task as TaskManager stores it: its commitment, then where it stands."""

    task_id: TaskId
    deadline: int
    """Last block number in which route() is accepted."""
    status: TaskStatus
    previous_first_nonce: Nonce | None = None
    """First nonce of the device's task assigned right before this one (None for its first task)."""

    def as_tuple(self) -> tuple[object, ...]:
        """TaskManager.Task, the record the Router and TaskManager take in calldata (its hash is stored)."""
        return record_tuple(self)


def record_tuple(record: TaskRecord) -> tuple[object, ...]:
    """TaskManager.Task: (project, configVersion, device, firstNonce, lastNonce, root, prover, deadline,
    prevFirstNonce, hasPrev)."""
    previous = record.previous_first_nonce
    return (
        record.project,
        record.config,
        to_checksum_address(record.device),
        record.first_nonce,
        record.last_nonce,
        record.root,
        to_checksum_address(record.prover),
        record.deadline,
        previous or 0,
        previous is not None,
    )


def anchor_tuple(anchor: Anchor) -> tuple[int, int, int]:
    """TaskManager.Anchor: (timestamp, configVersion, leaf)."""
    return (anchor.timestamp, anchor.config, anchor.leaf)


def anchor_hash(anchor: Anchor) -> bytes:
    """What TaskManager stores for ``anchor``: keccak256(abi.encode(Anchor)), 32 zero bytes for none."""
    if anchor == Anchor():
        return bytes(32)
    return keccak(encode(["uint64", "uint32", "uint256"], list(anchor_tuple(anchor))))


@dataclass(frozen=True)
class AssignResult:
    task_ids: tuple[TaskId, ...]
    """In the order the assignments were given."""
    receipt: Receipt


class TaskManager(Wrapper):
    CONTRACT = "TaskManager"

    first_block = 0
    """The block the deployment began in: records and anchors are looked up in the events from there on
    (``chain.deploy.attach_core`` sets it)."""

    def set_router(self, router: str, *, sender: LocalAccount | None = None) -> Receipt:
        return self._send("setRouter", router, sender=sender)

    def router(self) -> Address | None:
        return address_or_none(self._call("router"))

    def assign_tasks(
        self,
        tasks: Sequence[TaskCommitment],
        deadline_blocks: int,
        *,
        sender: LocalAccount | None = None,
        gas: int | None = None,
    ) -> AssignResult:
        """Assign ``tasks`` in one transaction; ``sender`` must be their projects' sequencer."""
        inputs = [
            (
                t.project,
                t.config,
                to_checksum_address(t.device),
                t.first_nonce,
                t.last_nonce,
                t.root,
                to_checksum_address(t.prover),
            )
            for t in tasks
        ]
        receipt = self._send("assignTasks", inputs, deadline_blocks, sender=sender, gas=gas)
        ids = tuple(TaskId(int(e["args"]["taskId"])) for e in self._receipt_events("TaskAssigned", receipt))
        return AssignResult(task_ids=ids, receipt=receipt)

    def status_of(self, task_id: int) -> TaskStatus:
        return TaskStatus(int(self._call("statusOf", task_id)))

    def get_task(self, task_id: int) -> TaskRecord:
        """The task's record from its TaskAssigned (and latest TaskReassigned) event, checked against the stored
        hash with ``recordMatches``; ChainError when the chain has no such task or the events do not match."""
        topics = {"taskId": task_id}
        assigned = self._client.get_logs(self._event("TaskAssigned"), self.first_block, "latest", topics)
        if not assigned:
            raise ChainError(f"TaskManager {self.address} has no task {task_id}")
        a = assigned[-1]["args"]
        prover, deadline = Address(a["prover"]), int(a["deadline"])
        reassigned = self._client.get_logs(self._event("TaskReassigned"), self.first_block, "latest", topics)
        if reassigned:
            prover, deadline = Address(reassigned[-1]["args"]["prover"]), int(reassigned[-1]["args"]["deadline"])
        record = TaskRecord(
            task_id=TaskId(task_id),
            device=Address(a["device"]),
            project=ProjectId(a["project"]),
            config=ConfigVersion(a["configVersion"]),
            prover=prover,
            first_nonce=Nonce(a["firstNonce"]),
            status=self.status_of(task_id),
            last_nonce=Nonce(a["lastNonce"]),
            deadline=deadline,
            previous_first_nonce=Nonce(a["prevFirstNonce"]) if a["hasPrev"] else None,
            root=FieldElement(a["root"]),
        )
        if not self.record_matches(record):
            raise ChainError(f"task {task_id}: its events do not match the record hash TaskManager holds")
        return record

    def record_matches(self, record: TaskRecord) -> bool:
        """TaskManager.recordMatches: whether ``record`` is the one stored for its task id."""
        return bool(self._call("recordMatches", record.task_id, record.as_tuple()))

    def anchor_hash_of(self, project: int, device: str) -> bytes:
        return bytes(self._call("anchorHashOf", project, to_checksum_address(device)))

    def anchor_of(self, project: int, device: str) -> Anchor:
        """The anchor the next task of (project, device) is proven against: the latest AnchorAdvanced, checked
        against ``anchorHashOf`` (NO_ANCHOR before the first verified task)."""
        stored = self.anchor_hash_of(project, device)
        if stored == bytes(32):
            return Anchor()
        topics = {"project": project, "device": to_checksum_address(device)}
        events = self._client.get_logs(self._event("AnchorAdvanced"), self.first_block, "latest", topics)
        if events:
            a = events[-1]["args"]
            anchor = Anchor(int(a["timestamp"]), int(a["leaf"]), int(a["configVersion"]))
            if anchor_hash(anchor) == stored:
                return anchor
        raise ChainError(f"the anchor of device {device} in project {project} is not the last AnchorAdvanced")

    def known_record(self, task_id: int, function: str, error: str) -> TaskRecord:
        """get_task for a call of ``function`` that takes the record; for an unknown task, the refusal the contract
        would revert with (``error`` with status None), without sending anything."""
        if self.status_of(task_id) is TaskStatus.NONE:
            raise TransactionRevertedError(
                f"{self.CONTRACT}.{function} reverted: {error}({task_id}, 0)",
                error_name=error,
                error_args=(task_id, TaskStatus.NONE),
            )
        return self.get_task(task_id)

    def expire(self, task_id: int, *, sender: LocalAccount | None = None) -> Receipt:
        """Anyone: end an Assigned task whose deadline has passed."""
        return self._send("expire", self.known_record(task_id, "expire", "BadStatus").as_tuple(), sender=sender)

    def release(self, task_id: int, *, sender: LocalAccount | None = None) -> Receipt:
        """The task's prover: give up an Assigned task before its deadline (it ends Expired)."""
        return self._send("release", self.known_record(task_id, "release", "BadStatus").as_tuple(), sender=sender)

    def reassign(
        self, task_id: int, prover: str, deadline_blocks: int, *, sender: LocalAccount | None = None
    ) -> Receipt:
        """The project's sequencer: give an Expired task to ``prover`` with a fresh deadline."""
        record = self.known_record(task_id, "reassign", "BadStatus").as_tuple()
        return self._send("reassign", record, to_checksum_address(prover), deadline_blocks, sender=sender)

    def task_id_of(self, project: int, device: str, first_nonce: int) -> TaskId:
        return TaskId(int(self._call("taskIdOf", project, to_checksum_address(device), first_nonce)))

    def next_nonce_of(self, project: int, device: str) -> Nonce:
        """Lowest first nonce the next task of (project, device) may have."""
        return Nonce(int(self._call("nextNonceOf", project, to_checksum_address(device))))

    def task_assigned_events(self, from_block: int, to_block: int | str) -> list[TaskAssignedEvent]:
        return [
            TaskAssignedEvent(
                task_id=TaskId(a["taskId"]),
                project=ProjectId(a["project"]),
                device=Address(a["device"]),
                prover=Address(a["prover"]),
                root=FieldElement(a["root"]),
                first_nonce=Nonce(a["firstNonce"]),
                last_nonce=Nonce(a["lastNonce"]),
                config=ConfigVersion(a["configVersion"]),
                deadline=int(a["deadline"]),
                previous_first_nonce=Nonce(a["prevFirstNonce"]) if a["hasPrev"] else None,
                position=position(e),
            )
            for e in self._logs("TaskAssigned", from_block, to_block)
            for a in (e["args"],)
        ]
