"""What many test modules share: the chain, contracts and accounts of a fresh anvil deployment, the tracker project,
the golden vector files, and a fake registrar. A test module imports these at module level (``from testbed import
DOMAIN``); the pytest fixtures built on them (a store with the tracker project, a registrar) are in tests/conftest.py.

A test that needs another chain id or contract on purpose (to check that a signature or task id is bound to it)
keeps its own value next to the test.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from proofstream.domain.anchor import RECORD_INPUTS
from proofstream.domain.defaults import LOCAL_CHAIN_ID
from proofstream.domain.eip712 import Domain
from proofstream.domain.schema import Field, Schema
from proofstream.domain.types import Address, ConfigVersion, ProjectId
from proofstream.errors import ProofstreamError
from proofstream.ports import DeviceRegistrationRequest
from proofstream.store.ports import ProjectConfig, StoredProof

CHAIN_ID = LOCAL_CHAIN_ID
"""anvil's chain id (31337)."""

DEVICE_REGISTRY = Address("0x5FbDB2315678afecb367f032d93F642f64180aa3")
"""The address of the first contract anvil's account 0 deploys (its nonce 0). Tests without a chain use it as the
DeviceRegistry; it is the verifying contract of the golden vectors (the real deployment puts another contract
there, so a test on a chain reads the registry from its manifest)."""

TASK_MANAGER = Address("0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512")
"""The address of the second contract account 0 deploys (its nonce 1); tests without a chain use it as the
TaskManager's."""

DOMAIN = Domain(chain_id=CHAIN_ID, verifying_contract=DEVICE_REGISTRY)
"""The EIP-712 domain devices sign in; tests/unit/test_messages.py checks it is the golden vectors' domain."""

TRACKER_SCHEMA = Schema(payload=(Field("lat", "uint32"), Field("lon", "uint32")))
"""The tracker-distance template's payload (offset microdegrees), the one the golden vectors are signed with."""

TRACKER = ProjectConfig(ProjectId(1), ConfigVersion(1), TRACKER_SCHEMA, DOMAIN)
"""Project 1, config version 1: the tracker payload in DOMAIN."""

OWNER = Address("0x90F79bf6EB2c4f870365E785982E1f101E93b906")
"""anvil's account 3, the owner the tests register devices for."""

PROVER = Address("0x70997970C51812dc3A010C7d01b50e0d17dc79C8")
"""anvil's account 1, the prover the tests assign tasks to."""

TX_HASH = "0x" + "ab" * 32


PROOF = StoredProof(
    backend="groth16",
    outputs=(7,),
    calldata=bytes(256),
    public_signals=(7, *([0] * (len(RECORD_INPUTS) - 2)), 1_003, 5),
    prev_time=0,
    prev_leaf=0,
    last_time=1_003,
    last_leaf=5,
)
"""A stored proof made against no anchor (the device's first task), leaving (1003, 5)."""
"""The transaction hash RecordingRegistrar answers with."""

REPO = Path(__file__).resolve().parents[2]
"""The repository's root."""

VECTORS_DIR = REPO / "tests" / "vectors"
"""tests/vectors: golden values computed by independent implementations (scripts/vectors, circomlibjs)."""


def golden(name: str) -> dict[str, Any]:
    """The golden vector file tests/vectors/``name``, parsed afresh: each module gets its own copy to read."""
    loaded: dict[str, Any] = json.loads((VECTORS_DIR / name).read_text())
    return loaded


def by_name(entries: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The entries of a vector list by their ``name``."""
    return {entry["name"]: entry for entry in entries}


@dataclass
class RecordingRegistrar:
    """A fake of the gateway's registrar port: records every request, then raises ``error`` if one is set, else
    answers with ``tx_hash`` as if the registration were sent to the chain. A device it registered once is
    ``already_registered`` the next time, as on chain (tests/ports/test_gateway_chain.py holds both to that)."""

    tx_hash: str = TX_HASH
    error: ProofstreamError | None = None
    requests: list[DeviceRegistrationRequest] = field(default_factory=list)
    registered: set[tuple[int, str]] = field(default_factory=set)
    dropped: set[str] = field(default_factory=set)
    """Transactions a reorganisation took away: no longer pending."""

    def register_device(self, request: DeviceRegistrationRequest) -> str:
        self.requests.append(request)
        if self.error is not None:
            raise self.error
        key = (request.project, request.device.lower())
        if key in self.registered:
            raise ProofstreamError(f"device {request.device} is already registered", code="already_registered")
        self.registered.add(key)
        return self.tx_hash

    def still_pending(self, tx_hash: str) -> bool:
        return tx_hash == self.tx_hash and tx_hash not in self.dropped


@dataclass
class StaticLiveness:
    """A fake of the gateway's version-liveness port: the (project, version) pairs in ``live`` take messages."""

    live: set[tuple[int, int]] = field(default_factory=lambda: {(TRACKER.project, TRACKER.config)})

    def is_live(self, project: int, version: int) -> bool:
        return (project, version) in self.live
