"""The MQTT transport's wire, pure: the topic scheme, the check of a message against its topic, and the result
bodies the gateway publishes (docs/protocol.md, "Gateway MQTT").

    {prefix}/projects/{project}/devices/{device}/messages   device -> gateway: the JSON body of POST /messages
    {prefix}/projects/{project}/devices/{device}/results    gateway -> device: one result per message
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from proofstream.domain.types import Address, ProjectId
from proofstream.errors import ConfigError, MessageError, ProofstreamError
from proofstream.ingest.intake import Admitted

INVALID_TOPIC = "invalid_topic"
"""Error code of a message whose topic names no project id or no device address."""
PROJECT_MISMATCH = "project_mismatch"
"""Error code of a message whose ``project`` is not its topic's (the HTTP batch endpoint uses the same code)."""
DEVICE_MISMATCH = "device_mismatch"
"""Error code of a message whose ``device`` is not its topic's."""

_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
_PROJECT = re.compile(r"0|[1-9][0-9]{0,19}")
_MAX_U64 = 2**64 - 1


@dataclass(frozen=True)
class TopicScheme:
    """Where devices publish and where they read their results, under ``prefix``."""

    prefix: str = "proofstream/v1"

    def __post_init__(self) -> None:
        if not self.prefix or any(c in self.prefix for c in "+#\0") or self.prefix.startswith(("/", "$")):
            raise ConfigError(f"topic prefix {self.prefix!r} must be non-empty, without + # or a leading / or $")

    def subscription(self, shared_group: str = "") -> str:
        """The filter the gateway subscribes to: every device of every project (``$share/{group}/`` before it
        when several gateways share the load)."""
        filter_ = f"{self.prefix.rstrip('/')}/projects/+/devices/+/messages"
        return f"$share/{shared_group}/{filter_}" if shared_group else filter_

    def messages(self, project: int, device: str) -> str:
        """The topic a device publishes its messages to."""
        return f"{self.prefix.rstrip('/')}/projects/{project}/devices/{device}/messages"

    def results(self, project: int, device: str) -> str:
        """The topic a device reads its results from."""
        return f"{self.prefix.rstrip('/')}/projects/{project}/devices/{device}/results"

    def parse(self, topic: str) -> DeviceTopic | None:
        """The device topic ``topic`` is, or None when it is not one of this scheme's message topics at all (so
        no reply topic can be named). Raises nothing: a topic of the right shape whose project or device does not
        parse still names its reply topic, and :attr:`DeviceTopic.error` says what is wrong with it."""
        head = self.prefix.rstrip("/") + "/projects/"
        if not topic.startswith(head):
            return None
        levels = topic[len(head) :].split("/")
        if len(levels) != 4 or levels[1] != "devices" or levels[3] != "messages":
            return None
        project_text, device_text = levels[0], levels[2]
        reply = f"{head}{project_text}/devices/{device_text}/results"
        if not _PROJECT.fullmatch(project_text) or int(project_text) > _MAX_U64:
            return DeviceTopic(reply, None, None, f"topic project {project_text!r} is not a decimal uint64")
        if not _ADDRESS.fullmatch(device_text):
            return DeviceTopic(reply, None, None, f"topic device {device_text!r} is not 0x and 40 hex digits")
        return DeviceTopic(reply, ProjectId(int(project_text)), Address(device_text.lower()), None)


@dataclass(frozen=True)
class DeviceTopic:
    """A message topic of the scheme: its reply topic, and the project and device it names (or ``error``)."""

    reply: str
    project: ProjectId | None
    device: Address | None
    """Lower case."""
    error: str | None

    def check(self, body: Mapping[str, Any] | None) -> None:
        """Refuse (MessageError) a message this topic does not name; ``body`` is the message's JSON object (None
        when it is not one).

        Only ``project`` and ``device`` are compared here: whether the body is a valid, signed message at all is
        the admission path's to say, with its own codes. The signature covers both fields, so a body that
        matches its topic and then passes admission is the topic device's own message."""
        if self.error is not None:
            raise MessageError(self.error, code=INVALID_TOPIC)
        if body is None:
            return
        project, device = body.get("project"), body.get("device")
        if _is_int(project) and project != self.project:
            raise MessageError(
                f"message of project {project} published to the topic of project {self.project}",
                code=PROJECT_MISMATCH,
            )
        if isinstance(device, str) and device.lower() != self.device:
            raise MessageError(
                f"message of device {device} published to the topic of device {self.device}", code=DEVICE_MISMATCH
            )


def read_object(raw: bytes) -> dict[str, Any] | None:
    """The JSON object ``raw`` holds, or None (the admission path then says what is wrong with it)."""
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    return body if isinstance(body, dict) else None


def nonce_of(body: Mapping[str, Any] | None) -> int | None:
    """The ``nonce`` of a body that has an integer one, echoed in its result so a device can match them."""
    nonce = None if body is None else body.get("nonce")
    return nonce if _is_int(nonce) else None


def accepted_result(admitted: Admitted, nonce: int | None) -> bytes:
    """``{"result": "accepted" | "duplicate", "id", "status", "nonce"}``: the message is durably stored (now,
    or already before: a resend)."""
    body: dict[str, Any] = {
        "result": "accepted" if admitted.created else "duplicate",
        "id": admitted.id,
        "status": str(admitted.status),
    }
    return _encode(body, nonce)


def error_result(exc: ProofstreamError, nonce: int | None) -> bytes:
    """``{"result": "error", "error": {"code", "message"}, "nonce"}``: refused, nothing stored."""
    return _encode({"result": "error", "error": {"code": exc.code, "message": exc.message}}, nonce)


def _encode(body: dict[str, Any], nonce: int | None) -> bytes:
    if nonce is not None:
        body["nonce"] = nonce
    return json.dumps(body, separators=(",", ":")).encode()


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
