"""Task states and the transitions between them. Pure.

    batched --> proving --> submitted --> settled
       |           |            |
       +-----------+------------+-----> failed

- batched: the batch is cut and its commitment is recorded (or being recorded) on chain at assignment;
- proving: a prover has claimed it; once the proof is stored it waits for the submitter in this state;
- submitted: the route transaction was sent; its hash is stored before anything else happens, so a restart
  checks the chain ("already settled?") instead of sending again;
- settled / failed: final, as the chain says (failed carries the reason, e.g. the DApp's revert).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from eth_abi.abi import encode
from eth_utils.crypto import keccak

from proofstream.domain.types import Address, ConfigVersion, FieldElement, Nonce, ProjectId, TaskId


class TaskStatus(StrEnum):
    BATCHED = "batched"
    PROVING = "proving"
    SUBMITTED = "submitted"
    SETTLED = "settled"
    FAILED = "failed"


FINAL = frozenset({TaskStatus.SETTLED, TaskStatus.FAILED})

_NEXT: dict[TaskStatus, frozenset[TaskStatus]] = {
    TaskStatus.BATCHED: frozenset({TaskStatus.PROVING, TaskStatus.FAILED, TaskStatus.SETTLED}),
    # proving -> batched: a prover died holding the claim and the task goes back to the pool.
    TaskStatus.PROVING: frozenset({TaskStatus.BATCHED, TaskStatus.SUBMITTED, TaskStatus.FAILED, TaskStatus.SETTLED}),
    # submitted -> proving: the route tx was dropped (never mined) or refused for now, and is sent again;
    # submitted -> batched: the device's anchor moved under the proof, which is made again.
    TaskStatus.SUBMITTED: frozenset({TaskStatus.BATCHED, TaskStatus.PROVING, TaskStatus.SETTLED, TaskStatus.FAILED}),
    TaskStatus.SETTLED: frozenset(),
    TaskStatus.FAILED: frozenset(),
}


class InvalidTransitionError(ValueError):
    def __init__(self, current: TaskStatus, new: TaskStatus) -> None:
        super().__init__(f"a task cannot go from {current} to {new}")
        self.current = current
        self.new = new


def check_transition(current: TaskStatus, new: TaskStatus) -> TaskStatus:
    """Return ``new`` if a task may move there from ``current``; raise InvalidTransitionError otherwise."""
    if new not in _NEXT[current]:
        raise InvalidTransitionError(current, new)
    return new


@dataclass(frozen=True, kw_only=True)
class TaskCommitment:
    """What TaskManager records for one task at assignment (docs/protocol.md, "Tasks"), and what every later
    check agrees with: the proof's public inputs, an attestation, a receipt. The chain's task record, its
    TaskAssigned event and the attester's view of a task are this plus what each adds."""

    project: ProjectId
    config: ConfigVersion
    """The version the batch's messages were signed under; it must be live on chain when the task is assigned,
    and the task is proven and verified under it."""
    device: Address
    first_nonce: Nonce
    last_nonce: Nonce
    root: FieldElement
    """Poseidon Merkle root of the task's message leaves (``domain.merkle``)."""
    prover: Address
    """The one account whose route() the task accepts."""


def task_id(chain_id: int, task_manager: str, project: int, device: str, first_nonce: int) -> TaskId:
    """The id TaskManager gives the task (docs/protocol.md): keccak of the assignment key, shifted into the field.

    Keyed on the deployment (chain id + TaskManager) and on the first nonce, so ids never repeat across chains,
    deployments or tasks; replay protection is keyed on it, never on a proof's hash (Groth16 proofs are malleable).
    """
    packed = encode(
        ["uint256", "address", "uint64", "address", "uint64"],
        [chain_id, _address_bytes(task_manager), project, _address_bytes(device), first_nonce],
    )
    return TaskId(int.from_bytes(keccak(packed), "big") >> 8)


def _address_bytes(address: str) -> bytes:
    """An address in any hex case as its 20 bytes (the ABI encoding does not depend on the checksum)."""
    raw = bytes.fromhex(address.removeprefix("0x"))
    if len(raw) != 20:
        raise ValueError(f"not a 20-byte address: {address!r}")
    return raw


def gas_shares(total: int, tasks: int) -> list[int]:
    """A transaction's ``total`` gas split over the ``tasks`` it carried, as evenly as whole units allow (the first
    ones take the remainder): the shares sum to ``total``, so gas per task adds up to the chain's figure."""
    if tasks < 1:
        raise ValueError("a transaction carries at least one task")
    share, extra = divmod(total, tasks)
    return [share + (1 if i < extra else 0) for i in range(tasks)]
