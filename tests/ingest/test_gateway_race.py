"""Two gateways sharing one store race on one device: exactly one message of each conflicting pair is stored,
whichever endpoint each came through, and the store ends consistent. Run with two apps in one process (two store
objects, two writer threads, two SQLite connections) and with two processes (nothing shared but the file)."""

from __future__ import annotations

import itertools
import multiprocessing
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from gateway_race import COPIER, PROJECT, REWINDER, Outcome, rewinder_nonce, run_side, run_side_in_child, seed

from proofstream.store.sqlite import SqliteStore

ROUNDS = 24


def check(path: Path, sides: list[list[list[Outcome]]]) -> None:
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
    with SqliteStore(path) as store:
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


def test_two_gateways_in_one_process(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    seed(path)
    barrier = threading.Barrier(2, timeout=60)
    with ThreadPoolExecutor(2) as pool:
        futures = [pool.submit(run_side, path, side, ROUNDS, barrier) for side in (0, 1)]
        sides = [future.result(timeout=120) for future in futures]
    check(path, sides)


def test_two_gateway_processes(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    seed(path)
    context = multiprocessing.get_context("spawn")  # no fork of a process that runs threads
    barrier = context.Barrier(2, timeout=60)
    results: multiprocessing.Queue[tuple[int, list[list[Outcome]]]] = context.Queue()
    children = [
        context.Process(target=run_side_in_child, args=(path, side, ROUNDS, barrier, results)) for side in (0, 1)
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
    check(path, [got[0], got[1]])
