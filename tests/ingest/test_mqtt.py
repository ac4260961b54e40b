"""The MQTT transport against real brokers and a real SQLite store, with really signed messages: results on the
reply topic, bad input answered and acknowledged, nothing lost while the gateway is away or behind (a private
mosquitto with raised queue limits), and a broker restart survived (a private persistent mosquitto)."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from mqtt_broker import DeviceClient, PrivateBroker, shared_broker_url, wait_until
from testbed import DOMAIN, OWNER, TRACKER_SCHEMA

from proofstream.domain.types import MessageId, ProjectId
from proofstream.errors import ProofstreamError
from proofstream.ingest.intake import Admitted, Intake
from proofstream.ingest.mqtt import Admit, MqttGateway, admit_batched, admit_each
from proofstream.ingest.mqtt_wire import TopicScheme
from proofstream.sdk.device import DeviceKey
from proofstream.settings import MqttSettings
from proofstream.store.sqlite import SqliteStore

KEYS = [DeviceKey.from_hex(f"{i + 1:064x}") for i in range(10)]
"""Ten devices registered in project 1 (by the ``store`` fixture below)."""
STRANGER = DeviceKey.from_hex(f"{999:064x}")
"""Registered nowhere."""


@pytest.fixture
def store(store: SqliteStore) -> SqliteStore:
    for key in KEYS:
        store.upsert_device(ProjectId(1), key.address, OWNER)
    return store


@pytest.fixture
def scheme() -> TopicScheme:
    """A prefix of this test's own, so tests sharing the machine's broker never see each other's messages."""
    return TopicScheme(f"pstest-{uuid.uuid4().hex[:10]}/v1")


@pytest.fixture
def private_broker(tmp_path: Path) -> Iterator[PrivateBroker]:
    broker = PrivateBroker(tmp_path / "broker").start()
    yield broker
    broker.stop()


def signed(key: DeviceKey, nonce: int, *, project: int = 1) -> bytes:
    body = key.sign_message(TRACKER_SCHEMA, DOMAIN, project, 1, nonce, 1_764_300_000 + nonce, {"lat": nonce, "lon": 2})
    return json.dumps(body).encode()


def start_gateway(
    url: str,
    store: SqliteStore,
    scheme: TopicScheme,
    client_id: str,
    *,
    session_s: int = 3600,
    workers: int = 4,
    shared_group: str = "",
    admit: Admit | None = None,
    batch: int = 16,
) -> MqttGateway:
    """A gateway on ``url``; by default it admits as the node does: what a worker has queued, in one commit."""
    settings = MqttSettings(
        broker_url=url,
        client_id=client_id,
        topic_prefix=scheme.prefix,
        session_expiry_seconds=session_s,
        workers=workers,
        shared_group=shared_group,
    )
    max_batch = batch if admit is None else 1  # a caller's own admission takes one message at a time
    admit = admit or admit_batched(Intake(store))
    gateway = MqttGateway(settings, admit, max_body_bytes=4096, max_batch=max_batch).start()
    assert gateway.wait_subscribed(10), "the gateway's subscription was not granted"
    return gateway


def stored_count(store: SqliteStore) -> int:
    return len(store.unbatched_messages(ProjectId(1)))


def results_of_all(scheme: TopicScheme) -> str:
    return scheme.results(1, "+")


# --- the shared broker: results and bad input ---


@pytest.mark.parametrize("one_by_one", [False, True], ids=["batched", "one-by-one"])
def test_a_published_message_is_stored_then_answered_and_a_resend_is_a_duplicate(
    store: SqliteStore, scheme: TopicScheme, one_by_one: bool
) -> None:
    url = shared_broker_url()
    key = KEYS[0]
    device = DeviceClient(url, scheme.results(1, key.address))
    admit = admit_each(Intake(store)) if one_by_one else None
    gateway = start_gateway(url, store, scheme, f"gw-{uuid.uuid4().hex[:8]}", session_s=60, admit=admit)
    try:
        body = signed(key, 7)
        device.publish(scheme.messages(1, key.address), body)
        [accepted] = device.wait_results(1)
        stored = store.get_message(MessageId(accepted["id"]))
        assert stored is not None and stored.message.nonce == 7 and stored.message.device == key.address
        assert accepted == {"result": "accepted", "id": accepted["id"], "status": "received", "nonce": 7}
        device.publish(scheme.messages(1, key.address), body)  # the device heard nothing, say, and resends
        assert device.wait_results(2)[1] == {**accepted, "result": "duplicate"}
        assert stored_count(store) == 1
    finally:
        gateway.stop()
        device.close()


def test_bad_input_is_answered_with_its_code_acknowledged_and_stores_nothing(
    store: SqliteStore, scheme: TopicScheme
) -> None:
    url = shared_broker_url()
    member, other = KEYS[0], KEYS[1]
    forged = json.loads(signed(member, 3))
    forged["timestamp"] += 1  # the signature no longer covers the body
    cases = [
        (scheme.messages(1, member.address), b"\xff\x00 not json", "invalid_json"),
        (scheme.messages(1, member.address), json.dumps(forged).encode(), "bad_signature"),
        (scheme.messages(2, member.address), signed(member, 1), "project_mismatch"),
        (scheme.messages(1, other.address), signed(member, 2), "device_mismatch"),
        (scheme.messages(1, STRANGER.address), signed(STRANGER, 1), "unknown_device"),
        (f"{scheme.prefix}/projects/one/devices/{member.address}/messages", signed(member, 4), "invalid_topic"),
        (f"{scheme.prefix}/projects/1/devices/sensor-7/messages", signed(member, 5), "invalid_topic"),
        (scheme.messages(1, member.address), b'{"nonce": 6, "pad": "' + b"x" * 5000 + b'"}', "body_too_large"),
    ]
    device = DeviceClient(url, f"{scheme.prefix}/projects/+/devices/+/results")
    client_id = f"gw-{uuid.uuid4().hex[:8]}"
    gateway = start_gateway(url, store, scheme, client_id, session_s=60, workers=1)
    try:
        for topic, payload, _ in cases:
            device.publish(topic, payload)
        results = device.wait_results(len(cases))
        codes = sorted(r["error"]["code"] for r in results)
        assert codes == sorted(code for _, _, code in cases)
        assert all(r["result"] == "error" and r["error"]["message"] for r in results)
        assert {r.get("nonce") for r in results} == {None, 1, 2, 3, 4, 5, 6}
        assert stored_count(store) == 0
        # Acknowledged: the same session, resumed, is not handed any of them again.
        gateway.stop()
        gateway = start_gateway(url, store, scheme, client_id, session_s=60, workers=1)
        time.sleep(1.0)
        assert len(device.results) == len(cases)
    finally:
        gateway.stop()
        device.close()


# --- private brokers: falling behind, and restarts ---


@pytest.mark.parametrize("queue_limit", [100_000, 1_000], ids=["raised-limits", "mosquitto-default"])
def test_nothing_is_lost_when_the_gateway_falls_behind_on_a_broker_with_raised_limits(
    store: SqliteStore, scheme: TopicScheme, tmp_path: Path, queue_limit: int
) -> None:
    """1,500 messages published while the gateway is away are all stored once it is back, on a broker whose
    queue limits were raised as docs/protocol.md says. With Mosquitto's default queue of 1,000 per client the
    broker drops the rest, though each publisher had its PUBACK: why the device waits for its result."""
    per_device, client_id = 150, "gateway-behind"
    total = per_device * len(KEYS)
    broker = PrivateBroker(tmp_path / "broker", max_queued_messages=queue_limit).start()
    device = DeviceClient(broker.url, results_of_all(scheme))
    try:
        start_gateway(broker.url, store, scheme, client_id).stop()  # the session stays subscribed, queueing
        for key in KEYS:
            device.publish_many(scheme.messages(1, key.address), [signed(key, n) for n in range(per_device)])
        gateway = start_gateway(broker.url, store, scheme, client_id)
        if queue_limit >= total:
            wait_until(lambda: stored_count(store) >= total, 120, f"{total} stored messages")
            results = device.wait_results(total)
            assert {r["result"] for r in results} == {"accepted"}
            assert len({r["id"] for r in results}) == total
        else:
            wait_until(lambda: stored_count(store) >= queue_limit, 120, f"the {queue_limit} messages queued")
            time.sleep(1.0)  # nothing more comes: the broker dropped it
            assert stored_count(store) < total
        gateway.stop()
    finally:
        device.close()
        broker.stop()


def test_broker_restarts_are_survived_with_the_persistent_session(
    store: SqliteStore, scheme: TopicScheme, private_broker: PrivateBroker
) -> None:
    key, client_id = KEYS[0], "gateway-restarts"
    topic = scheme.messages(1, key.address)
    gateway = start_gateway(private_broker.url, store, scheme, client_id)
    try:
        device = DeviceClient(private_broker.url, scheme.results(1, key.address))
        device.publish_many(topic, [signed(key, n) for n in range(0, 20)])
        wait_until(lambda: stored_count(store) == 20, 30, "the first 20 messages")
        device.close()

        # The broker restarts under a running gateway: it reconnects and resumes its session.
        private_broker.restart()
        assert gateway.wait_subscribed(30), "the gateway did not reconnect"
        device = DeviceClient(private_broker.url, scheme.results(1, key.address))
        device.publish_many(topic, [signed(key, n) for n in range(20, 40)])
        wait_until(lambda: stored_count(store) == 40, 30, "the 20 messages after the restart")

        # Published while the gateway is away, kept across a broker restart, delivered when it is back.
        gateway.stop()
        device.publish_many(topic, [signed(key, n) for n in range(40, 60)])
        device.close()
        private_broker.restart()
        gateway = start_gateway(private_broker.url, store, scheme, client_id)
        wait_until(lambda: stored_count(store) == 60, 30, "the 20 messages queued across the restart")
        nonces = [m.message.nonce for m in store.unbatched_messages(ProjectId(1))]
        assert sorted(nonces) == list(range(60))
    finally:
        gateway.stop()


def test_gateways_in_a_shared_group_split_the_messages_and_store_each_once(
    store: SqliteStore, scheme: TopicScheme, private_broker: PrivateBroker
) -> None:
    per_device = 20
    total = per_device * len(KEYS)
    handled = {"a": 0, "b": 0}
    intake = Intake(store)

    def counted(name: str) -> Admit:
        def admit(raws: Sequence[bytes]) -> Sequence[Admitted | ProofstreamError]:
            handled[name] += len(raws)
            return admit_each(intake)(raws)

        return admit

    gateways = [
        start_gateway(private_broker.url, store, scheme, f"gateway-{name}", shared_group="gw", admit=counted(name))
        for name in handled
    ]
    device = DeviceClient(private_broker.url, results_of_all(scheme))
    try:
        for key in KEYS:
            device.publish_many(scheme.messages(1, key.address), [signed(key, n) for n in range(per_device)])
        wait_until(lambda: stored_count(store) == total, 60, f"{total} stored messages")
        results = device.wait_results(total)
        time.sleep(0.5)  # a message delivered to both would be answered twice by now
        assert len(device.results) == total and {r["result"] for r in results} == {"accepted"}
        assert handled["a"] > 0 and handled["b"] > 0 and handled["a"] + handled["b"] == total
    finally:
        for gateway in gateways:
            gateway.stop()
        device.close()
