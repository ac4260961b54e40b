"""The gateway alone as a child process (tests/e2e/test_gateway_durability.py): the store a ``store.url`` names,
the HTTP app on a free port of 127.0.0.1, served by uvicorn as ``proofstream node`` serves it.

    python tests/e2e/gateway_process.py STORE_URL

It prints ``READY http://127.0.0.1:PORT`` once the port listens, and serves until it is killed.
"""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import uvicorn

from proofstream.ingest.http import create_app
from proofstream.store.ports import Store
from proofstream.store.postgres import PostgresStore
from proofstream.store.sqlite import SqliteStore

READY_PREFIX = "READY "


def open_store(url: str) -> Store:
    """``sqlite:///PATH`` or ``postgresql://...[?schema=NAME]``, as ``store.url`` reads them (proofstream.node.stores,
    not imported here: it brings in the whole node, seconds of start-up on two busy cores)."""
    if url.startswith("sqlite:///"):
        return SqliteStore(Path(url.removeprefix("sqlite:///")))
    base, _, schema = url.partition("?schema=")
    return PostgresStore(base, schema=schema or None)


def main(store_url: str) -> None:
    store = open_store(store_url)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)  # connections wait in the backlog until uvicorn accepts them
    host, port = listener.getsockname()
    print(f"{READY_PREFIX}http://{host}:{port}", flush=True)
    config = uvicorn.Config(create_app(store), log_level="warning", lifespan="off")
    uvicorn.Server(config).run(sockets=[listener])


if __name__ == "__main__":
    main(sys.argv[1])
