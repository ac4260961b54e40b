"""``store.url``: parsed once in the composition root (proofstream.node.stores) into the adapter it names."""

from __future__ import annotations

from pathlib import Path

import pytest
from pg_server import pg_schemas
from testbed import TRACKER

from proofstream.errors import ConfigError, StoreError
from proofstream.node.stores import STORE_FILE, StoreLocation, parse_store_url
from proofstream.settings import load_settings
from proofstream.store.postgres import PostgresStore
from proofstream.store.sqlite import SqliteStore


def test_the_default_is_the_sqlite_file_in_the_data_dir(tmp_path: Path) -> None:
    assert parse_store_url("", tmp_path) == StoreLocation(sqlite_path=tmp_path / STORE_FILE)
    assert load_settings(env={}).store.url == ""


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:///rel/store.db", StoreLocation(sqlite_path=Path("rel/store.db"))),
        ("sqlite:////abs/store.db", StoreLocation(sqlite_path=Path("/abs/store.db"))),
        ("/abs/store.db", StoreLocation(sqlite_path=Path("/abs/store.db"))),
        ("postgresql://ps@db.example:5433/node", StoreLocation(postgres_url="postgresql://ps@db.example:5433/node")),
        ("postgresql:///node", StoreLocation(postgres_url="postgresql:///node")),
        (
            "postgres://ps:pw@db/node?sslmode=require&schema=fleet_a",
            StoreLocation(postgres_url="postgres://ps:pw@db/node?sslmode=require", schema="fleet_a"),
        ),
    ],
)
def test_urls_name_their_adapter(url: str, expected: StoreLocation, tmp_path: Path) -> None:
    location = parse_store_url(url, tmp_path)
    assert location == expected
    assert parse_store_url(location.url, tmp_path) == location  # what attesters are handed means the same
    assert "pw" not in location.shown


@pytest.mark.parametrize(
    ("url", "match"),
    [
        ("mysql://u@h/db", "scheme 'mysql'"),
        ("redis://u:secret@h/db", r"redis://u:\*\*\*@h/db"),
        ("postgresql://u@h", "names no database"),
        ("postgresql://u@h/", "names no database"),
        ("postgresql://u@h/db?schema=Bad-Name", "schema 'Bad-Name'"),
        ("sqlite:///", "names no file"),
    ],
)
def test_a_url_no_adapter_serves_is_refused_clearly(url: str, match: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=match):
        parse_store_url(url, tmp_path)


def test_the_setting_comes_from_the_file_or_the_environment(tmp_path: Path) -> None:
    path = tmp_path / "proofstream.toml"
    path.write_text('[store]\nurl = "sqlite:///a.db"\n')
    assert load_settings(path, env={}).store.url == "sqlite:///a.db"
    env = {"PROOFSTREAM_STORE_URL": "postgresql://u@h/db"}
    assert load_settings(path, env=env).store.url == "postgresql://u@h/db"


def test_an_unreachable_server_is_a_clear_store_error(tmp_path: Path) -> None:
    location = parse_store_url("postgresql://u:secret@127.0.0.1:1/db", tmp_path)
    with pytest.raises(StoreError, match=r"cannot open the store at postgresql://u:\*\*\*@127.0.0.1:1/db: .*refused"):
        location.open()


def test_each_url_opens_its_adapter(tmp_path: Path) -> None:
    sqlite = parse_store_url("sqlite:///" + str(tmp_path / "s.db"), tmp_path).open()
    sqlite.close()
    assert isinstance(sqlite, SqliteStore) and (tmp_path / "s.db").is_file()
    with pg_schemas() as schemas:
        schema = schemas.new()
        location = parse_store_url(f"{schemas.url}?schema={schema}", tmp_path)
        first = location.open()
        try:
            assert isinstance(first, PostgresStore) and first.schema == schema
            first.upsert_project(TRACKER)
        finally:
            first.close()
        again = location.open()  # the same schema, already migrated: the data is there
        try:
            assert again.get_project(TRACKER.project, TRACKER.config) == TRACKER
        finally:
            again.close()
