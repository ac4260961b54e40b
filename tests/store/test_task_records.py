"""StoredProof and TaskUpdate, the typed values the roles write to a task (store.ports)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from proofstream.domain.anchor import Anchor
from proofstream.domain.types import ConfigVersion
from proofstream.store.ports import NO_CHANGE, StoredProof, TaskUpdate

V1, V2 = ConfigVersion(1), ConfigVersion(2)
PROOF = StoredProof(
    backend="attest",
    outputs=(2**64, 0),
    calldata=b"\x11" * 130,
    public_signals=(2**64, 0, 1, 2**254),
    prev_time=1_764_300_000,
    prev_leaf=2**254,
    last_time=1_764_300_060,
    last_leaf=2**253 + 1,
)


def test_json_round_trip_keeps_big_numbers_exact() -> None:
    data = json.loads(json.dumps(PROOF.to_json()))
    assert data["prev_leaf"] == str(2**254) and data["outputs"] == [str(2**64), "0"]
    assert StoredProof.from_json(data) == PROOF


def test_from_json_takes_numbers_as_ints_or_strings_and_calldata_with_or_without_0x() -> None:
    data = PROOF.to_json()
    data.update(prev_time=str(PROOF.prev_time), last_leaf=PROOF.last_leaf, calldata="0x" + "11" * 130)
    assert StoredProof.from_json(data) == PROOF
    del data["calldata"]
    with pytest.raises(KeyError):
        StoredProof.from_json(data)


def test_made_against_compares_the_anchor_the_router_would_build() -> None:
    assert PROOF.made_against(Anchor(PROOF.prev_time, PROOF.prev_leaf, V1), V1)
    assert not PROOF.made_against(Anchor(PROOF.prev_time + 1, PROOF.prev_leaf, V1), V1)
    # Across a version change the Router passes prevLeaf 0: a proof with a leaf was made against something else.
    assert not PROOF.made_against(Anchor(PROOF.prev_time, PROOF.prev_leaf, V1), V2)
    first = StoredProof("groth16", (), b"", (), PROOF.prev_time, 0, 1, 2)
    assert first.made_against(Anchor(PROOF.prev_time, PROOF.prev_leaf, V1), V2)


def test_next_anchor_is_the_one_the_proof_leaves() -> None:
    assert PROOF.next_anchor(V2) == Anchor(PROOF.last_time, PROOF.last_leaf, V2)


def test_a_task_update_names_what_it_changes() -> None:
    assert NO_CHANGE.changed == ()
    assert TaskUpdate(reason="x", gas_route=0).changed == ("reason", "gas_route")
    assert TaskUpdate(proof=PROOF, prove_seconds=1.5).changed == ("proof", "prove_seconds")
    assert TaskUpdate(drop_proof=True).changed == ("proof",)
    with pytest.raises(ValueError, match="both set and drop"):
        TaskUpdate(proof=PROOF, drop_proof=True)


def test_the_port_imports_no_adapter() -> None:
    """A role, or a project's code, that imports the port or the retry helper loads neither SQLite nor web3."""
    code = (
        "import sys, proofstream.store.ports, proofstream.store.retry, proofstream.store.anchors; "
        "print(sorted(m for m in sys.modules if m in ('sqlite3', 'web3') or m.startswith('proofstream.store.sqlite')))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    assert loaded.strip() == "[]"
