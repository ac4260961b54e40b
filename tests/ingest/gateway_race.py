"""Two gateways on one store (a SQLite file or a PostgreSQL schema) racing on one device
(tests/ingest/test_gateway_race.py): what each side sends, round by round, and how it runs, in a thread or in a
process of its own (importable by a spawned child).

Each round, both sides send at once: the COPIER's nonce ``r`` with a payload of the side's own (exactly one may
be stored: ``nonce_conflict``), and a REWINDER nonce whose timestamp disagrees with the other side's nonce order
(exactly one may be stored: ``stale_timestamp``). Sides alternate between the batch and the single endpoint, so
every pairing of the two meets.
"""

from __future__ import annotations

import multiprocessing.synchronize
from pathlib import Path
from typing import Any, Protocol

from fastapi.testclient import TestClient

from proofstream.domain.eip712 import Domain
from proofstream.domain.schema import Field, Schema
from proofstream.domain.types import Address, ConfigVersion, ProjectId
from proofstream.ingest.http import create_app
from proofstream.node.stores import parse_store_url
from proofstream.sdk.device import DeviceKey
from proofstream.store.ports import ProjectConfig, Store

DOMAIN = Domain(chain_id=31337, verifying_contract=Address("0x5FbDB2315678afecb367f032d93F642f64180aa3"))
SCHEMA = Schema(payload=(Field("lat", "uint32"), Field("lon", "uint32")))
PROJECT = ProjectId(1)
COPIER = DeviceKey.from_hex("0x" + "a1" * 32)
"""Sends two different messages under each nonce, one to each gateway."""
REWINDER = DeviceKey.from_hex("0x" + "b2" * 32)
"""Sends side 0 nonce ``2r`` at ``BASE + 20r + 9`` and side 1 nonce ``2r + 1`` at ``BASE + 20r + 1``: either one
alone is in order after any earlier round, both together are not."""
OWNER = Address("0x90F79bf6EB2c4f870365E785982E1f101E93b906")
BASE = 1_764_300_000

Outcome = str
"""``accepted`` or the error code of one message."""


def open_store(url: str) -> Store:
    """A store of its own on the shared one: ``url`` as ``store.url`` takes it (a SQLite path, or PostgreSQL)."""
    return parse_store_url(url, Path.cwd()).open()


def seed(url: str) -> None:
    store = open_store(url)
    try:
        store.upsert_project(ProjectConfig(PROJECT, ConfigVersion(1), SCHEMA, DOMAIN))
        for key in (COPIER, REWINDER):
            store.upsert_device(PROJECT, key.address, OWNER)
    finally:
        store.close()


def rewinder_nonce(side: int, round_: int) -> tuple[int, int]:
    """The REWINDER's nonce and timestamp that ``side`` sends in ``round_``."""
    return (2 * round_, BASE + 20 * round_ + 9) if side == 0 else (2 * round_ + 1, BASE + 20 * round_ + 1)


def messages(side: int, round_: int) -> list[dict[str, Any]]:
    """What gateway ``side`` (0 or 1) receives in ``round_``: the COPIER's message, then the REWINDER's."""
    nonce, timestamp = rewinder_nonce(side, round_)
    return [
        COPIER.sign_message(SCHEMA, DOMAIN, PROJECT, 1, round_, BASE + round_, {"lat": side + 1, "lon": 0}),
        REWINDER.sign_message(SCHEMA, DOMAIN, PROJECT, 1, nonce, timestamp, {"lat": 0, "lon": 0}),
    ]


def uses_batch(side: int, round_: int) -> bool:
    return round_ % 2 == 0 if side == 0 else round_ % 3 == 0


def post(client: TestClient, bodies: list[dict[str, Any]], batch: bool) -> list[Outcome]:
    if batch:
        response = client.post(f"/v1/projects/{PROJECT}/messages", json={"messages": bodies})
        assert response.status_code == 200, response.text
        results = response.json()["results"]
        return [r["error"]["code"] if r["outcome"] == "refused" else r["outcome"] for r in results]
    outcomes: list[Outcome] = []
    for body in bodies:
        response = client.post("/messages", json=body)
        outcomes.append("accepted" if response.status_code == 202 else response.json()["error"]["code"])
    return outcomes


class Gate(Protocol):
    """A barrier of two (threading's or multiprocessing's)."""

    def wait(self, timeout: float | None = None) -> int: ...

    def abort(self) -> None: ...


def run_side(url: str, side: int, rounds: int, gate: Gate) -> list[list[Outcome]]:
    """Gateway ``side``: its own store object on ``url`` and its own app, sending each round once both sides
    are at ``gate``; a side that fails breaks the gate, so the other stops at once instead of timing out."""
    prepared = [messages(side, r) for r in range(rounds)]
    out: list[list[Outcome]] = []
    try:
        store = open_store(url)
        try:
            with TestClient(create_app(store)) as client:
                for round_ in range(rounds):
                    gate.wait()
                    out.append(post(client, prepared[round_], uses_batch(side, round_)))
        finally:
            store.close()
    except BaseException:
        gate.abort()
        raise
    return out


def run_side_in_child(
    url: str,
    side: int,
    rounds: int,
    barrier: multiprocessing.synchronize.Barrier,
    results: multiprocessing.Queue[tuple[int, list[list[Outcome]]]],
) -> None:
    """A gateway process's entry point: its outcomes go back on ``results``."""
    results.put((side, run_side(url, side, rounds, barrier)))
