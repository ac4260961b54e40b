"""The gateway's timestamp rules through the HTTP API: per device, timestamps strictly increase with the nonce
(409 ``stale_timestamp``), and a new message's timestamp lies within the clock window around the gateway's
(injected) clock (422 ``timestamp_in_future`` / ``timestamp_too_old``). A resend of a stored message is always
answered with its status, nothing is stored on a refusal, and the device queries return ``last_timestamp``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from testbed import DOMAIN, OWNER, TRACKER_SCHEMA, golden

from proofstream.domain.tasks import TaskStatus
from proofstream.domain.types import ConfigVersion, MessageId, Nonce, ProjectId, TaskId
from proofstream.ingest.errors import STATUS_OF_CODE
from proofstream.ingest.http import create_app
from proofstream.ingest.validation import ClockWindow
from proofstream.sdk.device import Device, DeviceKey, GatewayClient
from proofstream.sdk.state import DeviceState
from proofstream.store.ports import TaskRow
from proofstream.store.sqlite import SqliteStore

VECTORS = golden("messages.json")
MEMBER = DeviceKey.from_hex(VECTORS["valid"][0]["key"])
OTHER = DeviceKey.from_hex(VECTORS["valid"][1]["key"])
NOW = 1_764_300_000
WINDOW = ClockWindow(max_future_seconds=60, max_past_seconds=3600)


class FakeClock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def store(store: SqliteStore) -> SqliteStore:
    """The tracker project with two member devices."""
    store.upsert_device(ProjectId(1), MEMBER.address, OWNER)
    store.upsert_device(ProjectId(1), OTHER.address, OWNER)
    return store


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW + 0.25)


@pytest.fixture
def client(store: SqliteStore, clock: FakeClock) -> Iterator[TestClient]:
    with TestClient(create_app(store, clock=clock, clock_window=WINDOW)) as client:
        yield client


def body(nonce: int, timestamp: int, *, key: DeviceKey = MEMBER, lat: int = 1) -> dict[str, Any]:
    return key.sign_message(TRACKER_SCHEMA, DOMAIN, 1, 1, nonce, timestamp, {"lat": lat, "lon": 2})


def stored(store: SqliteStore) -> list[tuple[int, int]]:
    """(nonce, timestamp) of every stored message of the project, in a task or not."""
    rows = store.unbatched_messages(ProjectId(1))
    for task in store.tasks_with_status(*TaskStatus):
        rows += store.task_messages(task.id)
    return sorted((m.message.nonce, m.message.timestamp) for m in rows)


def refused(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code
    assert STATUS_OF_CODE[code] == status
    assert response.json()["error"]["message"]


def test_codes_and_statuses() -> None:
    assert STATUS_OF_CODE["stale_timestamp"] == 409
    assert STATUS_OF_CODE["timestamp_in_future"] == 422
    assert STATUS_OF_CODE["timestamp_too_old"] == 422


# --- order: nonce order and timestamp order agree ---


def test_a_rewound_timestamp_is_refused_and_not_stored(client: TestClient, store: SqliteStore) -> None:
    assert client.post("/messages", json=body(0, NOW - 100)).status_code == 202
    rewound = body(1, NOW - 200)
    refused(client.post("/messages", json=rewound), 409, "stale_timestamp")
    assert stored(store) == [(0, NOW - 100)]
    assert client.post("/messages", json=body(1, NOW - 99)).status_code == 202


def test_an_equal_timestamp_is_refused(client: TestClient, store: SqliteStore) -> None:
    assert client.post("/messages", json=body(3, NOW - 10)).status_code == 202
    refused(client.post("/messages", json=body(4, NOW - 10)), 409, "stale_timestamp")
    assert stored(store) == [(3, NOW - 10)]


def test_a_gap_filled_later_must_fit_between_its_neighbours(client: TestClient, store: SqliteStore) -> None:
    assert client.post("/messages", json=body(0, NOW - 100)).status_code == 202
    assert client.post("/messages", json=body(10, NOW - 50)).status_code == 202
    refused(client.post("/messages", json=body(5, NOW - 50)), 409, "stale_timestamp")  # not below nonce 10's
    refused(client.post("/messages", json=body(5, NOW - 40)), 409, "stale_timestamp")
    refused(client.post("/messages", json=body(5, NOW - 100)), 409, "stale_timestamp")  # not above nonce 0's
    assert client.post("/messages", json=body(5, NOW - 70)).status_code == 202
    refused(client.post("/messages", json=body(6, NOW - 71)), 409, "stale_timestamp")
    assert stored(store) == [(0, NOW - 100), (5, NOW - 70), (10, NOW - 50)]


def test_the_order_is_per_device(client: TestClient) -> None:
    assert client.post("/messages", json=body(0, NOW - 10)).status_code == 202
    assert client.post("/messages", json=body(0, NOW - 20, key=OTHER)).status_code == 202


def test_the_order_holds_across_tasks(client: TestClient, store: SqliteStore) -> None:
    """A batched message still counts: a device cannot rewind between tasks."""
    first = client.post("/messages", json=body(0, NOW - 100)).json()["id"]
    task = TaskRow(TaskId(5), ProjectId(1), ConfigVersion(1), MEMBER.address, Nonce(0), Nonce(0), 7, 1.0)
    store.create_task(task, [MessageId(first)])
    refused(client.post("/messages", json=body(1, NOW - 100)), 409, "stale_timestamp")
    assert client.post("/messages", json=body(1, NOW - 90)).status_code == 202


# --- the clock window ---


def test_a_timestamp_too_far_ahead_is_refused(client: TestClient, store: SqliteStore) -> None:
    refused(client.post("/messages", json=body(0, NOW + 61)), 422, "timestamp_in_future")
    assert stored(store) == []
    assert client.post("/messages", json=body(0, NOW + 60)).status_code == 202


def test_a_timestamp_too_far_behind_is_refused(client: TestClient, store: SqliteStore) -> None:
    refused(client.post("/messages", json=body(0, NOW - 3601)), 422, "timestamp_too_old")
    assert stored(store) == []
    assert client.post("/messages", json=body(0, NOW - 3599)).status_code == 202


def test_the_window_follows_the_gateway_clock(client: TestClient, clock: FakeClock) -> None:
    clock.now = NOW + 7200
    refused(client.post("/messages", json=body(0, NOW)), 422, "timestamp_too_old")
    assert client.post("/messages", json=body(0, NOW + 7200 + 30)).status_code == 202


def test_without_a_window_any_time_is_admitted(store: SqliteStore) -> None:
    with TestClient(create_app(store, clock=FakeClock(NOW))) as client:
        assert client.post("/messages", json=body(0, 1)).status_code == 202
        assert client.post("/messages", json=body(1, 2**64 - 1)).status_code == 202
        refused(client.post("/messages", json=body(2, 5)), 409, "stale_timestamp")  # the order always holds


# --- resends ---


def test_a_resend_is_answered_whatever_the_clock_and_the_order(
    client: TestClient, store: SqliteStore, clock: FakeClock
) -> None:
    early = body(0, NOW - 100)
    first = client.post("/messages", json=early)
    assert first.status_code == 202
    assert client.post("/messages", json=body(1, NOW - 50)).status_code == 202
    again = client.post("/messages", json=early)  # below a later message's timestamp: still the same message
    assert (again.status_code, again.json()) == (200, first.json())
    task = TaskRow(TaskId(9), ProjectId(1), ConfigVersion(1), MEMBER.address, Nonce(0), Nonce(0), 3, 1.0)
    store.create_task(task, [MessageId(first.json()["id"])])
    clock.now = NOW + 86_400  # a day later it would be far too old as a new message
    later = client.post("/messages", json=early)
    assert (later.status_code, later.json()) == (200, {"id": first.json()["id"], "status": "batched"})
    assert stored(store) == [(0, NOW - 100), (1, NOW - 50)]


# --- last_timestamp ---


def test_device_queries_return_last_timestamp(client: TestClient) -> None:
    address = MEMBER.address
    assert client.get(f"/devices/{address}", params={"project": 1}).json() == {
        "next_nonce": 0,
        "last_timestamp": None,
    }
    device = client.get(f"/v1/projects/1/devices/{address}").json()
    assert (device["next_nonce"], device["last_timestamp"]) == (0, None)
    for nonce, timestamp in ((2, NOW - 30), (7, NOW - 20), (4, NOW - 25)):
        assert client.post("/messages", json=body(nonce, timestamp)).status_code == 202
    # The highest-nonce message's timestamp, not the latest stored one's.
    assert client.get(f"/devices/{address.lower()}", params={"project": 1}).json() == {
        "next_nonce": 8,
        "last_timestamp": NOW - 20,
    }
    device = client.get(f"/v1/projects/1/devices/{address}").json()
    assert (device["registered"], device["next_nonce"], device["last_timestamp"]) == (True, 8, NOW - 20)


def test_the_sdk_resumes_above_the_gateways_last_timestamp(
    client: TestClient, store: SqliteStore, tmp_path: Path
) -> None:
    """A device that lost its state file (and whose clock runs behind) never sends a rewound timestamp."""
    assert client.post("/messages", json=body(0, NOW + 30)).status_code == 202
    with GatewayClient("http://testserver", client=client) as gateway:
        progress = gateway.progress(1, MEMBER.address)
        assert (progress.next_nonce, progress.last_timestamp) == (1, NOW + 30)
        assert gateway.device(1, MEMBER.address).last_timestamp == NOW + 30
        device = Device(
            MEMBER, gateway.project(1), gateway, state=DeviceState(tmp_path / "fresh.state.json"), clock=lambda: NOW
        )
        sent = device.send({"lat": 3, "lon": 4})
        assert sent.created
    assert stored(store) == [(0, NOW + 30), (1, NOW + 31)]
