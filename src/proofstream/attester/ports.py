"""What the attester needs from the chain, as plain data and a Protocol, so the role never imports web3.

The adapter over the contracts is :class:`proofstream.chain.attest.AttesterChainView`; the conformance suite it
and the attester tests' fake both pass is tests/ports/test_attester_chain.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from proofstream.domain.anchor import Anchor
from proofstream.domain.tasks import TaskCommitment
from proofstream.domain.types import Address, ConfigVersion, ProjectId, TaskId


@dataclass(frozen=True, kw_only=True)
class ChainTask(TaskCommitment):
    """A task's commitment as TaskManager records it: what an attestation must agree with."""

    task_id: TaskId
    assigned: bool
    """True while the task waits for its result (not settled, failed, or unknown)."""


@dataclass(frozen=True)
class AttestVersion:
    """One (project, config version) as the chain sees it, for an attester deciding whether to sign for it."""

    config_hash: bytes
    """ProjectRegistry's content hash of the version: must be the hash of the logic the attester runs."""
    verifier: Address
    is_attest_verifier: bool
    """False when the version's verifier is not an AttestVerifier (e.g. a Groth16 adapter)."""
    verifier_config: ConfigVersion | None
    """The config version the AttestVerifier signs into every digest; must equal the version."""
    in_set: bool
    """Whether this attester is in the verifier's attester set."""
    quorum: int


class AttesterChain(Protocol):
    @property
    def chain_id(self) -> int: ...

    @property
    def router(self) -> Address:
        """The attestation domain's verifying contract."""
        ...

    @property
    def device_registry(self) -> Address:
        """The DeviceRegistry of this deployment: the verifying contract of the domain devices sign messages
        under (with :attr:`chain_id`). The adapter checks it against the chain; never taken from the store."""
        ...

    @property
    def attester(self) -> Address:
        """This attester's address (its key signs attestations and pays for its registration)."""
        ...

    def task(self, task_id: TaskId) -> ChainTask | None:
        """The task's on-chain commitment, or None when the chain does not know it."""
        ...

    def anchor(self, project: ProjectId, device: Address) -> Anchor:
        """The device's anchor (the last AnchorAdvanced, checked against TaskManager.anchorHashOf): what the task
        is checked against and the Router will be handed."""
        ...

    def predecessor_pending(self, task_id: TaskId) -> bool:
        """True while the device's previously assigned task is still Assigned: its anchor is not known yet."""
        ...

    def version(self, project: ProjectId, config: ConfigVersion) -> AttestVersion | None:
        """The version's verifier facts, or None when the project or version is unknown."""
        ...

    def ensure_registered(self) -> bool:
        """Register the attester in the ProverRegistry if it is not yet; True when this call registered it."""
        ...
