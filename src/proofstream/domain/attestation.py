"""Prover attestations for the ``attest`` backend: the EIP-712 typed data, its digest, the result hash, signing
and recovery. Pure.

An attester re-runs a project's logic over a task and signs
``Attestation(uint64 project,uint32 config,uint256 taskId,uint256 root,bytes32 result,uint64 prevTime,
uint256 prevLeaf,uint64 lastTime,uint256 lastLeaf)`` under the domain
``{name: "proofstream-attest", version: "1", chainId, verifyingContract: Router}``, with
``result = keccak256(abi.encodePacked(uint256[] outputs))``. contracts/AttestVerifier.sol computes the same digest
from the public inputs the Router builds; the golden tests hold the two (and eth_account) together.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import coincurve
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from proofstream.domain.anchor import RECORD_INPUTS as RECORD_INPUT_NAMES
from proofstream.domain.eip712 import Domain, Member, typed_data, typed_data_digest
from proofstream.domain.messages import SIGNATURE_LENGTH, recover_device
from proofstream.domain.types import Address, ConfigVersion, ProjectId, TaskId
from proofstream.errors import MessageError, ProofstreamError

__all__ = [
    "ATTESTATION_MEMBERS",
    "ATTESTATION_TYPE",
    "ATTEST_DOMAIN_NAME",
    "ATTEST_DOMAIN_VERSION",
    "RECORD_INPUTS",
    "Attestation",
    "AttestationError",
    "attest_domain",
    "pack_signatures",
    "recover_attester",
    "result_hash",
    "sign_digest",
]

ATTEST_DOMAIN_NAME = "proofstream-attest"
"""Its own domain name, so no device message or binding signature can ever pass for an attestation."""
ATTEST_DOMAIN_VERSION = "1"

ATTESTATION_TYPE = "Attestation"
ATTESTATION_MEMBERS: tuple[Member, ...] = (
    ("project", "uint64"),
    ("config", "uint32"),
    ("taskId", "uint256"),
    ("root", "uint256"),
    ("result", "bytes32"),
    ("prevTime", "uint64"),
    ("prevLeaf", "uint256"),
    ("lastTime", "uint64"),
    ("lastLeaf", "uint256"),
)

RECORD_INPUTS = len(RECORD_INPUT_NAMES)
"""``domain.anchor.RECORD_INPUTS`` follow the outputs in the public inputs."""

_UINT256 = 2**256


class AttestationError(ProofstreamError):
    """An attestation that is malformed or whose signature recovers no key."""

    code = "bad_attestation"


def attest_domain(chain_id: int, router: str) -> Domain:
    """The attestation domain of one deployment: its chain and its Router."""
    return Domain(
        chain_id=chain_id,
        verifying_contract=Address(router),
        name=ATTEST_DOMAIN_NAME,
        version=ATTEST_DOMAIN_VERSION,
    )


def result_hash(outputs: Sequence[int]) -> bytes:
    """``keccak256(abi.encodePacked(uint256[] outputs))``: each output as one 32-byte big-endian word."""
    words = []
    for i, value in enumerate(outputs):
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < _UINT256:
            raise AttestationError(f"output {i} must be an integer in 0..2^256-1, got {value!r}")
        words.append(value.to_bytes(32, "big"))
    return keccak(b"".join(words))


@dataclass(frozen=True)
class Attestation:
    """What an attester signs about one task."""

    project: ProjectId
    config: ConfigVersion
    task_id: TaskId
    root: int
    result: bytes
    """:func:`result_hash` of the outputs."""
    prev_time: int
    """The device's anchor the task was checked against (domain/anchor.py): timestamp and ``prevLeaf``."""
    prev_leaf: int
    last_time: int
    """The anchor the task leaves: its last message's timestamp and leaf."""
    last_leaf: int

    def __post_init__(self) -> None:
        if len(self.result) != 32:
            raise AttestationError("an attestation's result is a 32-byte hash")
        for name, value, bits in (
            ("project", self.project, 64),
            ("config", self.config, 32),
            ("task_id", self.task_id, 256),
            ("root", self.root, 256),
            ("prev_time", self.prev_time, 64),
            ("prev_leaf", self.prev_leaf, 256),
            ("last_time", self.last_time, 64),
            ("last_leaf", self.last_leaf, 256),
        ):
            if not 0 <= value < 2**bits:
                raise AttestationError(f"attestation {name} {value} does not fit uint{bits}")

    @classmethod
    def of_outputs(
        cls,
        project: int,
        config: int,
        task_id: int,
        root: int,
        outputs: Sequence[int],
        anchors: Sequence[int],
    ) -> Attestation:
        """``anchors``: ``(prevTime, prevLeaf, lastTime, lastLeaf)`` as in the public inputs."""
        prev_time, prev_leaf, last_time, last_leaf = anchors
        return cls(
            ProjectId(project),
            ConfigVersion(config),
            TaskId(task_id),
            root,
            result_hash(outputs),
            prev_time,
            prev_leaf,
            last_time,
            last_leaf,
        )

    @classmethod
    def from_public_inputs(cls, public_inputs: Sequence[int], config: int) -> Attestation:
        """The attestation AttestVerifier checks for the Router's ``[outputs..., project, taskId, root, ...]``."""
        if len(public_inputs) < RECORD_INPUTS:
            raise AttestationError(f"public inputs end with {RECORD_INPUTS} record inputs, got {len(public_inputs)}")
        n = len(public_inputs) - RECORD_INPUTS
        project, task, root = public_inputs[n], public_inputs[n + 1], public_inputs[n + 2]
        return cls.of_outputs(project, config, task, root, public_inputs[:n], public_inputs[n + 7 : n + 11])

    def values(self) -> tuple[int, int, int, int, bytes, int, int, int, int]:
        return (
            self.project,
            self.config,
            self.task_id,
            self.root,
            self.result,
            self.prev_time,
            self.prev_leaf,
            self.last_time,
            self.last_leaf,
        )

    def digest(self, domain: Domain) -> bytes:
        """The 32 bytes each attester signs."""
        return typed_data_digest(domain, ATTESTATION_TYPE, ATTESTATION_MEMBERS, self.values())

    def typed_data(self, domain: Domain) -> dict[str, Any]:
        """The typed data as EIP-712 JSON (eth_account's ``encode_typed_data`` or a hardware wallet)."""
        return typed_data(domain, ATTESTATION_TYPE, ATTESTATION_MEMBERS, self.values())


def sign_digest(secret: bytes, digest: bytes) -> bytes:
    """65-byte ``r || s || v`` (v in {27, 28}, low s, RFC 6979 deterministic) over a 32-byte digest."""
    if len(digest) != 32:
        raise AttestationError("a digest is 32 bytes")
    try:
        signature = coincurve.PrivateKey(secret).sign_recoverable(digest, hasher=None)
    except ValueError as exc:
        raise AttestationError("not a valid secp256k1 private key") from exc
    return bytes(signature[:64]) + bytes([signature[64] + 27])


def recover_attester(digest: bytes, signature: bytes) -> Address:
    """The address that signed ``digest``, with the rules AttestVerifier applies (v in {27, 28}, low s)."""
    try:
        return recover_device(digest, signature)
    except MessageError as exc:
        raise AttestationError(f"attestation signature: {exc}") from exc


def pack_signatures(signatures: Mapping[Address, bytes] | Mapping[str, bytes]) -> bytes:
    """The proof AttestVerifier takes: the signatures concatenated in strictly increasing signer order."""
    ordered = sorted(signatures.items(), key=lambda item: int(item[0], 16))
    if len({int(signer, 16) for signer, _ in ordered}) != len(ordered):
        raise AttestationError("one signer appears twice (addresses differing only in case)")
    for signer, signature in ordered:
        if len(signature) != SIGNATURE_LENGTH:
            raise AttestationError(f"signature of {to_checksum_address(signer)} is not {SIGNATURE_LENGTH} bytes")
    return b"".join(signature for _, signature in ordered)
