"""The store's projects, devices and checkpoints: what the indexer and the CLI feed from the chain."""

from __future__ import annotations

import json
from typing import Any

from eth_utils.address import to_checksum_address

from proofstream.domain.types import Address, ConfigVersion, ProjectId
from proofstream.errors import StoreError
from proofstream.store.ports import ProjectConfig
from proofstream.store.sql.engine import Connection, SqlEngine
from proofstream.store.sql.rows import PROJECT_COLUMNS, addr, project_config, u64

__all__ = ["ProjectQueries"]


class ProjectQueries(SqlEngine):
    def upsert_project(self, config: ProjectConfig) -> None:
        schema_json = json.dumps(config.schema.to_json(), separators=(",", ":"))
        d = config.domain
        key = (u64(config.project), config.config)

        def job(conn: Connection) -> None:
            row = conn.execute("SELECT schema_json FROM projects WHERE project = ? AND config = ?", key).fetchone()
            if row is not None and row[0] != schema_json:
                raise StoreError(
                    f"project {config.project} config {config.config} already has another schema; "
                    "a new schema needs a new config version",
                    code="schema_conflict",
                )
            values = (d.name, d.version, str(d.chain_id), d.verifying_contract, *key)
            if row is None:
                conn.execute(
                    "INSERT INTO projects (domain_name, domain_version, chain_id, verifying_contract,"
                    " project, config, schema_json) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (*values, schema_json),
                )
            else:
                conn.execute(
                    "UPDATE projects SET domain_name = ?, domain_version = ?, chain_id = ?,"
                    " verifying_contract = ? WHERE project = ? AND config = ?",
                    values,
                )

        self._write(job)

    def get_project(self, project: ProjectId, config: ConfigVersion) -> ProjectConfig | None:
        rows = self._read(
            f"SELECT {PROJECT_COLUMNS} FROM projects WHERE project = ? AND config = ?", (u64(project), config)
        )
        return project_config(rows[0]) if rows else None

    def project_configs(self, project: ProjectId | None = None) -> list[ProjectConfig]:
        sql = f"SELECT {PROJECT_COLUMNS} FROM projects"
        params: tuple[Any, ...] = ()
        if project is not None:
            sql += " WHERE project = ?"
            params = (u64(project),)
        return [project_config(row) for row in self._read(sql + " ORDER BY project, config", params)]

    def upsert_device(
        self,
        project: ProjectId,
        device: Address,
        owner: Address,
        key: tuple[int, int] | None = None,
        *,
        block: int | None = None,
    ) -> None:
        bjj = None if key is None else "0x" + b"".join(c.to_bytes(32, "big") for c in key).hex()

        def job(conn: Connection) -> None:
            row = (u64(project), addr(device))
            if conn.execute("SELECT 1 FROM devices WHERE project = ? AND device = ?", row).fetchone():
                conn.execute(
                    "UPDATE devices SET owner = ?, bjj_key = COALESCE(?, bjj_key),"
                    " registered_block = COALESCE(?, registered_block) WHERE project = ? AND device = ?",
                    (addr(owner), bjj, block, *row),
                )
            else:
                conn.execute(
                    "INSERT INTO devices (project, device, owner, bjj_key, registered_block) VALUES (?, ?, ?, ?, ?)",
                    (*row, addr(owner), bjj, block),
                )

        self._write(job)

    def device_key(self, project: ProjectId, device: Address) -> tuple[int, int] | None:
        rows = self._read("SELECT bjj_key FROM devices WHERE project = ? AND device = ?", (u64(project), addr(device)))
        if not rows or rows[0][0] is None:
            return None
        raw = bytes.fromhex(str(rows[0][0])[2:])
        return int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big")

    def remove_device(self, project: ProjectId, device: Address) -> None:
        def job(conn: Connection) -> None:
            key = (u64(project), addr(device))
            conn.execute("DELETE FROM devices WHERE project = ? AND device = ?", key)
            conn.execute("DELETE FROM device_transfers WHERE project = ? AND device = ?", key)

        self._write(job)

    def deactivate_device(self, project: ProjectId, device: Address, *, block: int | None = None) -> None:
        self._write(
            lambda conn: conn.execute(
                "UPDATE devices SET deactivated = 1, deactivated_block = ? WHERE project = ? AND device = ?",
                (block, u64(project), addr(device)),
            )
        )

    def transfer_device(
        self, project: ProjectId, device: Address, owner: Address, *, block: int, log_index: int
    ) -> None:
        self._write(
            lambda conn: conn.execute(
                "INSERT INTO device_transfers (project, device, block, log_index, owner) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT (project, device, block, log_index) DO UPDATE SET owner = excluded.owner",
                (u64(project), addr(device), block, log_index, addr(owner)),
            )
        )

    def device_owner(self, project: ProjectId, device: Address) -> Address | None:
        rows = self._read(
            "SELECT COALESCE((SELECT t.owner FROM device_transfers t WHERE t.project = d.project"
            " AND t.device = d.device ORDER BY t.block DESC, t.log_index DESC LIMIT 1), d.owner)"
            " FROM devices d WHERE d.project = ? AND d.device = ?",
            (u64(project), addr(device)),
        )
        return Address(to_checksum_address(str(rows[0][0]))) if rows else None

    def rewind_devices(self, after_block: int) -> None:
        def job(conn: Connection) -> None:
            conn.execute("DELETE FROM devices WHERE registered_block > ?", (after_block,))
            conn.execute("DELETE FROM device_transfers WHERE block > ?", (after_block,))
            conn.execute(
                "UPDATE devices SET deactivated = 0, deactivated_block = NULL WHERE deactivated_block > ?",
                (after_block,),
            )

        self._write(job)

    def device_projects(self, device: Address) -> set[ProjectId]:
        rows = self._read("SELECT project FROM devices WHERE device = ? AND deactivated = 0", (addr(device),))
        return {ProjectId(int(row[0])) for row in rows}

    def get_checkpoint(self, name: str) -> str | None:
        rows = self._read("SELECT value FROM checkpoints WHERE name = ?", (name,))
        return str(rows[0][0]) if rows else None

    def set_checkpoint(self, name: str, value: str) -> None:
        def job(conn: Connection) -> None:
            conn.execute(
                "INSERT INTO checkpoints (name, value) VALUES (?, ?) "
                "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                (name, value),
            )

        self._write(job)
