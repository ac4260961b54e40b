"""The decoders every transport runs before anything is stored, fuzzed with hypothesis: the message body
(domain/messages.py), admission (ingest/validation.py), the HTTP batch splitter (ingest/batch.py), the registration
body, and the MQTT wire (ingest/mqtt_wire.py, and the parsing MqttGateway does per inbound message).

Garbage bytes, wrong JSON types, huge integers, duplicate keys, deep nesting and signed messages changed after
signing: each decoder answers, or refuses with a MessageError whose code is a documented one (ingest.errors
STATUS_OF_CODE, or the MQTT topic codes); never another exception.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from typing import Any

import pytest
from fuzz_inputs import change_one, json_values
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from testbed import OWNER, TRACKER, golden

from proofstream.domain.messages import DeviceMessage, parse_body
from proofstream.domain.schema import Schema
from proofstream.domain.types import Address, ConfigVersion, ProjectId
from proofstream.errors import ConfigError, MessageError, ProofstreamError
from proofstream.ingest import mqtt_wire
from proofstream.ingest.batch import split_batch
from proofstream.ingest.errors import STATUS_OF_CODE
from proofstream.ingest.intake import Admitted
from proofstream.ingest.mqtt import BrokerAddress, MqttGateway, _Inbound
from proofstream.ingest.validation import admit, admit_registration
from proofstream.settings import MqttSettings
from proofstream.store.ports import ProjectConfig

VECTORS = golden("messages.json")
VALID = [json.loads(entry["body"]) for entry in VECTORS["valid"]]
"""Signed bodies of the golden vectors (their devices are registered in the fake directory below)."""

MQTT_CODES = {mqtt_wire.INVALID_TOPIC, mqtt_wire.PROJECT_MISMATCH, mqtt_wire.DEVICE_MISMATCH}
SCHEME = mqtt_wire.TopicScheme()
FUZZ = settings(max_examples=100, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])


class Directory:
    """A fake of validation.Directory: the tracker project, every golden device registered in it."""

    def get_project(self, project: ProjectId, config: ConfigVersion) -> ProjectConfig | None:
        return TRACKER if (project, config) == (TRACKER.project, TRACKER.config) else None

    def project_configs(self, project: ProjectId | None = None) -> list[ProjectConfig]:
        return [TRACKER] if project in (None, TRACKER.project) else []

    def device_projects(self, device: Address) -> set[ProjectId]:
        return {TRACKER.project} if any(device == body["device"] for body in VALID) else set()

    def device_key(self, project: ProjectId, device: Address) -> tuple[int, int] | None:
        return None


DIRECTORY = Directory()

# --- inputs -------------------------------------------------------------------------------------------------

JSON = json_values(finite=False)


@st.composite
def changed_bodies(draw: st.DrawFn) -> dict[str, Any]:
    """A signed golden body with one part replaced, dropped or added after signing."""
    body: dict[str, Any] = json.loads(json.dumps(draw(st.sampled_from(VALID))))
    return change_one(draw, body, JSON)


def duplicate_key(body: dict[str, Any], key: str, value: Any) -> bytes:
    """``body`` with ``key`` written twice (the second time ``value``): two JSON parsers may keep either one."""
    text = json.dumps(body, separators=(",", ":"))
    return (text[:-1] + "," + json.dumps(key) + ":" + json.dumps(value) + "}").encode()


def nested(depth: int, array: bool) -> bytes:
    """``depth`` arrays (or objects) inside one another."""
    opener, closer = ("[", "]") if array else ('{"a":', "}")
    return (opener * depth + "0" + closer * depth).encode()


RAW = st.one_of(
    st.binary(max_size=400),
    JSON.map(lambda value: json.dumps(value).encode()),
    changed_bodies().map(lambda body: json.dumps(body).encode()),
    st.builds(duplicate_key, st.sampled_from(VALID), st.sampled_from(["nonce", "device", "payload"]), JSON),
    st.builds(nested, st.integers(1, 200_000), st.booleans()),
    st.integers(1, 10_000).map(lambda digits: b'{"version":' + b"9" * digits + b"}"),
    st.text(max_size=200).map(str.encode),
)
"""Bytes a device (or anyone) may send as one message."""


def assert_documented(exc: ProofstreamError, extra: frozenset[str] = frozenset()) -> None:
    assert isinstance(exc, MessageError), f"{type(exc).__name__}: {exc}"
    assert exc.code in STATUS_OF_CODE or exc.code in extra, exc.code
    assert exc.message


def decodes(decoder: Callable[[bytes], Any], raw: bytes, extra: frozenset[str] = frozenset()) -> Any:
    """``decoder(raw)``, or None when it refused ``raw`` with a documented code."""
    try:
        return decoder(raw)
    except ProofstreamError as exc:
        assert_documented(exc, extra)
        return None


# --- the message decoders -----------------------------------------------------------------------------------


def schema_of(project: ProjectId, config: ConfigVersion) -> Schema | None:
    found = DIRECTORY.get_project(project, config)
    return None if found is None else found.schema


@FUZZ
@given(RAW)
@example(b"")
@example(b"\xff\xfe")
@example(b'{"version":NaN}')
@example(b"[" * 100_000)
def test_parse_body_answers_or_refuses_with_a_code(raw: bytes) -> None:
    message = decodes(lambda data: parse_body(data, schema_of), raw)
    assert message is None or isinstance(message, DeviceMessage)


@FUZZ
@given(RAW)
@example(json.dumps(VALID[0]).encode())
def test_admission_answers_or_refuses_with_a_code(raw: bytes) -> None:
    admitted = decodes(lambda data: admit(data, DIRECTORY), raw)
    if admitted is not None:
        # Only a message its device signed gets through: the golden bodies, re-encoded or not.
        assert any(admitted.message.signature.hex() == body["signature"][2:] for body in VALID)


@FUZZ
@given(
    st.one_of(
        RAW,
        st.lists(RAW, max_size=5).map(
            lambda items: b'{"messages":[' + b",".join(items) + b"]}",
        ),
        st.lists(changed_bodies(), max_size=5).map(lambda items: json.dumps({"messages": items}).encode()),
    )
)
def test_batch_splitter_and_its_items(raw: bytes) -> None:
    items = decodes(lambda data: split_batch(data, 4), raw)
    for item in items or []:
        decodes(lambda data: admit(data, DIRECTORY), item)


@FUZZ
@given(
    st.one_of(
        RAW,
        st.fixed_dictionaries(
            {"device": JSON | st.just(OWNER), "owner": JSON | st.just(OWNER), "signature": JSON},
            optional={"public_key": JSON | st.text(alphabet="0123456789abcdef", min_size=128, max_size=128)},
        ).map(lambda body: json.dumps(body).encode()),
    )
)
def test_registration_body_answers_or_refuses_with_a_code(raw: bytes) -> None:
    decodes(lambda data: admit_registration(data, TRACKER), raw)


# --- MQTT ---------------------------------------------------------------------------------------------------

TOPICS = st.one_of(
    st.text(max_size=80),
    st.builds(
        lambda project, device: f"proofstream/v1/projects/{project}/devices/{device}/messages",
        st.one_of(st.integers(0, 2**70).map(str), st.text(max_size=24)),
        st.one_of(st.sampled_from([body["device"] for body in VALID]), st.text(max_size=44)),
    ),
)


@FUZZ
@given(TOPICS, RAW)
def test_topic_and_body_check(topic: str, raw: bytes) -> None:
    device_topic = SCHEME.parse(topic)  # never raises
    body = mqtt_wire.read_object(raw)  # never raises
    nonce = mqtt_wire.nonce_of(body)
    assert nonce is None or type(nonce) is int
    if device_topic is not None:
        decodes(lambda _: device_topic.check(body), raw, frozenset(MQTT_CODES))


@FUZZ
@given(st.text(max_size=60))
@example("mqtt://host:99999")
@example("mqtt://[::1")
def test_broker_url_is_parsed_or_refused_as_a_setting(url: str) -> None:
    with contextlib.suppress(ConfigError):
        BrokerAddress.parse(url)


class RecordingGateway(MqttGateway):
    """The MQTT gateway without a broker: what it would publish and acknowledge is recorded instead."""

    def __init__(self) -> None:
        super().__init__(MqttSettings(broker_url="mqtt://127.0.0.1:9"), self._refuse, max_body_bytes=1024, max_batch=8)
        self.replies: list[tuple[str, bytes]] = []
        self.acked: list[int] = []

    @staticmethod
    def _refuse(raws: Any) -> list[Admitted | ProofstreamError]:
        return [MessageError("not signed by a registered device", code="bad_signature") for _ in raws]

    def _reply(self, topic: str, payload: bytes, correlation: bytes | None) -> None:
        self.replies.append((topic, payload))

    def _ack(self, inbound: Any) -> None:
        self.acked.append(inbound.mid)


@pytest.fixture(scope="module")
def mqtt_gateway() -> RecordingGateway:
    return RecordingGateway()


@FUZZ
@given(st.lists(st.tuples(TOPICS, RAW), min_size=1, max_size=6))
def test_mqtt_gateway_answers_and_acknowledges_every_message(
    mqtt_gateway: RecordingGateway, inbound: list[tuple[str, bytes]]
) -> None:
    mqtt_gateway.replies.clear()
    mqtt_gateway.acked.clear()
    batch = [_Inbound(topic, raw, mid, 1, 0, None) for mid, (topic, raw) in enumerate(inbound, start=1)]
    mqtt_gateway._handle(batch)
    assert mqtt_gateway.acked == [item.mid for item in batch]
    expected = [SCHEME.parse(topic) for topic, _ in inbound]
    assert [topic for topic, _ in mqtt_gateway.replies] == [t.reply for t in expected if t is not None]
    for _, payload in mqtt_gateway.replies:
        result = json.loads(payload)
        assert result["result"] == "error"
        assert result["error"]["code"] in STATUS_OF_CODE or result["error"]["code"] in MQTT_CODES
