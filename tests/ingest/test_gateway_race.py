"""Two gateways sharing one store race on one device: exactly one message of each conflicting pair is stored,
whichever endpoint each came through, and the store ends consistent. Run with two apps in one process (two store
objects, two connections or writer threads) and with two processes (nothing shared but the database), on each
adapter: one SQLite file, and one PostgreSQL schema on the real server (pg_server.py)."""

from __future__ import annotations

import itertools
import multiprocessing
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from gateway_race import (
    COPIER,
    PROJECT,
    REWINDER,
    Outcome,
    open_store,
    rewinder_nonce,
    run_side,
    run_side_in_child,
    seed,
)
from pg_server import pg_schemas

ROUNDS = 24


@pytest.fixture(params=["sqlite", "postgres"])
def shared(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The shared store's URL, seeded: a SQLite file, or a fresh PostgreSQL schema dropped afterwards."""
    if request.param == "sqlite":
        url = str(tmp_path / "shared.db")
        seed(url)
        yield url
        return
    with pg_schemas() as schemas:
        url = f"{schemas.url}?schema={schemas.new()}"
        seed(url)
        yield url


def check(url: str, sides: list[list[list[Outcome]]]) -> None:
    """One winner per conflict, and the store holds exactly the winners, in order."""
    copier_winners: list[int] = []
    rewinder_winners: list[int] = []
    for round_ in range(ROUNDS):
        copied = [sides[side][round_][0] for side in (0, 1)]
        rewound = [sides[side][round_][1] for side in (0, 1)]
        assert sorted(copied) == ["accepted", "nonce_conflict"], (round_, copied)
        assert sorted(rewound) == ["accepted", "stale_timestamp"], (round_, rewound)
        copier_winners.append(copied.index("accepted"))
        rewinder_winners.append(rewound.index("accepted"))
    store = open_store(url)
    try:
        stored = store.unbatched_messages(PROJECT)
        copier = [m.message for m in stored if m.message.device == COPIER.address]
        assert [m.nonce for m in copier] == list(range(ROUNDS))
        assert [m.payload_dict["lat"] for m in copier] == [side + 1 for side in copier_winners]
        rewinder = [m.message for m in stored if m.message.device == REWINDER.address]
        expected = [rewinder_nonce(side, round_) for round_, side in enumerate(rewinder_winners)]
        assert [(m.nonce, m.timestamp) for m in rewinder] == expected
        assert all(a.timestamp < b.timestamp for a, b in itertools.pairwise(rewinder))
        assert store.next_nonce(PROJECT, REWINDER.address) == expected[-1][0] + 1
        assert len(stored) == 2 * ROUNDS
    finally:
        store.close()


def test_two_gateways_in_one_process(shared: str) -> None:
    barrier = threading.Barrier(2, timeout=60)
    with ThreadPoolExecutor(2) as pool:
        futures = [pool.submit(run_side, shared, side, ROUNDS, barrier) for side in (0, 1)]
        sides = [future.result(timeout=120) for future in futures]
    check(shared, sides)


def test_two_gateway_processes(shared: str) -> None:
    context = multiprocessing.get_context("spawn")  # no fork of a process that runs threads
    barrier = context.Barrier(2, timeout=60)
    results: multiprocessing.Queue[tuple[int, list[list[Outcome]]]] = context.Queue()
    children = [
        context.Process(target=run_side_in_child, args=(shared, side, ROUNDS, barrier, results)) for side in (0, 1)
    ]
    for child in children:
        child.start()
    try:
        got = dict(results.get(timeout=120) for _ in children)
    finally:
        for child in children:
            child.join(timeout=30)
            if child.is_alive():
                child.kill()
    assert [child.exitcode for child in children] == [0, 0]
    check(shared, [got[0], got[1]])
