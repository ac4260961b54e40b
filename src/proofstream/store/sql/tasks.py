"""The store's tasks: created with their messages in one write, updated under the task state machine."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

from proofstream import logs as log
from proofstream.domain.tasks import InvalidTransitionError, TaskStatus, check_transition
from proofstream.domain.types import Address, MessageId, Nonce, ProjectId, TaskId
from proofstream.errors import StaleTaskError, StoreError
from proofstream.store.ports import NO_CHANGE, StoredMessage, TaskRow, TaskUpdate
from proofstream.store.sql.engine import Connection, SqlEngine
from proofstream.store.sql.rows import (
    MESSAGE_COLUMNS,
    MESSAGE_FROM,
    TASK_COLUMNS,
    addr,
    proof_values,
    stored_message,
    task_row,
    task_values,
    u64,
)

__all__ = ["TaskQueries"]

logger = logging.getLogger(__name__)


class TaskQueries(SqlEngine):
    def create_task(self, task: TaskRow, message_ids: Sequence[MessageId]) -> None:
        project, device = u64(task.project), addr(task.device)

        def job(conn: Connection) -> None:
            self._lock_devices(conn, [(project, device)])  # no message of the device is admitted meanwhile
            if conn.execute("SELECT 1 FROM tasks WHERE id = ?", (str(task.id),)).fetchone():
                raise StoreError(f"task {task.id} already exists", code="task_conflict")
            values = task_values(task)
            conn.execute(f"INSERT INTO tasks ({TASK_COLUMNS}) VALUES ({', '.join('?' * len(values))})", values)
            for leaf_index, message_id in enumerate(message_ids):
                cursor = conn.execute(
                    "UPDATE messages SET task_id = ?, leaf_index = ?"
                    " WHERE id = ? AND task_id IS NULL AND project = ? AND device = ?",
                    (str(task.id), leaf_index, message_id, project, device),
                )
                if cursor.rowcount != 1:
                    raise StoreError(
                        f"message {message_id} is unknown, already in a task, or not of project "
                        f"{task.project} device {task.device}",
                        code="task_conflict",
                    )

        self._write(job)
        log.info(logger, "task created", task=task.id, project=task.project, device=task.device, count=len(message_ids))

    def get_task(self, task_id: TaskId) -> TaskRow | None:
        rows = self._read(f"SELECT {TASK_COLUMNS} FROM tasks WHERE id = ?", (str(task_id),))
        return task_row(rows[0]) if rows else None

    def previous_task(self, project: ProjectId, device: Address, first_nonce: Nonce) -> TaskRow | None:
        rows = self._read(
            f"SELECT {TASK_COLUMNS} FROM tasks WHERE project = ? AND device = ? AND first_nonce < ? "
            "ORDER BY first_nonce DESC LIMIT 1",
            (u64(project), addr(device), u64(first_nonce)),
        )
        return task_row(rows[0]) if rows else None

    def tasks_with_status(self, *statuses: TaskStatus) -> list[TaskRow]:
        if not statuses:
            return []
        marks = ", ".join("?" * len(statuses))
        rows = self._read(
            f"SELECT {TASK_COLUMNS} FROM tasks WHERE status IN ({marks}) ORDER BY created_at, id",
            [TaskStatus(s).value for s in statuses],
        )
        return [task_row(row) for row in rows]

    def update_task(
        self,
        task_id: TaskId,
        status: TaskStatus | None = None,
        change: TaskUpdate = NO_CHANGE,
        *,
        expect: TaskStatus | None = None,
    ) -> TaskRow:
        sets = _assignments(change)
        if status is not None:
            sets["status"] = TaskStatus(status).value
        sets["updated_at"] = time.time()

        def job(conn: Connection) -> TaskRow:
            found = self._task_status(conn, str(task_id), claim=expect is not None)
            if found is None:
                raise StoreError(f"task {task_id} is unknown", code="unknown_task")
            current = TaskStatus(found)
            if expect is not None and current is not TaskStatus(expect):
                raise StaleTaskError(f"task {task_id} is {current}, not {expect}")
            if status is not None and TaskStatus(status) is not current:
                try:
                    check_transition(current, TaskStatus(status))
                except InvalidTransitionError as exc:
                    raise StaleTaskError(f"task {task_id}: {exc}") from exc
            assignments = ", ".join(f"{name} = ?" for name in sets)
            conn.execute(f"UPDATE tasks SET {assignments} WHERE id = ?", (*sets.values(), str(task_id)))
            return task_row(conn.execute(f"SELECT {TASK_COLUMNS} FROM tasks WHERE id = ?", (str(task_id),)).fetchone())

        updated = self._write(job)
        log.info(logger, "task updated", task=task_id, status=updated.status, fields=",".join(change.changed))
        return updated

    def task_messages(self, task_id: TaskId) -> list[StoredMessage]:
        rows = self._read(
            f"SELECT {MESSAGE_COLUMNS} {MESSAGE_FROM} WHERE m.task_id = ? ORDER BY m.leaf_index", (str(task_id),)
        )
        return [stored_message(row) for row in rows]


def _assignments(change: TaskUpdate) -> dict[str, Any]:
    """Column -> value of what ``change`` sets (each field has the column of its name)."""
    sets = {name: getattr(change, name) for name in change.changed if name != "proof"}
    if "proof" in change.changed:
        sets["outputs"], sets["proof"] = proof_values(change.proof)
    return sets
