"""Signers recovered in worker processes (ingest/recovery.py): the same answers as recovering in place, for single
pairs and for a whole HTTP batch of good and bad messages, against real SQLite stores. One pool of real worker
processes for the module."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from testbed import DOMAIN, OWNER, TRACKER
from testbed import TRACKER_SCHEMA as SCHEMA

from proofstream.domain.messages import SECP256K1_N, digest, parse_body, recover_device
from proofstream.domain.types import ProjectId
from proofstream.errors import MessageError
from proofstream.ingest.http import create_app
from proofstream.ingest.recovery import MIN_POOLED, RecoveryPool
from proofstream.ingest.validation import ClockWindow
from proofstream.sdk.device import DeviceKey, P256DeviceKey
from proofstream.store.sqlite import SqliteStore

P256 = P256DeviceKey.from_hex("0x" + "5a" * 32)
DEVICES = [DeviceKey.from_hex("0x" + f"{i:02x}" * 32) for i in range(1, 4)]
STRANGER = DeviceKey.from_hex("0x" + "0f" * 32)
NOW = 1_764_300_000


def body(key: DeviceKey, nonce: int, *, lat: int = 1) -> dict[str, Any]:
    return key.sign_message(SCHEMA, DOMAIN, 1, 1, nonce, NOW - 1000 + nonce, {"lat": lat, "lon": 2})


def outcomes(results: list[dict[str, Any]]) -> list[str]:
    return [r["error"]["code"] if r["outcome"] == "refused" else r["outcome"] for r in results]


@pytest.fixture(scope="module")
def pool() -> Iterator[RecoveryPool]:
    recovery = RecoveryPool(2)
    yield recovery
    recovery.close()


def _high_s(signature: bytes) -> bytes:
    s = int.from_bytes(signature[32:64], "big")
    return signature[:32] + (SECP256K1_N - s).to_bytes(32, "big") + bytes([55 - signature[64]])


def test_the_workers_recover_what_recovering_in_place_does(pool: RecoveryPool) -> None:
    messages = [parse_body(json.dumps(body(key, n)).encode(), lambda _p, _c: SCHEMA) for n, key in enumerate(DEVICES)]
    pairs = [(digest(m, DOMAIN), m.signature) for m in messages]
    good = pairs[0]
    pairs += [(good[0], _high_s(good[1])), (good[0], good[1][:64] + b"\x05"), (bytes(32), good[1])]
    expected: list[Any] = []
    for pair in pairs:
        try:
            expected.append(recover_device(*pair))
        except MessageError as exc:
            expected.append((exc.code, str(exc)))
    got = [(r.code, str(r)) if isinstance(r, MessageError) else r for r in pool.recover(pairs)]
    assert got == expected
    assert got[: len(DEVICES)] == [key.address for key in DEVICES]
    assert [g[0] for g in got[len(DEVICES) : -1]] == ["bad_signature", "bad_signature"]
    assert pool.recover([]) == []


def _gateway(path: Path, recovery: RecoveryPool | None) -> TestClient:
    store = SqliteStore(path)
    store.upsert_project(TRACKER)
    for key in DEVICES:
        store.upsert_device(ProjectId(1), key.address, OWNER)
    store.upsert_device(ProjectId(1), P256.address, OWNER, key=P256.public_key)
    window = ClockWindow(max_future_seconds=60, max_past_seconds=3600)
    return TestClient(create_app(store, clock=lambda: NOW + 0.5, clock_window=window, recovery=recovery))


def test_a_batch_recovered_in_the_workers_gets_the_answers_of_one_recovered_in_place(
    pool: RecoveryPool, tmp_path: Path
) -> None:
    good = [body(DEVICES[n % 3], n // 3) for n in range(MIN_POOLED)]
    forged = dict(body(DEVICES[0], 100), device=DEVICES[1].address)  # signed by another device's key
    p256 = P256.sign_message(SCHEMA, DOMAIN, 1, 1, 0, NOW - 1000, {"lat": 1, "lon": 2})
    bad_v = dict(body(DEVICES[2], 101))
    bad_v["signature"] = bad_v["signature"][:-2] + "05"
    items = [*good, forged, body(STRANGER, 0), p256, bad_v, body(DEVICES[0], 0, lat=9), body(DEVICES[1], 102)]
    answers = []
    for name, recovery in (("inline.db", None), ("pooled.db", pool)):
        with _gateway(tmp_path / name, recovery) as client:
            response = client.post("/v1/projects/1/messages", json={"messages": items})
            assert response.status_code == 200, response.text
            answers.append(response.json()["results"])
    assert answers[0] == answers[1]
    assert outcomes(answers[1]) == [
        *["accepted"] * MIN_POOLED,
        "bad_signature",
        "unknown_device",
        "accepted",
        "bad_signature",
        "nonce_conflict",
        "accepted",
    ]


def test_a_pool_whose_workers_cannot_run_recovers_in_place() -> None:
    """As in a daemonic process, which may have no children: the same answers, from the calling thread."""
    recovery = RecoveryPool(2)
    recovery.close()  # a closed pool has no workers either
    message = parse_body(json.dumps(body(DEVICES[0], 0)).encode(), lambda _p, _c: SCHEMA)
    assert recovery.recover([(digest(message, DOMAIN), message.signature)]) == [DEVICES[0].address]
