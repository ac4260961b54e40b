"""A real gateway for the device SDK and CLI tests: create_app on a SqliteStore, served by uvicorn on a free port
in a thread, with a fake registrar that plays the chain and the indexer (it allows the device in the store)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import uvicorn
from testbed import TRACKER

from proofstream.ingest.http import create_app
from proofstream.ports import DeviceRegistrationRequest
from proofstream.store.sqlite import SqliteStore

PROJECT = TRACKER.project
"""The project the gateway serves (the tracker project)."""


@dataclass
class FakeRegistrar:
    """Records requests; "mines" each by allowing the device in the store after ``delay`` seconds."""

    store: SqliteStore
    delay: float = 0.0
    requests: list[DeviceRegistrationRequest] = field(default_factory=list)
    timers: list[threading.Timer] = field(default_factory=list)

    def register_device(self, request: DeviceRegistrationRequest) -> str:
        self.requests.append(request)

        def index() -> None:
            self.store.upsert_device(request.project, request.device, request.owner)

        if self.delay:
            timer = threading.Timer(self.delay, index)
            self.timers.append(timer)
            timer.start()
        else:
            index()
        return "0x" + f"{len(self.requests):064x}"

    def still_pending(self, tx_hash: str) -> bool:
        return True


@dataclass
class LiveGateway:
    url: str
    store: SqliteStore
    registrar: FakeRegistrar


@contextmanager
def serve_gateway(db: Path, *, delay: float = 0.3, with_registrar: bool = True) -> Iterator[LiveGateway]:
    """A gateway on a free port; ``with_registrar=False`` serves one that refuses registrations."""
    with SqliteStore(db) as store:
        store.upsert_project(TRACKER)
        registrar = FakeRegistrar(store, delay=delay)
        app = create_app(store, registrar=registrar if with_registrar else None)
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline, "the test gateway did not start"
            time.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        try:
            yield LiveGateway(f"http://127.0.0.1:{port}", store, registrar)
        finally:
            server.should_exit = True
            thread.join(10)
            for timer in registrar.timers:  # none may write to the store once it is closed
                timer.cancel()
                timer.join()
