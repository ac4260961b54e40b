"""What only the SQLite adapter has (WAL, migrations, group commit, durability of acknowledged writes across a
SIGKILL, its column layout); the conformance suite runs on it from test_store_conformance.py."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from contextlib import closing
from pathlib import Path

import pytest
from store_conformance import KEYS, new_task, signed
from testbed import TRACKER

from proofstream.domain.tasks import TaskStatus
from proofstream.domain.types import MessageId
from proofstream.errors import StoreError
from proofstream.store.ports import StoredProof, TaskUpdate
from proofstream.store.sqlite import SqliteStore


def test_wal_and_schema_version(tmp_path: Path) -> None:
    with SqliteStore(tmp_path / "s.db") as store:
        assert store.schema_version == 8
    conn = sqlite3.connect(tmp_path / "s.db")
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        rows = conn.execute("SELECT version, name FROM schema_version").fetchall()
        assert rows == [
            (1, "0001_init.sql"),
            (2, "0002_checkpoints.sql"),
            (3, "0003_attestations.sql"),
            (4, "0004_device_keys.sql"),
            (5, "0005_device_deactivated.sql"),
            (6, "0006_message_envelope.sql"),
            (7, "0007_device_blocks.sql"),
            (8, "0008_device_transfers.sql"),
        ]
    finally:
        conn.close()


def test_reopening_does_not_migrate_again(tmp_path: Path) -> None:
    SqliteStore(tmp_path / "s.db").close()
    with SqliteStore(tmp_path / "s.db") as store:
        assert store.schema_version == 8


def test_a_newer_database_is_refused(tmp_path: Path) -> None:
    SqliteStore(tmp_path / "s.db").close()
    conn = sqlite3.connect(tmp_path / "s.db")
    conn.execute("INSERT INTO schema_version VALUES (99, '0099_future.sql', 0)")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="newer"):
        SqliteStore(tmp_path / "s.db")


def test_closed_store_refuses_work(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "s.db")
    store.close()
    store.close()  # idempotent
    with pytest.raises(StoreError, match="closed"):
        store.upsert_project(TRACKER)
    with pytest.raises(StoreError, match="closed"):
        store.get_project(TRACKER.project, TRACKER.config)


def test_group_commit_batches_waiting_writers(tmp_path: Path) -> None:
    """While another connection holds the write lock, writers queue up; they then commit in one or two
    transactions, and none returns before its commit."""
    path = tmp_path / "s.db"
    with SqliteStore(path) as store:
        store.upsert_project(TRACKER)
        before = store.commits
        blocker = sqlite3.connect(path, isolation_level=None)
        blocker.execute("BEGIN EXCLUSIVE")
        messages = [signed(KEYS[i % 3], i) for i in range(20)]
        done: list[MessageId] = []

        def put(i: int) -> None:
            message, mid = messages[i]
            store.put_message(message, mid, 1.0)
            done.append(mid)

        threads = [threading.Thread(target=put, args=(i,)) for i in range(20)]
        for thread in threads:
            thread.start()
        time.sleep(1.0)
        assert done == []  # nobody is acknowledged while the commit cannot happen
        blocker.execute("COMMIT")
        blocker.close()
        for thread in threads:
            thread.join()
        assert len(done) == 20
        assert store.commits - before <= 3


def test_one_failing_job_does_not_sink_its_batch(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    with SqliteStore(path) as store:
        store.upsert_project(TRACKER)
        blocker = sqlite3.connect(path, isolation_level=None)
        blocker.execute("BEGIN EXCLUSIVE")
        good = [signed(KEYS[0], n) for n in range(5)]
        conflicting, conflicting_id = signed(KEYS[0], 2, lat=999)
        outcomes: dict[str, object] = {}

        def put(name: str, message: object, mid: MessageId) -> None:
            try:
                outcomes[name] = store.put_message(message, mid, 1.0).created  # type: ignore[arg-type]
            except StoreError as exc:
                outcomes[name] = exc.code

        threads = [threading.Thread(target=put, args=(f"good{i}", m, i_d)) for i, (m, i_d) in enumerate(good)]
        threads.append(threading.Thread(target=put, args=("bad", conflicting, conflicting_id)))
        for thread in threads:
            thread.start()
        time.sleep(0.5)
        blocker.execute("COMMIT")
        blocker.close()
        for thread in threads:
            thread.join()
        # Whichever of nonce 2's two versions came first wins; the other is the conflict. All else commits.
        assert sorted(map(str, outcomes.values())) == ["True"] * 5 + ["nonce_conflict"]
        assert len(store.unbatched_messages(TRACKER.project)) == 5


CHILD = textwrap.dedent(
    """
    import json, sys
    from proofstream.domain.eip712 import Domain
    from proofstream.domain.messages import digest, message_id, parse_body
    from proofstream.domain.schema import Field, Schema
    from proofstream.sdk.device import DeviceKey
    from proofstream.store.ports import ProjectConfig
    from proofstream.store.sqlite import SqliteStore

    TRACKER_SCHEMA = Schema(payload=(Field("lat", "uint32"), Field("lon", "uint32")))
    domain = Domain(chain_id=31337, verifying_contract="0x5FbDB2315678afecb367f032d93F642f64180aa3")
    key = DeviceKey.from_hex(sys.argv[2])
    store = SqliteStore(sys.argv[1])
    store.upsert_project(ProjectConfig(1, 1, TRACKER_SCHEMA, domain))
    for nonce in range(100000):
        body = key.sign_message(TRACKER_SCHEMA, domain, 1, 1, nonce, nonce, {"lat": nonce, "lon": 1})
        message = parse_body(json.dumps(body).encode(), lambda p, c: TRACKER_SCHEMA)
        mid = message_id(digest(message, domain))
        store.put_message(message, mid, 0.0)
        sys.stdout.write(mid + "\\n")
        sys.stdout.flush()
    """
)


def test_acknowledged_messages_survive_sigkill(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path), KEYS[0].to_hex()],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert child.stdout is not None
    acked: list[str] = []
    try:
        while len(acked) < 40:
            line = child.stdout.readline()
            assert line, "the writer died before 40 acknowledgements"
            acked.append(line.strip())
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
        child.stdout.close()
    assert child.returncode == -signal.SIGKILL
    with SqliteStore(path) as store:
        missing = [mid for mid in acked if store.get_message(MessageId(mid)) is None]
        assert missing == []
        assert store.next_nonce(TRACKER.project, KEYS[0].address) >= len(acked)


OLD_OUTPUTS = '["7"]'
OLD_PROOF = (
    '{"backend": "groth16", "calldata": "0102", "public_signals": ["7", "1", "2"], "prev_time": 0, '
    '"prev_leaf": "0", "last_time": 1003, "last_leaf": "5"}'
)
"""The ``outputs`` and ``proof`` columns as the prover wrote them before the proof was typed."""


def test_a_proof_is_stored_in_the_columns_it_always_had(tmp_path: Path) -> None:
    """A store written before StoredProof reads back, and a StoredProof is written in the same layout: no
    migration, and a node restarted on an older store routes the proofs it holds."""
    path = tmp_path / "s.db"
    with SqliteStore(path) as store:
        store.upsert_project(TRACKER)
        mids = [store.put_message(*signed(KEYS[0], n), 1.0).message_id for n in range(2)]
        old, new = new_task(KEYS[0], 0, 0), new_task(KEYS[0], 1, 1)
        store.create_task(old, mids[:1])
        store.create_task(new, mids[1:])
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.execute("UPDATE tasks SET outputs = ?, proof = ? WHERE id = ?", (OLD_OUTPUTS, OLD_PROOF, str(old.id)))
    expected = StoredProof("groth16", (7,), b"\x01\x02", (7, 1, 2), 0, 0, 1003, 5)
    with SqliteStore(path) as store:
        got = store.get_task(old.id)
        assert got is not None and got.proof == expected and got.outputs == (7,)
        store.update_task(new.id, TaskStatus.PROVING, TaskUpdate(proof=expected))
    with closing(sqlite3.connect(path)) as conn:
        columns = conn.execute("SELECT outputs, proof FROM tasks WHERE id = ?", (str(new.id),)).fetchone()
    assert (json.loads(columns[0]), json.loads(columns[1])) == (json.loads(OLD_OUTPUTS), json.loads(OLD_PROOF))


def test_a_corrupted_proof_is_a_store_error(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    with SqliteStore(path) as store:
        store.upsert_project(TRACKER)
        task = new_task(KEYS[0], 0, 0)
        store.create_task(task, [store.put_message(*signed(KEYS[0], 0), 1.0).message_id])
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.execute("UPDATE tasks SET outputs = '[]', proof = '{\"backend\": \"groth16\"}'")
    with SqliteStore(path) as store, pytest.raises(StoreError, match=f"proof of task {task.id} does not parse"):
        store.get_task(task.id)
