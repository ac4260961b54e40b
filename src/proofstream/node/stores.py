"""The store a node opens: ``store.url`` parsed once, here in the composition root, into the adapter it names.

    ""                                      the SQLite file proofstream.sqlite3 under data_dir (the default)
    sqlite:///relative/file.db              a SQLite file, from the working directory
    sqlite:////absolute/file.db             a SQLite file, absolute
    postgresql://user@host:5432/database    a PostgreSQL database (postgres:// too); ?schema=NAME picks its schema
    postgresql:///database                  the same over the local socket

A bare path (no scheme) is a SQLite file too: what ``proofstream attester run --store`` always took.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

from proofstream.errors import ConfigError
from proofstream.store.ports import Store
from proofstream.store.postgres import PostgresStore
from proofstream.store.postgres.engine import redacted, valid_schema
from proofstream.store.sqlite import SqliteStore

__all__ = ["STORE_FILE", "StoreLocation", "parse_store_url"]

STORE_FILE = "proofstream.sqlite3"
"""The default store: this SQLite file under ``data_dir``."""

SQLITE_PREFIX = "sqlite:///"
POSTGRES_SCHEMES = ("postgresql", "postgres")


@dataclass(frozen=True)
class StoreLocation:
    """A parsed ``store.url``: a SQLite file or a PostgreSQL database (and schema)."""

    sqlite_path: Path | None = None
    postgres_url: str | None = None
    """The libpq URL, without proofstream's own ``schema`` parameter."""
    schema: str | None = None

    @property
    def url(self) -> str:
        """The location as ``store.url`` (or ``attester run --store``) takes it, for another process."""
        if self.sqlite_path is not None:
            return SQLITE_PREFIX + str(self.sqlite_path)
        assert self.postgres_url is not None
        if self.schema is None:
            return self.postgres_url
        joiner = "&" if "?" in self.postgres_url else "?"
        return f"{self.postgres_url}{joiner}{urlencode({'schema': self.schema})}"

    @property
    def shown(self) -> str:
        """The location for logs and messages: no password."""
        return redacted(self.url)

    def exists(self) -> bool:
        """Whether a SQLite file is there already (a PostgreSQL database is taken to exist: opening it says)."""
        return self.sqlite_path is None or self.sqlite_path.is_file()

    def open(self) -> Store:
        """Open (and migrate) the store; StoreError when it cannot be reached or opened."""
        if self.sqlite_path is not None:
            return SqliteStore(self.sqlite_path)
        assert self.postgres_url is not None
        return PostgresStore(self.postgres_url, schema=self.schema)


def parse_store_url(url: str, data_dir: Path) -> StoreLocation:
    """The store ``url`` names (empty: the default SQLite file under ``data_dir``); ConfigError for a scheme no
    adapter serves or a URL that names no database."""
    text = url.strip()
    if not text:
        return StoreLocation(sqlite_path=data_dir / STORE_FILE)
    if text.startswith(SQLITE_PREFIX):
        path = text.removeprefix(SQLITE_PREFIX)
        if not path:
            raise ConfigError(f"store.url {url!r} names no file: sqlite:///relative/path or sqlite:////absolute/path")
        return StoreLocation(sqlite_path=Path(path).expanduser())
    scheme, sep, _ = text.partition("://")
    if not sep:
        return StoreLocation(sqlite_path=Path(text).expanduser())
    if scheme.lower() not in POSTGRES_SCHEMES:
        raise ConfigError(
            f"store.url {redacted(url)!r} has scheme {scheme!r}: proofstream stores are sqlite:///PATH or "
            "postgresql://USER@HOST[:PORT]/DATABASE"
        )
    parts = urlsplit(text)
    if not parts.path.strip("/"):
        raise ConfigError(f"store.url {redacted(url)!r} names no database: postgresql://USER@HOST[:PORT]/DATABASE")
    params = parse_qsl(parts.query, keep_blank_values=True)
    schemas = [value for key, value in params if key == "schema"]
    schema = schemas[-1] if schemas and schemas[-1] else None
    if schema is not None and not valid_schema(schema):
        raise ConfigError(f"store.url schema {schema!r} must be lower-case letters, digits and _ (at most 63)")
    rest = urlencode([(key, value) for key, value in params if key != "schema"])
    base = text.partition("?")[0]  # as written: urlunsplit would drop the // of an empty host
    return StoreLocation(postgres_url=f"{base}?{rest}" if rest else base, schema=schema)
