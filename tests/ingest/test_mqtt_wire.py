"""The MQTT transport without a broker: the topic scheme, the topic check, result bodies, the broker URL, the
``[mqtt]`` settings, and ``admit_each`` over a real store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from testbed import DOMAIN, OWNER, TRACKER_SCHEMA

from proofstream.domain.tasks import TaskStatus
from proofstream.domain.types import Address, MessageId, ProjectId
from proofstream.errors import ConfigError, ConflictError, MessageError, StoreError
from proofstream.ingest.intake import Admitted, Intake
from proofstream.ingest.mqtt import BrokerAddress, MqttGateway, admit_each, is_transient
from proofstream.ingest.mqtt_wire import (
    DEVICE_MISMATCH,
    INVALID_TOPIC,
    PROJECT_MISMATCH,
    TopicScheme,
    accepted_result,
    error_result,
    nonce_of,
    read_object,
)
from proofstream.sdk.device import DeviceKey
from proofstream.settings import MqttSettings, load_settings
from proofstream.store.ports import RECEIVED
from proofstream.store.sqlite import SqliteStore

KEY = DeviceKey.from_hex(f"{1:064x}")
DEVICE = KEY.address
SCHEME = TopicScheme("acme/v1")


def body(nonce: int, *, project: int = 1, device: str = DEVICE) -> bytes:
    return json.dumps({"project": project, "device": device, "nonce": nonce}).encode()


# --- topics ---


def test_the_scheme_names_one_topic_pair_per_project_and_device() -> None:
    assert SCHEME.messages(7, DEVICE) == f"acme/v1/projects/7/devices/{DEVICE}/messages"
    assert SCHEME.results(7, DEVICE) == f"acme/v1/projects/7/devices/{DEVICE}/results"
    assert SCHEME.subscription() == "acme/v1/projects/+/devices/+/messages"
    assert SCHEME.subscription("gateways") == "$share/gateways/acme/v1/projects/+/devices/+/messages"
    assert TopicScheme("acme/v1/").messages(7, DEVICE) == SCHEME.messages(7, DEVICE)


def test_a_message_topic_parses_into_its_project_device_and_reply_topic() -> None:
    topic = SCHEME.parse(SCHEME.messages(7, DEVICE.upper().replace("0X", "0x")))
    assert topic is not None and topic.error is None
    assert topic.project == 7 and topic.device == DEVICE.lower()
    assert topic.reply == SCHEME.results(7, DEVICE.upper().replace("0X", "0x"))  # the device's own spelling


@pytest.mark.parametrize(
    "topic",
    [
        "other/v1/projects/1/devices/x/messages",
        "acme/v1/projects/1/devices/x",
        "acme/v1/projects/1/devices/x/y/messages",
    ],
)
def test_a_topic_outside_the_scheme_names_no_reply_topic(topic: str) -> None:
    assert SCHEME.parse(topic) is None


@pytest.mark.parametrize(
    ("project", "device"),
    [("one", DEVICE), ("01", DEVICE), (str(2**64), DEVICE), ("1", "sensor-7"), ("1", DEVICE[:-1])],
)
def test_a_topic_of_no_project_or_no_device_is_answered_invalid_topic(project: str, device: str) -> None:
    topic = SCHEME.parse(f"acme/v1/projects/{project}/devices/{device}/messages")
    assert topic is not None and topic.reply == f"acme/v1/projects/{project}/devices/{device}/results"
    with pytest.raises(MessageError) as refused:
        topic.check(read_object(body(1)))
    assert refused.value.code == INVALID_TOPIC


@pytest.mark.parametrize("prefix", ["", "a/+/b", "a/#", "/abs", "$SYS/x"])
def test_a_prefix_that_is_no_topic_name_is_refused(prefix: str) -> None:
    with pytest.raises(ConfigError):
        TopicScheme(prefix)


def test_a_message_must_be_of_its_topics_project_and_device() -> None:
    topic = SCHEME.parse(SCHEME.messages(1, DEVICE))
    assert topic is not None
    topic.check(read_object(body(1)))
    topic.check(read_object(body(1, device=DEVICE.upper().replace("0X", "0x"))))  # any case
    for raw, code in ((body(1, project=2), PROJECT_MISMATCH), (body(1, device="0x" + "ab" * 20), DEVICE_MISMATCH)):
        with pytest.raises(MessageError) as refused:
            topic.check(read_object(raw))
        assert refused.value.code == code
    topic.check(read_object(b"not json"))  # left to admission, which says invalid_json
    topic.check(read_object(b'{"project": "1"}'))  # left to admission, which says invalid_field


# --- results ---


def test_results_say_accepted_duplicate_or_the_error_code_and_echo_the_nonce() -> None:
    stored = Admitted(MessageId("0x" + "11" * 32), True, RECEIVED)
    assert json.loads(accepted_result(stored, 5)) == {
        "result": "accepted",
        "id": stored.id,
        "status": "received",
        "nonce": 5,
    }
    again = Admitted(stored.id, False, TaskStatus.BATCHED)
    assert json.loads(accepted_result(again, None)) == {"result": "duplicate", "id": stored.id, "status": "batched"}
    refused = json.loads(error_result(MessageError("bad", code="bad_signature"), 3))
    assert refused == {"result": "error", "error": {"code": "bad_signature", "message": "bad"}, "nonce": 3}


@pytest.mark.parametrize(
    ("raw", "nonce"),
    [(body(9), 9), (b'{"nonce": true}', None), (b'{"nonce": "9"}', None), (b"[9]", None), (b"\xff", None)],
)
def test_only_an_integer_nonce_is_echoed(raw: bytes, nonce: int | None) -> None:
    assert nonce_of(read_object(raw)) == nonce


# --- settings and the broker URL ---


def test_the_mqtt_section_and_its_environment_variables_are_read(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_text('[mqtt]\nbroker_url = "mqtt://broker:1884"\nshared_group = "gateways"\nworkers = 2\n')
    settings = load_settings(path, env={"PROOFSTREAM_MQTT_CLIENT_ID": "gw-2", "PROOFSTREAM_MQTT_INFLIGHT": "64"})
    assert settings.mqtt == MqttSettings(
        broker_url="mqtt://broker:1884", client_id="gw-2", shared_group="gateways", workers=2, inflight=64
    )
    assert load_settings(None, env={}).mqtt.broker_url == ""  # off by default
    with pytest.raises(ConfigError, match="unknown setting"):
        load_settings(None, env={"PROOFSTREAM_MQTT_BROKER": "x"})


def test_broker_urls_parse_with_their_default_ports_and_credentials() -> None:
    assert BrokerAddress.parse("mqtt://10.0.0.5") == BrokerAddress("10.0.0.5", 1883, False)
    assert BrokerAddress.parse("mqtts://gw%40acme:p%3Ass@broker:9000") == BrokerAddress(
        "broker", 9000, True, "gw@acme", "p:ss"
    )
    assert BrokerAddress.parse("mqtts://broker").port == 8883
    for bad in ("http://broker", "broker:1883", "mqtt://", "mqtt://broker:99999"):
        with pytest.raises(ConfigError):
            BrokerAddress.parse(bad)


@pytest.mark.parametrize(
    "options", [{"qos": 0}, {"qos": 2}, {"workers": 0}, {"inflight": 0}, {"broker_url": "tcp://x"}]
)
def test_the_gateway_refuses_settings_that_would_not_be_at_least_once(options: dict[str, object]) -> None:
    settings = MqttSettings(**{"broker_url": "mqtt://127.0.0.1", **options})  # type: ignore[arg-type]
    with pytest.raises(ConfigError):
        MqttGateway(settings, lambda raws: [], max_body_bytes=1024)


# --- admission ---


def test_admit_each_answers_every_message_in_its_place(store: SqliteStore) -> None:
    store.upsert_device(ProjectId(1), KEY.address, OWNER)
    first = KEY.sign_message(TRACKER_SCHEMA, DOMAIN, 1, 1, 1, 1_764_300_001, {"lat": 1, "lon": 2})
    raws = [json.dumps(first).encode(), b"garbage", json.dumps(first).encode()]
    outcomes = admit_each(Intake(store))(raws)
    assert [type(o) for o in outcomes] == [Admitted, MessageError, Admitted]
    assert isinstance(outcomes[0], Admitted) and outcomes[0].created
    assert isinstance(outcomes[1], MessageError) and outcomes[1].code == "invalid_json"
    assert isinstance(outcomes[2], Admitted) and not outcomes[2].created
    assert store.next_nonce(ProjectId(1), Address(KEY.address)) == 2


def test_admit_each_raises_a_store_failure_so_nothing_is_acknowledged(store: SqliteStore) -> None:
    store.upsert_device(ProjectId(1), KEY.address, OWNER)
    raw = json.dumps(KEY.sign_message(TRACKER_SCHEMA, DOMAIN, 1, 1, 1, 1_764_300_001, {"lat": 1, "lon": 2}))
    store.close()
    with pytest.raises(StoreError) as failed:
        admit_each(Intake(store))([raw.encode()])
    assert is_transient(failed.value)


def test_only_a_store_failure_is_transient() -> None:
    assert is_transient(StoreError("disk I/O error"))
    assert is_transient(StoreError("the store is closed", code="store_closed"))
    assert not is_transient(ConflictError("nonce taken"))
    assert not is_transient(ConflictError("late", code="stale_timestamp"))
    assert not is_transient(StoreError("no such project", code="unknown_project"))
    assert not is_transient(MessageError("bad", code="bad_signature"))


# --- fuzzing the decoder: whatever arrives, a refusal with a code, never a crash, nothing stored ---

SIGNED = KEY.sign_message(TRACKER_SCHEMA, DOMAIN, 1, 1, 1, 1_764_300_001, {"lat": 1, "lon": 2})
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=50),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=10,
)
mutants = st.builds(
    lambda key, value: json.dumps({**SIGNED, key: value}).encode(),
    st.sampled_from([*SIGNED, "payload", "extra"]),
    json_values,
)
payloads = st.one_of(st.binary(max_size=300), json_values.map(lambda v: json.dumps(v).encode()), mutants)
topic_levels = st.one_of(st.text(max_size=45), st.just("1"), st.just(DEVICE), st.just(DEVICE.upper()))
topics = st.one_of(
    st.text(max_size=80),
    st.builds(lambda p, d: f"acme/v1/projects/{p}/devices/{d}/messages", topic_levels, topic_levels),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(topic=topics, raw=payloads)
@example(topic=SCHEME.messages(1, DEVICE), raw=json.dumps(SIGNED).encode())  # the one that is stored
def test_no_topic_or_payload_crashes_the_decoder_or_stores_anything(store: SqliteStore, topic: str, raw: bytes) -> None:
    store.upsert_device(ProjectId(1), KEY.address, OWNER)
    device_topic = SCHEME.parse(topic)
    outcome: object
    try:
        if device_topic is None:
            return
        device_topic.check(read_object(raw))
        [outcome] = admit_each(Intake(store))([raw])
    except MessageError as exc:
        outcome = exc
    if isinstance(outcome, Admitted):
        # Only the untouched signed message, on its own topic, is a message at all.
        assert json.loads(raw) == SIGNED and device_topic is not None and device_topic.device == DEVICE.lower()
    else:
        assert isinstance(outcome, MessageError | StoreError) and outcome.code and outcome.message
        assert json.loads(error_result(outcome, nonce_of(read_object(raw))))["error"]["code"] == outcome.code
    assert {m.message.nonce for m in store.unbatched_messages(ProjectId(1))} <= {SIGNED["nonce"]}
