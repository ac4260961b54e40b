"""In-memory fakes of the chain ports, for the roles' unit tests.

Each keeps the rules of the contracts that a role can observe through its port (task states, nonce ranges,
deadlines counted in blocks, predecessors, anchors per project and device), so a role tested against a fake
meets the chain it will meet for real; tests/ports runs the same conformance suite against each fake and its
real adapter. Besides that, each has knobs a test turns to make the chain do what a role must survive (a refused
transaction, a pause, a predecessor still pending), and records of what it was asked to do.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from testbed import CHAIN_ID, TASK_MANAGER  # the fakes' chain and TaskManager: part of every task id

from proofstream.attester.ports import AttestVersion, ChainTask
from proofstream.domain.anchor import NO_ANCHOR, Anchor
from proofstream.domain.tasks import TaskCommitment, gas_shares, task_id
from proofstream.domain.types import Address, ConfigVersion, Nonce, ProjectId, TaskId
from proofstream.errors import ChainError, TransactionRevertedError
from proofstream.indexer.ports import DeviceDeactivation, DeviceRegistration, DeviceTransfer, TaskOutcome
from proofstream.ports import ChainTaskState, RouteRequest, TxOutcome

DeviceSlot = tuple[ProjectId, str]
"""(project, lower-case device address): what TaskManager keeps nonce ranges and anchors per."""


def _key(project: ProjectId, device: str) -> DeviceSlot:
    return ProjectId(project), device.lower()


def _revert(function: str, error: str) -> TransactionRevertedError:
    """The error ChainClient raises when a call reverts with the custom error ``error``."""
    return TransactionRevertedError(f"{function} reverted: {error}", error_name=error)


@dataclass
class _Task:
    commitment: TaskCommitment
    deadline: int
    previous: TaskId | None


class FakeBook:
    """TaskManager + Router behind the TaskBook port (:mod:`proofstream.ports`)."""

    chain_id = CHAIN_ID
    task_manager = TASK_MANAGER

    def __init__(self) -> None:
        self.block = 1
        """The latest block; every transaction that goes through mines one, as anvil does."""
        self.states: dict[int, ChainTaskState] = {}
        """Each task's state; a test may also set one, as if a transaction it did not see had landed."""
        self.anchors: dict[DeviceSlot, Anchor] = {}
        """The anchors routes left (or a test set) per :data:`DeviceSlot`."""
        self._tasks: dict[int, _Task] = {}
        self._last: dict[DeviceSlot, tuple[TaskId, Nonce]] = {}
        # knobs
        self.refuse_device: str | None = None
        """Every assignment that holds this device reverts (NonceAlreadyAssigned)."""
        self.active = True
        self.live_versions = {ConfigVersion(1)}
        self.pending: set[int] = set()
        """Tasks whose predecessor the test says is still assigned, beyond what the fake's own records show."""
        self.refusal: str | None = None
        """The Router error the next route reverts with, once."""
        self.bad_proofs: set[bytes] = set()
        """Proofs that do not verify: route reverts InvalidProof, a batch that holds one InvalidBatch."""
        self.refusing_dapps: dict[ProjectId, str] = {}
        """Projects whose DApp reverts (with this reason) on every result: the route goes through, the task ends
        failed, and its anchor moves all the same (the proof verified)."""
        # records
        self.assigned: list[list[TaskCommitment]] = []
        self.routed: list[int] = []
        self.batches: list[list[TaskId]] = []
        """The task ids of each routeBatch that went through."""
        self.expired: list[int] = []
        self.released: list[int] = []
        self.reassigned: list[int] = []
        self.liveness_queries = 0

    def mine(self, blocks: int = 1) -> None:
        self.block += blocks

    def assign(self, commitments: Sequence[TaskCommitment], deadline_blocks: int) -> TxOutcome:
        if deadline_blocks <= 0:
            raise _revert("assignTasks", "ZeroDeadline")
        if not self.active:
            raise _revert("assignTasks", "ProjectNotActive")
        deadline = self.block + 1 + deadline_blocks
        tasks: dict[int, _Task] = {}
        last = dict(self._last)
        for c in commitments:  # all or nothing, as one transaction
            if c.device == self.refuse_device:
                raise _revert("assignTasks", "NonceAlreadyAssigned")
            if c.config not in self.live_versions:
                raise _revert("assignTasks", "VersionNotLive")
            if c.first_nonce > c.last_nonce:
                raise _revert("assignTasks", "BadNonceRange")
            key = _key(c.project, c.device)
            previous = last.get(key)
            if previous is not None and c.first_nonce <= previous[1]:
                raise _revert("assignTasks", "NonceAlreadyAssigned")
            tid = task_id(self.chain_id, self.task_manager, c.project, c.device, c.first_nonce)
            if tid in self.states:
                raise _revert("assignTasks", "TaskExists")
            tasks[tid] = _Task(c, deadline, None if previous is None else previous[0])
            last[key] = (tid, c.last_nonce)
        self._tasks.update(tasks)
        self._last = last
        self.states.update(dict.fromkeys(tasks, ChainTaskState.ASSIGNED))
        self.block += 1
        self.assigned.append(list(commitments))
        return TxOutcome(f"0xassign{len(self.assigned)}", 100_000 * len(commitments))

    def state(self, task_id: TaskId) -> ChainTaskState:
        return self.states.get(task_id, ChainTaskState.UNKNOWN)

    def project_active(self, project: ProjectId) -> bool:
        return self.active

    def version_live(self, project: ProjectId, version: ConfigVersion) -> bool:
        self.liveness_queries += 1
        return version in self.live_versions

    def route(self, task_id: TaskId, outputs: Sequence[int], last: Anchor, proof: bytes) -> TxOutcome:
        outcome = self._route("route", task_id, last, proof, "InvalidProof")
        self.block += 1
        return outcome

    def route_batch(self, requests: Sequence[RouteRequest]) -> list[TxOutcome]:
        # All or nothing, as one transaction: a refusal or a bad proof anywhere leaves nothing routed.
        saved = (dict(self.states), dict(self.anchors), list(self.routed))
        try:
            outcomes = [self._route("routeBatch", r.task_id, r.last, r.proof, "InvalidBatch") for r in requests]
        except TransactionRevertedError:
            self.states, self.anchors, self.routed = saved
            raise
        self.block += 1
        self.batches.append([r.task_id for r in requests])
        shares = gas_shares(sum(o.gas_used for o in outcomes), len(outcomes))
        return [
            replace(o, tx_hash=f"0xbatch{len(self.batches)}", gas_used=g) for o, g in zip(outcomes, shares, strict=True)
        ]

    def _route(self, function: str, task_id: TaskId, last: Anchor, proof: bytes, invalid: str) -> TxOutcome:
        # In the Router's order of checks.
        if self.state(task_id) is not ChainTaskState.ASSIGNED:
            raise _revert(function, "TaskNotAssigned")
        task = self._tasks.get(task_id)
        if task is not None and self.block + 1 > task.deadline:
            raise _revert(function, "DeadlinePassed")
        if not self.active:
            raise _revert(function, "ProjectNotActive")
        if self.predecessor_pending(task_id):
            raise _revert(function, "PredecessorPending")
        if self.refusal is not None:
            name, self.refusal = self.refusal, None
            raise _revert(function, name)
        if proof in self.bad_proofs:
            raise _revert(function, invalid)
        if task is not None:
            key = _key(task.commitment.project, task.commitment.device)
            if last.timestamp <= self.anchors.get(key, NO_ANCHOR).timestamp:
                raise _revert(function, "AnchorNotAdvanced")
            self.anchors[key] = Anchor(last.timestamp, last.leaf, task.commitment.config)
        refused = None if task is None else self.refusing_dapps.get(task.commitment.project)
        self.states[task_id] = ChainTaskState.SETTLED if refused is None else ChainTaskState.FAILED
        self.routed.append(task_id)
        return TxOutcome("0xroute", 300_000, settled=refused is None, reason=refused)

    def anchor(self, project: ProjectId, device: Address) -> Anchor:
        return self.anchors.get(_key(project, device), NO_ANCHOR)

    def predecessor_pending(self, task_id: TaskId) -> bool:
        task = self._tasks.get(task_id)
        previous = None if task is None else task.previous
        return task_id in self.pending or (previous is not None and self.state(previous) is ChainTaskState.ASSIGNED)

    def overdue(self, task_id: TaskId) -> bool:
        task = self._tasks.get(task_id)
        return self.state(task_id) is ChainTaskState.ASSIGNED and task is not None and self.block > task.deadline

    def expire(self, task_id: TaskId) -> TxOutcome:
        if self.state(task_id) is not ChainTaskState.ASSIGNED:
            raise _revert("expire", "BadStatus")
        task = self._tasks.get(task_id)
        if task is not None and self.block + 1 <= task.deadline:
            raise _revert("expire", "DeadlineNotPassed")
        self.states[task_id] = ChainTaskState.EXPIRED
        self.block += 1
        self.expired.append(task_id)
        return TxOutcome("0xexpire", 30_000)

    def release(self, task_id: TaskId) -> TxOutcome:
        if self.state(task_id) is not ChainTaskState.ASSIGNED:
            raise _revert("release", "BadStatus")
        self.states[task_id] = ChainTaskState.EXPIRED
        self.block += 1
        self.released.append(task_id)
        return TxOutcome("0xrelease", 30_000)

    def reassign(self, task_id: TaskId, deadline_blocks: int) -> TxOutcome:
        if self.state(task_id) is not ChainTaskState.EXPIRED:
            raise _revert("reassign", "BadStatus")
        if deadline_blocks <= 0:
            raise _revert("reassign", "ZeroDeadline")
        if not self.active:
            raise _revert("reassign", "ProjectNotActive")
        if task_id in self._tasks:
            self._tasks[task_id].deadline = self.block + 1 + deadline_blocks
        self.states[task_id] = ChainTaskState.ASSIGNED
        self.block += 1
        self.reassigned.append(task_id)
        return TxOutcome("0xreassign", 40_000)


class FakeEvents:
    """The indexer's event source (:class:`proofstream.indexer.ports.ChainEvents`): events a test appends, in
    chain order, each at its block."""

    def __init__(self, block: int = 10) -> None:
        self.block = block
        """The latest block."""
        self.registered: list[DeviceRegistration] = []
        self.deactivated: list[DeviceDeactivation] = []
        self.transfers: list[DeviceTransfer] = []
        self.outcomes: list[TaskOutcome] = []
        self._forks: list[int] = []
        """The block each reorganisation kept (the blocks after it were replaced), in the order they happened."""

    def latest_block(self) -> int:
        return self.block

    def block_hash(self, number: int) -> str | None:
        if number > self.block:
            return None
        # A block's hash names the fork it was mined on: the last reorganisation that replaced it.
        fork = max((i + 1 for i, kept in enumerate(self._forks) if kept < number), default=0)
        return f"0x{fork:032x}{number:032x}"

    def reorg(self, kept: int) -> None:
        """The chain drops the blocks after ``kept``, and their events; the test then adds the new chain's."""
        self._forks.append(kept)
        self.block = kept
        self.registered = [r for r in self.registered if r.block <= kept]
        self.deactivated = [d for d in self.deactivated if d.block <= kept]
        self.transfers = [t for t in self.transfers if t.block <= kept]
        self.outcomes = [o for o in self.outcomes if o.block <= kept]

    def device_registrations(self, from_block: int, to_block: int) -> list[DeviceRegistration]:
        self._check_range(to_block)
        return [r for r in self.registered if from_block <= r.block <= to_block]

    def device_deactivations(self, from_block: int, to_block: int) -> list[DeviceDeactivation]:
        self._check_range(to_block)
        return [d for d in self.deactivated if from_block <= d.block <= to_block]

    def device_transfers(self, from_block: int, to_block: int) -> list[DeviceTransfer]:
        self._check_range(to_block)
        return [t for t in self.transfers if from_block <= t.block <= to_block]

    def task_outcomes(self, from_block: int, to_block: int) -> list[TaskOutcome]:
        self._check_range(to_block)
        return sorted((o for o in self.outcomes if from_block <= o.block <= to_block), key=lambda o: o.block)

    def _check_range(self, to_block: int) -> None:
        if to_block > self.block:  # stricter than anvil, which refuses only a range that starts past its head
            raise ChainError(f"eth_getLogs failed: block height is {self.block} but requested was {to_block}")


class FakeAttesterChain:
    """The attester's view of a deployment (:class:`proofstream.attester.ports.AttesterChain`)."""

    def __init__(self, attester: Address, *, router: Address, device_registry: Address) -> None:
        self.attester = attester
        self.chain_id = CHAIN_ID
        self.router = router
        self.device_registry = device_registry
        self.tasks: dict[TaskId, ChainTask] = {}
        """The tasks on chain, in the order they were assigned."""
        self.versions: dict[tuple[ProjectId, ConfigVersion], AttestVersion] = {}
        self.anchors: dict[DeviceSlot, Anchor] = {}
        self.pending: set[int] = set()
        """Tasks whose predecessor the test says is still assigned, beyond what the fake's own records show."""
        self.registered = False
        self.registrations = 0
        """How many times ensure_registered registered the attester: once at most."""
        self.version_lookups = 0

    def put_task(self, task: ChainTask) -> None:
        """Record a task as TaskManager would have it (assigned, or final when ``task.assigned`` is False)."""
        self.tasks[task.task_id] = task

    def settle(self, task_id: TaskId, last: Anchor) -> None:
        """What a route does: the task is no longer assigned, and its last message is the device's anchor."""
        task = self.tasks[task_id]
        self.tasks[task_id] = replace(task, assigned=False)
        self.anchors[_key(task.project, task.device)] = replace(last, config=task.config)

    def task(self, task_id: TaskId) -> ChainTask | None:
        return self.tasks.get(task_id)

    def anchor(self, project: ProjectId, device: Address) -> Anchor:
        return self.anchors.get(_key(project, device), NO_ANCHOR)

    def predecessor_pending(self, task_id: TaskId) -> bool:
        if task_id in self.pending:
            return True
        task = self.tasks.get(task_id)
        if task is None:
            return False
        before = [
            t
            for t in self.tasks.values()
            if _key(t.project, t.device) == _key(task.project, task.device) and t.last_nonce < task.first_nonce
        ]
        return bool(before) and max(before, key=lambda t: t.last_nonce).assigned

    def version(self, project: ProjectId, config: ConfigVersion) -> AttestVersion | None:
        self.version_lookups += 1
        return self.versions.get((project, config))

    def ensure_registered(self) -> bool:
        if self.registered:
            return False
        self.registered = True
        self.registrations += 1
        return True
