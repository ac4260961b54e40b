"""The store port: what the gateway, sequencer, prover and submitter need from durable storage.

The SQLite adapter (``store.sqlite``, the embedded default) and the PostgreSQL adapter (``store.postgres``, for many
processes sharing one store) implement it, with the same queries (``store.sql``). Every adapter must pass the same
conformance suite (``tests/store/store_conformance.py``, run on each adapter by
``tests/store/test_store_conformance.py``). The port speaks in domain types only; how an
adapter lays out its tables (e.g. uint64 columns) is its own business.

A message's status is not stored on the message: it is ``received`` until the message is in a task, and then
whatever its task's status is. One task update thus moves every message in it at once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any, Literal, Protocol

from proofstream.domain.anchor import Anchor
from proofstream.domain.eip712 import Domain
from proofstream.domain.messages import DeviceMessage
from proofstream.domain.schema import Schema
from proofstream.domain.tasks import TaskCommitment, TaskStatus
from proofstream.domain.types import (
    Address,
    ConfigVersion,
    FieldElement,
    MessageId,
    Nonce,
    ProjectId,
    TaskId,
    Timestamp,
)
from proofstream.errors import StoreError

RECEIVED: Literal["received"] = "received"
"""Status of a stored message that is not in a task yet."""

MessageStatus = Literal["received"] | TaskStatus
"""``received`` or the status of the message's task."""


@dataclass(frozen=True)
class ProjectConfig:
    """What the gateway must know of a (project, config version) to admit its messages."""

    project: ProjectId
    config: ConfigVersion
    schema: Schema
    domain: Domain
    """The EIP-712 domain devices sign under (chain id + DeviceRegistry address)."""


@dataclass(frozen=True)
class PutResult:
    message_id: MessageId
    created: bool
    """False when the very same message (same id) was already stored: a re-send, not an error."""


@dataclass(frozen=True)
class NewMessage:
    """A verified message and its id, as the gateway hands it to :meth:`Store.put_messages`."""

    message: DeviceMessage
    id: MessageId
    envelope: str | None = None
    """What the device signed when that is not the message's own digest (a W3bStream message: its request and
    signature, ``domain.w3bstream.envelope``), kept so that anyone can check the signature again."""


PutOutcome = PutResult | StoreError
"""What :meth:`Store.put_messages` answers per item: stored (or already stored), or why it was refused."""


@dataclass(frozen=True)
class StoredMessage:
    id: MessageId
    message: DeviceMessage
    received_at: float
    """Gateway clock, unix seconds."""
    status: MessageStatus
    task_id: TaskId | None = None
    leaf_index: int | None = None
    """Slot of the message in its task's Merkle tree."""
    root: int | None = None
    """Merkle root of the message's task."""
    reason: str | None = None
    """Why the message's task failed, when it did."""
    tx_hash: str | None = None
    """The route transaction of the message's task, once sent."""
    envelope: str | None = None
    """What the device signed, for a message that came in another format (``NewMessage.envelope``)."""


@dataclass(frozen=True)
class StoredProof:
    """A task's proof as the prover stores it for the submitter, whatever the backend made it.

    The anchors are kept apart from the public signals because the submitter needs them without knowing the
    project's layout (how many outputs, whether signing inputs follow the record)."""

    backend: str
    """The proof system that made it (``groth16``, ``attest``)."""
    outputs: tuple[int, ...]
    """What the project's logic computed: the first public signals, handed to the DApp with the route."""
    calldata: bytes
    """What the Router passes the verifier: a Groth16 proof, or the attesters' packed signatures."""
    public_signals: tuple[int, ...]
    """Every public input in the circuit's order: the outputs, the record inputs, then any signing inputs."""
    prev_time: int
    prev_leaf: int
    """The anchor the proof was made against (its prevTime and prevLeaf inputs): it is routed only while the chain
    still holds that anchor."""
    last_time: int
    last_leaf: int
    """The anchor the proof leaves (its lastTime and lastLeaf inputs), which the Router is handed with it."""

    def made_against(self, anchor: Anchor, config: ConfigVersion) -> bool:
        """Whether the chain's ``anchor`` is the one this proof of a task under ``config`` was made against (the
        Router builds prevTime and prevLeaf from it)."""
        return (self.prev_time, self.prev_leaf) == (anchor.timestamp, anchor.prev_leaf(config))

    def next_anchor(self, config: ConfigVersion) -> Anchor:
        """The anchor the device has once this proof verifies."""
        return Anchor(self.last_time, self.last_leaf, config)

    def to_json(self) -> dict[str, Any]:
        """JSON-able form: outputs, signals and leaves as decimal strings (a JSON reader may hold numbers as doubles,
        exact only to 2**53), times as numbers, the calldata as hex without ``0x``."""
        return {
            "backend": self.backend,
            "outputs": [str(x) for x in self.outputs],
            "calldata": self.calldata.hex(),
            "public_signals": [str(x) for x in self.public_signals],
            "prev_time": self.prev_time,
            "prev_leaf": str(self.prev_leaf),
            "last_time": self.last_time,
            "last_leaf": str(self.last_leaf),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> StoredProof:
        """The inverse of :meth:`to_json` (numbers may be given as ints or decimal strings); KeyError or ValueError
        when a field is missing or malformed."""
        return cls(
            backend=str(data["backend"]),
            outputs=tuple(int(x) for x in data["outputs"]),
            calldata=bytes.fromhex(str(data["calldata"]).removeprefix("0x")),
            public_signals=tuple(int(x) for x in data["public_signals"]),
            prev_time=int(data["prev_time"]),
            prev_leaf=int(data["prev_leaf"]),
            last_time=int(data["last_time"]),
            last_leaf=int(data["last_leaf"]),
        )


@dataclass(frozen=True, kw_only=True)
class TaskFacts:
    """What the pipeline learns about a task as it goes, each None until known: what a :class:`TaskUpdate` sets."""

    reason: str | None = None
    """Why the task failed, when it did."""
    proof: StoredProof | None = None
    """Set once the task is proven; cleared when it must be proven again (its anchor moved)."""
    assign_tx: str | None = None
    route_tx: str | None = None
    gas_assign: int | None = None
    gas_route: int | None = None
    constraints: int | None = None
    prove_seconds: float | None = None


@dataclass(frozen=True)
class TaskRow(TaskFacts):
    """A task as the store keeps it; ``id`` is TaskManager's task id (``domain.tasks.task_id``). The facts of
    :class:`TaskFacts` follow as keyword arguments."""

    id: TaskId
    project: ProjectId
    config: ConfigVersion
    device: Address
    first_nonce: Nonce
    last_nonce: Nonce
    root: int
    created_at: float
    status: TaskStatus = TaskStatus.BATCHED
    updated_at: float | None = None

    @property
    def outputs(self) -> tuple[int, ...] | None:
        """The proven outputs of the project's logic (e.g. ``(1234,)`` metres), or None before the proof."""
        return None if self.proof is None else self.proof.outputs

    def commitment(self, prover: Address) -> TaskCommitment:
        """What the chain records for this task when ``prover`` is to prove it (the store keeps no prover: the
        chain's record says who it is now, after any reassignment)."""
        return TaskCommitment(
            project=self.project,
            config=self.config,
            device=self.device,
            first_nonce=self.first_nonce,
            last_nonce=self.last_nonce,
            root=FieldElement(self.root),
            prover=prover,
        )


@dataclass(frozen=True, kw_only=True)
class TaskUpdate(TaskFacts):
    """What one :meth:`Store.update_task` changes besides the status: the facts it sets (a fact left None is left as
    it is), and whether it drops the proof."""

    drop_proof: bool = False
    """Clear the stored proof: the task goes back to be proven again."""

    def __post_init__(self) -> None:
        if self.proof is not None and self.drop_proof:
            raise ValueError("a task update cannot both set and drop the proof")

    @property
    def changed(self) -> tuple[str, ...]:
        """Names of the facts this update sets (``drop_proof`` counts as setting ``proof``), for the log."""
        names = [f.name for f in fields(TaskFacts) if getattr(self, f.name) is not None]
        return (*names, "proof") if self.drop_proof else tuple(names)


NO_CHANGE = TaskUpdate()
"""An update of the status alone."""


@dataclass(frozen=True)
class StoredAttestation:
    """One attester's signed result for one task (the ``attest`` backend, ``domain.attestation``)."""

    task_id: TaskId
    attester: Address
    result: bytes
    """keccak256 of the packed outputs: what the signature covers, with the task's project, config and root."""
    outputs: tuple[int, ...]
    """The outputs the attester computed (kept to explain a disagreement; the result is what counts)."""
    signature: bytes
    """65 bytes ``r || s || v`` over the Attestation digest."""
    created_at: float


class Store(Protocol):
    """Durable state of a node. Every write is committed durably before the method returns."""

    # --- projects and devices (fed by the indexer or the CLI) ---

    def upsert_project(self, config: ProjectConfig) -> None:
        """Record or update a (project, config): its domain may change, its schema may not (StoreError
        ``schema_conflict``; a new schema is a new config version)."""
        ...

    def get_project(self, project: ProjectId, config: ConfigVersion) -> ProjectConfig | None: ...

    def project_configs(self, project: ProjectId | None = None) -> list[ProjectConfig]:
        """All known configs (of one project, or of all), ordered by project then config."""
        ...

    def upsert_device(
        self,
        project: ProjectId,
        device: Address,
        owner: Address,
        key: tuple[int, int] | None = None,
        *,
        block: int | None = None,
    ) -> None:
        """Allow ``device`` to send messages to ``project`` (its DeviceRegistry binding to ``owner``); ``key`` is
        its BabyJubJub or P-256 public key (x, y) when it has one (kept when an update passes None); ``block`` the
        chain block of the registration (kept when an update passes None), for :meth:`rewind_devices`."""
        ...

    def device_key(self, project: ProjectId, device: Address) -> tuple[int, int] | None:
        """The BabyJubJub or P-256 key of ``device`` in ``project`` (its device id tells which); None for an
        unknown or secp256k1 device."""
        ...

    def get_checkpoint(self, name: str) -> str | None:
        """A named checkpoint (e.g. the last chain block the indexer has read), or None."""
        ...

    def set_checkpoint(self, name: str, value: str) -> None: ...

    def remove_device(self, project: ProjectId, device: Address) -> None: ...

    def deactivate_device(self, project: ProjectId, device: Address, *, block: int | None = None) -> None:
        """The device was deactivated on chain (in ``block``): no longer in :meth:`device_projects` (the gateway
        refuses it), for good (a later upsert does not bring it back; only :meth:`rewind_devices` does);
        :meth:`device_key` still answers, for its receipts."""
        ...

    def transfer_device(
        self, project: ProjectId, device: Address, owner: Address, *, block: int, log_index: int
    ) -> None:
        """The device's NFT moved to ``owner`` on chain (the DeviceTransferred event at ``block``, ``log_index``):
        from then on :meth:`device_owner` answers ``owner``. Writing the same event again changes nothing."""
        ...

    def device_owner(self, project: ProjectId, device: Address) -> Address | None:
        """Who the device's rewards go to: the owner of its latest transfer (by block, then log index), or the
        one it was registered to; None for a device not registered in ``project``."""
        ...

    def rewind_devices(self, after_block: int) -> None:
        """Undo the chain blocks after ``after_block`` (a reorganisation took them away): devices registered in
        them are gone, their deactivations lifted, their transfers undone. Rows written without a block are left
        alone."""
        ...

    def device_projects(self, device: Address) -> set[ProjectId]:
        """Projects the device is registered in (empty: an unknown device)."""
        ...

    # --- messages (gateway) ---

    def put_message(self, message: DeviceMessage, message_id: MessageId, received_at: float) -> PutResult:
        """Store a verified message durably.

        The same id again returns ``created=False`` (checked first: a resend is never refused). Otherwise, in
        this order: a different message under a used (project, device, nonce) raises ConflictError
        (``nonce_conflict``); a nonce at or below the device's last batched nonce raises ConflictError
        ``stale_nonce``; a timestamp not strictly between those of the device's stored messages with the nearest
        lower and the nearest higher nonce raises ConflictError ``stale_timestamp`` (per project and device,
        nonce order and timestamp order agree); a config version below that of the nearest lower nonce or above
        that of the nearest higher one raises ConflictError ``stale_config``. The message's (project, config) must
        be known (StoreError ``unknown_project`` otherwise). Nothing is written on any error.

        These rules hold across every gateway sharing the store, not just within one process: an adapter checks
        them and inserts under one lock that covers the device (SQLite: the database's write lock, taken by
        ``BEGIN IMMEDIATE`` before the checks; a server database: a per-device lock in the transaction), backed by a
        unique index on (project, device, nonce), so two gateways racing on one device cannot both admit
        conflicting messages."""
        ...

    def put_messages(self, items: Sequence[NewMessage], received_at: float) -> list[PutOutcome]:
        """Store many verified messages in one durable commit: one outcome per item, in order.

        Each item is admitted exactly as :meth:`put_message` admits it (the same rules, checked against what the
        store holds, including the items before it in ``items``), in the order given. A refused item's outcome is
        the ConflictError or StoreError :meth:`put_message` would have raised: it writes nothing and does not stop
        the items after it. Returns once the one commit that holds every created item is durable; if that commit
        fails, it raises StoreError and nothing of ``items`` is stored."""
        ...

    def last_timestamp(self, project: ProjectId, device: Address) -> Timestamp | None:
        """Timestamp of the device's stored message with the highest nonce in the project; None when it has none.
        A new message above that nonce must carry a timestamp above this."""
        ...

    def get_message(self, message_id: MessageId) -> StoredMessage | None: ...

    def next_nonce(self, project: ProjectId, device: Address) -> Nonce:
        """Highest stored nonce of the device in the project plus one; 0 when it has none."""
        ...

    # --- tasks (sequencer, prover, submitter) ---

    def unbatched_messages(self, project: ProjectId, limit: int | None = None) -> list[StoredMessage]:
        """Messages of the project in no task yet, ordered by device then nonce."""
        ...

    def create_task(self, task: TaskRow, message_ids: Sequence[MessageId]) -> None:
        """Atomically insert the task and put ``message_ids`` in it at leaf indexes 0, 1, ... in that order.

        Raises StoreError (``task_conflict``) and writes nothing if the task id exists or any message is
        unknown, already in a task, or not of the task's project and device."""
        ...

    def get_task(self, task_id: TaskId) -> TaskRow | None: ...

    def previous_task(self, project: ProjectId, device: Address, first_nonce: Nonce) -> TaskRow | None:
        """The device's task with the highest first nonce below ``first_nonce`` (its predecessor), or None."""
        ...

    def tasks_with_status(self, *statuses: TaskStatus) -> list[TaskRow]:
        """Tasks in any of ``statuses``, oldest first."""
        ...

    def update_task(
        self,
        task_id: TaskId,
        status: TaskStatus | None = None,
        change: TaskUpdate = NO_CHANGE,
        *,
        expect: TaskStatus | None = None,
    ) -> TaskRow:
        """Set the status and/or what ``change`` sets, and return the updated row.

        With ``expect``, the update happens only if the task is in that status: how one of many provers claims a
        task. A new ``status`` must be a legal transition from the task's current one (``domain.tasks``; setting
        the status it already has is no transition). Either refusal is StaleTaskError (``stale_task``), checked in
        the same write; an unknown task is StoreError ``unknown_task``. A store shared by many processes may also
        refuse an ``expect`` update as StaleTaskError while another transaction is writing that very task, rather
        than wait for it (PostgreSQL: ``SELECT ... FOR UPDATE SKIP LOCKED``): a claim that meets another claim in
        flight loses, as it would a moment later."""
        ...

    def task_messages(self, task_id: TaskId) -> list[StoredMessage]:
        """The task's messages in leaf order."""
        ...

    # --- attestations (attesters, attest prover) ---

    def put_attestation(self, attestation: StoredAttestation) -> bool:
        """Store an attestation durably; True when it is new.

        The very same attestation again returns False; another result, outputs or signature from the same
        attester for the same task raises ConflictError (``attestation_conflict``): an attester signs a task
        once. An unknown task raises StoreError ``unknown_task``."""
        ...

    def attestations(self, task_id: TaskId) -> list[StoredAttestation]:
        """The task's attestations, ordered by attester address (ascending, as the verifier wants them)."""
        ...

    def close(self) -> None: ...
