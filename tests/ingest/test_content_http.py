"""GET /v1/projects/{id}/versions/{v}/content: the files behind a version's on-chain config hash, so anyone can
recompute it; nothing for a version the gateway does not serve."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from proofstream.domain.types import ConfigVersion, ProjectId
from proofstream.ingest.http import create_app
from proofstream.projects.scaffold import scaffold
from proofstream.projects.spec import hash_content, load_project
from proofstream.store.sqlite import SqliteStore


def test_served_files_hash_to_the_version_hash(tmp_path: Path, empty_store: SqliteStore) -> None:
    spec = load_project(scaffold("served", "uptime", tmp_path))
    vkey = b'{"protocol": "groth16"}'
    asked: list[tuple[ProjectId, ConfigVersion]] = []

    class Content:
        def content(self, project: ProjectId, version: ConfigVersion) -> dict[str, bytes] | None:
            asked.append((project, version))
            return spec.content_files(vkey) if (project, version) == (3, 1) else None

    client = TestClient(create_app(empty_store, content=Content()))
    body = client.get("/v1/projects/3/versions/1/content").json()
    files = {name: text.encode() for name, text in body["files"].items()}
    assert set(files) == {"proofstream.toml", "logic.py", "circuit.circom", "verification_key.json"}
    assert hash_content(files) == spec.content_hash(vkey)

    missing = client.get("/v1/projects/3/versions/2/content")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "unknown_config"
    assert asked == [(3, 1), (3, 2)]
    assert client.get("/v1/projects/3/versions/0/content").status_code == 400


def test_a_gateway_without_content_serves_none(empty_store: SqliteStore) -> None:
    response = TestClient(create_app(empty_store)).get("/v1/projects/1/versions/1/content")
    assert response.status_code == 404
