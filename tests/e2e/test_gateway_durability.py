"""Durability: the gateway process is SIGKILLed while several clients send to it, then started again on the same
store. Every message it acknowledged (2xx) is there afterwards, none is stored twice, and a client that resends what
was in flight at the kill gets the same id back (202 if the kill came before the commit, 200 if after).

The store is a parameter (``STORES``): one line per adapter, each a ``store.url`` for a fresh store.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from gateway_process import READY_PREFIX, open_store
from pg_server import pg_schemas
from restart_helpers import spawn
from testbed import DOMAIN, OWNER, TRACKER, TRACKER_SCHEMA

from proofstream.domain.types import MessageId
from proofstream.sdk.device import DeviceKey

CLIENTS = 4
"""Client threads, each sending its own devices' messages in nonce order."""
DEVICES_PER_CLIENT = 2
MESSAGES_PER_DEVICE = 12
KILL_AFTER_ACKS = 36
"""The kill comes once this many messages are acknowledged: mid-load, with every client still sending."""
BASE = 1_764_300_000
CHILD = Path(__file__).with_name("gateway_process.py")


@contextmanager
def sqlite_url(tmp: Path) -> Iterator[str]:
    yield f"sqlite:///{tmp / 'gateway.db'}"


@contextmanager
def postgres_url(tmp: Path) -> Iterator[str]:
    with pg_schemas() as schemas:  # skips where there is no server
        yield f"{schemas.url}?schema={schemas.new()}"


STORES = [
    pytest.param(sqlite_url, id="sqlite"),
    pytest.param(postgres_url, id="postgres"),
]
"""How to get a fresh store's URL, per adapter."""


class Gateway:
    """``gateway_process.py`` as a child process in a session of its own (so SIGKILL reaches it alone)."""

    def __init__(self, store_url: str, log: Path) -> None:
        self.process = spawn([sys.executable, str(CHILD), store_url], log)
        assert self.process.stdout is not None
        line = self.process.stdout.readline()  # the child prints READY or dies (EOF)
        if not line.startswith(READY_PREFIX):
            self.process.kill()
            raise RuntimeError(f"the gateway did not start (rc={self.process.wait()}):\n{log.read_text()}")
        self.url = line.removeprefix(READY_PREFIX).strip()

    def kill(self) -> None:
        """SIGKILL (once more is harmless) and reap."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=30)


@dataclass
class Load:
    """What the clients share: the gateway's current URL, the acknowledgements, and the kill's two moments."""

    url: str
    acked: dict[str, str] = field(default_factory=dict)
    """Message id -> the client that got the 2xx for it."""
    resent: list[int] = field(default_factory=list)
    """Status of each resend of a message whose request failed at the kill."""
    lock: threading.Condition = field(default_factory=threading.Condition)
    restarted: threading.Event = field(default_factory=threading.Event)

    def ack(self, message_id: str, client: str) -> None:
        with self.lock:
            assert message_id not in self.acked, f"{message_id} acknowledged as new twice"
            self.acked[message_id] = client
            self.lock.notify_all()


def send_all(load: Load, name: str, bodies: list[dict[str, Any]]) -> None:
    """Send ``bodies`` in order; a request that fails (the gateway is gone) is sent again once it is back."""
    client = httpx.Client(base_url=load.url, timeout=30)
    try:
        for body in bodies:
            resend = False
            while True:
                try:
                    response = client.post("/messages", json=body)
                except httpx.TransportError:
                    assert load.restarted.wait(60), "the gateway was not restarted"
                    client.close()
                    client = httpx.Client(base_url=load.url, timeout=30)
                    resend = True
                    continue
                break
            assert response.status_code in (200, 202) if resend else response.status_code == 202, response.text
            if resend:
                load.resent.append(response.status_code)
            if response.status_code == 202:
                load.ack(response.json()["id"], name)
    finally:
        client.close()


def signed_load(store_url: str) -> dict[str, list[dict[str, Any]]]:
    """Each client's messages, signed in advance, their devices registered in the store."""
    keys = [DeviceKey.from_hex("0x" + f"{i + 1:064x}") for i in range(CLIENTS * DEVICES_PER_CLIENT)]
    store = open_store(store_url)
    try:
        store.upsert_project(TRACKER)
        for key in keys:
            store.upsert_device(TRACKER.project, key.address, OWNER)
    finally:
        store.close()
    load: dict[str, list[dict[str, Any]]] = {}
    for c in range(CLIENTS):
        devices = keys[c * DEVICES_PER_CLIENT : (c + 1) * DEVICES_PER_CLIENT]
        load[f"client-{c}"] = [
            key.sign_message(TRACKER_SCHEMA, DOMAIN, 1, 1, n, BASE + n, {"lat": n, "lon": d})
            for n in range(MESSAGES_PER_DEVICE)
            for d, key in enumerate(devices)
        ]
    return load


@pytest.mark.parametrize("fresh_store", STORES)
def test_sigkill_under_load_loses_and_duplicates_nothing(fresh_store: Callable[[Path], Any], tmp_path: Path) -> None:
    with ExitStack() as stack:
        store_url: str = stack.enter_context(fresh_store(tmp_path))
        bodies = signed_load(store_url)
        first = Gateway(store_url, tmp_path / "gateway.log")
        stack.callback(first.kill)
        load = Load(first.url)
        errors: list[BaseException] = []

        def client(name: str, messages: list[dict[str, Any]]) -> None:
            try:
                send_all(load, name, messages)
            except BaseException as exc:
                errors.append(exc)
                load.restarted.set()  # let the others go on: the test fails with what went wrong
                raise

        threads = [threading.Thread(target=client, args=item, name=item[0]) for item in bodies.items()]
        for thread in threads:
            thread.start()
        with load.lock:
            assert load.lock.wait_for(lambda: len(load.acked) >= KILL_AFTER_ACKS, timeout=60), load.acked
            first.kill()  # under the lock: no acknowledgement is counted between the kill and what follows
            acked_before_kill = dict(load.acked)
        second = Gateway(store_url, tmp_path / "gateway.log")
        stack.callback(second.kill)
        load.url = second.url
        load.restarted.set()
        for thread in threads:
            thread.join(timeout=120)
            if thread.is_alive():
                errors.append(TimeoutError(f"{thread.name} did not finish"))
        assert not errors, errors

        sent = sum(len(b) for b in bodies.values())
        assert KILL_AFTER_ACKS <= len(acked_before_kill) < sent, "the kill came after the load"
        with httpx.Client(base_url=second.url) as http:
            for message_id in acked_before_kill:
                assert http.get(f"/messages/{message_id}").status_code == 200, message_id
        store = open_store(store_url)
        try:
            stored = store.unbatched_messages(TRACKER.project)
        finally:
            store.close()
        ids = [MessageId(m.id) for m in stored]
        assert len(ids) == len(set(ids)) == sent  # everything sent is stored, each message once
        assert set(ids) >= set(acked_before_kill)
        assert load.resent, "no request was in flight at the kill"
        print(f"{len(acked_before_kill)} acknowledged before the kill, resent at it: {load.resent}")
