"""TaskManager: tasks assigned with their commitments, their deadlines, expiry, release and reassignment."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

from eth_account.signers.local import LocalAccount
from eth_utils.address import to_checksum_address

from proofstream.chain.client import Receipt
from proofstream.chain.contracts._wrapper import Wrapper, address_or_none, position
from proofstream.chain.contracts.events import TaskAssignedEvent
from proofstream.domain.anchor import Anchor
from proofstream.domain.tasks import TaskCommitment
from proofstream.domain.types import Address, ConfigVersion, FieldElement, Nonce, ProjectId, TaskId


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


@dataclass(frozen=True)
class AssignResult:
    task_ids: tuple[TaskId, ...]
    """In the order the assignments were given."""
    receipt: Receipt


class TaskManager(Wrapper):
    CONTRACT = "TaskManager"

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

    def get_task(self, task_id: int) -> TaskRecord:
        t = self._call("getTask", task_id)
        # Solidity field order: device, project, configVersion, prover, firstNonce, status, lastNonce,
        # deadline, prevFirstNonce, hasPrev, root
        return TaskRecord(
            task_id=TaskId(task_id),
            device=Address(t[0]),
            project=ProjectId(t[1]),
            config=ConfigVersion(t[2]),
            prover=Address(t[3]),
            first_nonce=Nonce(t[4]),
            status=TaskStatus(t[5]),
            last_nonce=Nonce(t[6]),
            deadline=int(t[7]),
            previous_first_nonce=Nonce(t[8]) if t[9] else None,
            root=FieldElement(t[10]),
        )

    def anchor_of(self, project: int, device: str) -> Anchor:
        """The anchor the next task of (project, device) is proven against."""
        timestamp, config, leaf = self._call("anchorOf", project, to_checksum_address(device))
        return Anchor(int(timestamp), int(leaf), int(config))

    def expire(self, task_id: int, *, sender: LocalAccount | None = None) -> Receipt:
        """Anyone: end an Assigned task whose deadline has passed."""
        return self._send("expire", task_id, sender=sender)

    def release(self, task_id: int, *, sender: LocalAccount | None = None) -> Receipt:
        """The task's prover: give up an Assigned task before its deadline (it ends Expired)."""
        return self._send("release", task_id, sender=sender)

    def reassign(
        self, task_id: int, prover: str, deadline_blocks: int, *, sender: LocalAccount | None = None
    ) -> Receipt:
        """The project's sequencer: give an Expired task to ``prover`` with a fresh deadline."""
        return self._send("reassign", task_id, to_checksum_address(prover), deadline_blocks, sender=sender)

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
                position=position(e),
            )
            for e in self._logs("TaskAssigned", from_block, to_block)
            for a in (e["args"],)
        ]
