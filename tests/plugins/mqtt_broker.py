"""Real MQTT brokers for the MQTT transport's tests: the machine's shared Mosquitto (127.0.0.1:1883), a private
``mosquitto`` started on a free port with its own config (queue limits, persistence), and a device client that
publishes signed messages and collects the results on its reply topic. Nothing here fakes a broker."""

from __future__ import annotations

import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

SHARED_HOST, SHARED_PORT = "127.0.0.1", 1883


def reachable(host: str, port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def shared_broker_url() -> str:
    """The machine's Mosquitto, or a skip that says it is missing (a failure in CI, where it must run)."""
    if not reachable(SHARED_HOST, SHARED_PORT):
        pytest.skip(f"no MQTT broker on {SHARED_HOST}:{SHARED_PORT} (start mosquitto to run the MQTT tests)")
    return f"mqtt://{SHARED_HOST}:{SHARED_PORT}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)


class PrivateBroker:
    """A ``mosquitto`` of the test's own on a free port, persistent in ``folder``: it survives ``restart()``
    with every session and queued message, as an operator's broker configured per docs/protocol.md does."""

    def __init__(self, folder: Path, *, max_queued_messages: int = 100_000) -> None:
        binary = shutil.which("mosquitto")
        if binary is None:
            pytest.skip("the mosquitto binary is not installed (apt-get install mosquitto)")
        self.binary = binary
        self.port = free_port()
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.config = folder / "mosquitto.conf"
        self.config.write_text(
            "\n".join(
                [
                    f"listener {self.port} 127.0.0.1",
                    "allow_anonymous true",
                    # Started as root, mosquitto would drop to the user "mosquitto", who cannot write here.
                    f"user {pwd.getpwuid(os.getuid()).pw_name}",
                    "persistence true",
                    f"persistence_location {folder}/",
                    f"max_queued_messages {max_queued_messages}",
                    "max_queued_bytes 0",
                    "max_inflight_messages 0",
                    "persistent_client_expiration 1d",
                    "log_dest stderr",
                    "log_type error",
                    "log_type warning",
                    "",
                ]
            )
        )
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self) -> PrivateBroker:
        log = (self.folder / "mosquitto.log").open("ab")
        self._process = subprocess.Popen([self.binary, "-c", str(self.config)], stdout=log, stderr=log)
        wait_until(lambda: reachable("127.0.0.1", self.port, 0.2), 10, f"mosquitto on port {self.port}")
        return self

    def stop(self) -> None:
        """SIGTERM: mosquitto writes its persistence file, then exits."""
        if self._process is not None and self._process.poll() is None:
            self._process.send_signal(signal.SIGTERM)
            self._process.wait(timeout=10)
        self._process = None

    def restart(self) -> None:
        self.stop()
        self.start()


class DeviceClient:
    """A device's MQTT session: publishes message bodies at QoS 1 and collects every result published on its
    reply topic (``results``, in arrival order)."""

    def __init__(self, url: str, reply_topic: str) -> None:
        host, port = url.removeprefix("mqtt://").split(":")
        self.results: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        subscribed = threading.Event()
        self._client = paho.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"device-{uuid.uuid4().hex[:12]}",
            protocol=MQTTProtocolVersion.MQTTv5,
        )
        self._client.max_inflight_messages_set(1000)
        self._client.on_message = lambda _c, _u, message: self._collect(message.payload)
        self._client.on_subscribe = lambda *_: subscribed.set()
        self._client.connect(host, int(port))
        self._client.loop_start()
        self._client.subscribe(reply_topic, qos=1)
        assert subscribed.wait(10), "the device's subscription was not granted"

    def _collect(self, payload: bytes | bytearray) -> None:
        with self._lock:
            self.results.append(json.loads(payload))

    def publish(self, topic: str, payload: bytes) -> None:
        self._client.publish(topic, payload, qos=1).wait_for_publish(10)

    def publish_many(self, topic: str, payloads: list[bytes]) -> None:
        infos = [self._client.publish(topic, payload, qos=1) for payload in payloads]
        for info in infos:
            info.wait_for_publish(30)

    def wait_results(self, count: int, timeout: float = 30) -> list[dict[str, Any]]:
        wait_until(lambda: len(self.results) >= count, timeout, f"{count} results (have {len(self.results)})")
        with self._lock:
            return list(self.results)

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()
