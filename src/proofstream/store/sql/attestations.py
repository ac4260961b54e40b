"""The store's attestations: one signed result per (task, attester)."""

from __future__ import annotations

import logging

from proofstream import logs as log
from proofstream.domain.types import TaskId
from proofstream.errors import ConflictError, StoreError
from proofstream.store.ports import StoredAttestation
from proofstream.store.sql.engine import Connection, SqlEngine
from proofstream.store.sql.rows import ATTESTATION_COLUMNS, attestation_from_row, attestation_values

__all__ = ["AttestationQueries"]

logger = logging.getLogger(__name__)


class AttestationQueries(SqlEngine):
    def put_attestation(self, attestation: StoredAttestation) -> bool:
        row = attestation_values(attestation)

        def job(conn: Connection) -> bool:
            existing = conn.execute(
                f"SELECT {ATTESTATION_COLUMNS} FROM attestations WHERE task_id = ? AND attester = ?", row[:2]
            ).fetchone()
            if existing is not None:
                if tuple(existing[:5]) != row[:5]:
                    raise ConflictError(
                        f"attester {attestation.attester} already signed another result for task {attestation.task_id}",
                        code="attestation_conflict",
                    )
                return False
            if not conn.execute("SELECT 1 FROM tasks WHERE id = ?", (row[0],)).fetchone():
                raise StoreError(f"task {attestation.task_id} is unknown", code="unknown_task")
            conn.execute(f"INSERT INTO attestations ({ATTESTATION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)", row)
            return True

        created = self._write(job)
        if created:
            log.info(logger, "attestation stored", task=attestation.task_id, attester=attestation.attester)
        return created

    def attestations(self, task_id: TaskId) -> list[StoredAttestation]:
        rows = self._read(
            f"SELECT {ATTESTATION_COLUMNS} FROM attestations WHERE task_id = ? ORDER BY attester", (str(task_id),)
        )
        return [attestation_from_row(row) for row in rows]
