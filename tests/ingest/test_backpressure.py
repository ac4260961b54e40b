"""Back-pressure at the gateway (docs/protocol.md, "Back-pressure"): a full admission queue answers 503
``overloaded`` with Retry-After at once, the SDK's GatewayClient honours it (a bounded retry), single messages
waiting together share one commit, and a burst of registrations waiting for their receipts never holds up
POST /messages. A real SQLite store; the registrar (the
chain) is a fake that waits until the test lets it answer."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from testbed import DOMAIN, OWNER, TRACKER_SCHEMA, TX_HASH

from proofstream.domain.types import ProjectId
from proofstream.errors import ProofstreamError
from proofstream.ingest.admission import AdmissionQueue
from proofstream.ingest.http import create_app
from proofstream.ports import DeviceRegistrationRequest
from proofstream.sdk.device import DeviceKey
from proofstream.sdk.gateway import GatewayClient, RetryPolicy
from proofstream.store.ports import NewMessage, PutOutcome
from proofstream.store.sqlite import SqliteStore

KEYS = [DeviceKey.from_hex("0x" + (i + 1).to_bytes(32, "big").hex()) for i in range(40)]
BASE_TIME = int(time.time()) - 600


class GatedStore(SqliteStore):
    """A real SQLite store whose ``put_messages`` waits, while ``gate`` is closed, until it opens."""

    gate = threading.Event()
    entered = threading.Event()

    def put_messages(self, items: Sequence[NewMessage], received_at: float) -> list[PutOutcome]:
        self.entered.set()
        assert self.gate.wait(30), "the test never opened the gate"
        return super().put_messages(items, received_at)


class SlowRegistrar:
    """A registrar that holds every registration until ``release`` is set: a chain slow to give receipts."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.waiting = 0
        self._lock = threading.Lock()

    def register_device(self, request: DeviceRegistrationRequest) -> str:
        with self._lock:
            self.waiting += 1
        assert self.release.wait(30), "the test never released the registrations"
        return TX_HASH

    def still_pending(self, tx_hash: str) -> bool:
        return True


def message(key: DeviceKey, nonce: int = 0) -> dict[str, Any]:
    return key.sign_message(TRACKER_SCHEMA, DOMAIN, 1, 1, nonce, BASE_TIME + nonce, {"lat": 1, "lon": 2})


def wait_for_pending(client: TestClient, count: int) -> None:
    """Until ``count`` messages are in the gateway's admission queue (its requests are concurrent)."""
    admission: AdmissionQueue = client.app.state.admission  # type: ignore[attr-defined]
    deadline = time.monotonic() + 10
    while admission.pending < count:
        assert time.monotonic() < deadline, f"{admission.pending} messages queued, not {count}"
        time.sleep(0.005)


@pytest.fixture(scope="module")
def gated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatedStore]:
    from testbed import TRACKER

    with GatedStore(tmp_path_factory.mktemp("gated") / "store.db") as store:
        store.upsert_project(TRACKER)
        for key in KEYS:
            store.upsert_device(ProjectId(1), key.address, OWNER)
        yield store


def test_a_full_queue_is_refused_at_once_with_retry_after(gated: GatedStore) -> None:
    gated.gate.clear()
    gated.entered.clear()
    with TestClient(create_app(gated, max_pending_messages=2)) as client, ThreadPoolExecutor(2) as pool:
        first = [pool.submit(client.post, "/messages", json=message(key)) for key in KEYS[:2]]
        wait_for_pending(client, 2)
        started = time.monotonic()
        refused = client.post("/messages", json=message(KEYS[2]))
        assert time.monotonic() - started < 2
        assert refused.status_code == 503, refused.text
        assert refused.json()["error"]["code"] == "overloaded"
        assert refused.headers["Retry-After"] == "1"
        batch = client.post("/v1/projects/1/messages", json={"messages": [message(KEYS[3])]})
        assert (batch.status_code, batch.json()["error"]["code"]) == (503, "overloaded")
        gated.gate.set()
        assert [f.result().status_code for f in first] == [202, 202]
        # Room again: the refused message is taken when it comes back, and nothing of the refusals was stored.
        assert gated.get_message(client.post("/messages", json=message(KEYS[2])).json()["id"]) is not None
        assert gated.next_nonce(ProjectId(1), KEYS[3].address) == 0


def test_the_sdk_retries_after_retry_after_and_gives_up_when_told(gated: GatedStore) -> None:
    """The real gateway with a full queue: GatewayClient waits (Retry-After: 1, capped here at 0.05 s) and sends
    again; it gets through once there is room, and stops after ``retries`` when there never is."""
    gated.gate.clear()
    answers: list[int] = []
    with TestClient(create_app(gated, max_pending_messages=2)) as http, ThreadPoolExecutor(3) as pool:
        http.event_hooks = {"response": [lambda response: answers.append(response.status_code)]}
        first = [pool.submit(http.post, "/messages", json=message(key)) for key in KEYS[30:32]]
        wait_for_pending(http, 2)
        answers.clear()
        patient = GatewayClient("http://testserver", client=http, retry=RetryPolicy(retries=100, max_wait_s=0.05))
        sent = pool.submit(patient.send, message(KEYS[32]))
        deadline = time.monotonic() + 10
        while 503 not in answers:
            assert time.monotonic() < deadline, "the gateway never refused the third message"
            time.sleep(0.005)
        gated.gate.set()
        assert sent.result(timeout=10).created
        assert [f.result().status_code for f in first] == [202, 202]
        assert answers[0] == 503 and answers[-1] == 202

        gated.gate.clear()
        blocked = [pool.submit(http.post, "/messages", json=message(key, 1)) for key in KEYS[30:32]]
        wait_for_pending(http, 2)
        answers.clear()
        hasty = GatewayClient("http://testserver", client=http, retry=RetryPolicy(retries=2, max_wait_s=0.05))
        with pytest.raises(ProofstreamError) as caught:
            hasty.send(message(KEYS[33]))
        assert caught.value.code == "gateway_unavailable"
        assert "(503 overloaded) (after 2 retries)" in str(caught.value)
        assert answers == [503, 503, 503]
        gated.gate.set()
        assert [f.result().status_code for f in blocked] == [202, 202]
    assert gated.next_nonce(ProjectId(1), KEYS[33].address) == 0


def test_retry_after_is_honoured_only_on_back_pressure_answers() -> None:
    policy = RetryPolicy(retries=2, max_wait_s=3.0)
    later = {"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}
    assert policy.wait_s(httpx.Response(503, headers={"Retry-After": "1"}), 0) == 1.0
    assert policy.wait_s(httpx.Response(429, headers={"Retry-After": "60"}), 1) == 3.0
    assert policy.wait_s(httpx.Response(429, headers={"Retry-After": "1"}), 2) is None
    assert policy.wait_s(httpx.Response(503), 0) is None
    assert policy.wait_s(httpx.Response(409, headers={"Retry-After": "1"}), 0) is None
    assert policy.wait_s(httpx.Response(503, headers={"Retry-After": "soon"}), 0) is None
    assert policy.wait_s(httpx.Response(503, headers=later), 0) == 0.0  # a date in the past: at once


def test_single_messages_waiting_together_share_one_commit(gated: GatedStore) -> None:
    gated.gate.clear()
    gated.entered.clear()
    senders = KEYS[10:30]
    with TestClient(create_app(gated)) as client, ThreadPoolExecutor(len(senders) + 1) as pool:
        blocker = pool.submit(client.post, "/messages", json=message(KEYS[4]))
        assert gated.entered.wait(10)
        commits = gated.commits
        waiting = [pool.submit(client.post, "/messages", json=message(key)) for key in senders]
        wait_for_pending(client, len(senders) + 1)
        gated.gate.set()
        assert blocker.result().status_code == 202
        assert [f.result().status_code for f in waiting] == [202] * len(senders)
    assert gated.commits - commits == 2  # the blocker's, then one for all that waited behind it


def test_messages_stay_fast_while_registrations_wait_for_receipts(tmp_path: Any) -> None:
    from testbed import TRACKER

    registrar = SlowRegistrar()
    burst = 48  # more than the registration threads and more than anyio's default thread pool leaves spare
    with SqliteStore(tmp_path / "store.db") as store:
        store.upsert_project(TRACKER)
        store.upsert_device(ProjectId(1), KEYS[0].address, OWNER)
        devices = [DeviceKey.from_hex("0x" + (1000 + i).to_bytes(32, "big").hex()) for i in range(burst)]
        bodies = [
            {"device": d.address, "owner": OWNER, "signature": "0x" + d.sign_binding(DOMAIN, 1, OWNER).hex()}
            for d in devices
        ]
        # The chain answers after 5 s whatever happens, so a gateway that starves messages shows it by a wait.
        answer = threading.Timer(5.0, registrar.release.set)
        answer.start()
        with TestClient(create_app(store, registrar=registrar)) as client, ThreadPoolExecutor(burst) as pool:
            registering = [pool.submit(client.post, "/v1/projects/1/devices", json=body) for body in bodies]
            deadline = time.monotonic() + 2
            while registrar.waiting < 8 and time.monotonic() < deadline:
                time.sleep(0.01)
            waiting = registrar.waiting
            took = []
            for nonce in range(5):
                started = time.monotonic()
                assert client.post("/messages", json=message(KEYS[0], nonce)).status_code == 202
                took.append(time.monotonic() - started)
            registrar.release.set()
            answer.cancel()
            assert sorted(f.result().status_code for f in registering) == [202] * burst
    assert max(took) < 1.0, took
    assert waiting >= 8, "registrations of different devices wait for their receipts side by side"
