"""What admission looks up for every message (the project's config, the device's projects), remembered briefly.

Admission asks the same few questions of the store for every message: which config a (project, version) signs
under and which projects the device belongs to. Asked of the store each time, that was two reads per message
(about a fifth of admission's cost). :class:`CachedDirectory` answers them from memory for ``ttl_s`` seconds
after the store last answered.

Only what the store *has* is remembered, never its absence: a config version or a device added to the store is
seen by the very next message. What is remembered can lag the store by at most ``ttl_s`` (a device deactivated, a
domain changed), whichever process wrote it, so it needs no hook into the store's writes and holds for every
store adapter and every gateway sharing one store (docs/protocol.md, "Admission").
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import TypeVar

from proofstream.domain.types import Address, ConfigVersion, ProjectId
from proofstream.ingest.validation import Directory
from proofstream.store.ports import ProjectConfig

DEFAULT_TTL_S = 2.0
"""How long a remembered answer stands: bounds how late the gateway sees a device deactivated or a domain changed."""

MAX_ENTRIES = 1 << 17
"""Entries held before the cache starts afresh (about 130k devices): bounds memory whatever devices send."""

V = TypeVar("V")


class CachedDirectory:
    """A :class:`~proofstream.ingest.validation.Directory` over ``directory`` (the store) that remembers the
    store's non-empty answers for ``ttl_s`` seconds; ``clock`` is monotonic seconds (injected for tests)."""

    def __init__(
        self, directory: Directory, *, ttl_s: float = DEFAULT_TTL_S, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._directory = directory
        self._ttl_s = ttl_s
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: dict[Hashable, tuple[float, object]] = {}

    def _remembered(self, key: Hashable, ask: Callable[[], V]) -> V:
        now = self._clock()
        entry = self._entries.get(key)
        if entry is not None and now - entry[0] < self._ttl_s:
            value: V = entry[1]  # type: ignore[assignment]  # stored under this key by this method
            return value
        value = ask()
        if value:  # the store's absence is never remembered: what it gains is seen at once
            with self._lock:
                if len(self._entries) >= MAX_ENTRIES:
                    self._entries.clear()
                self._entries[key] = (now, value)
        return value

    def get_project(self, project: ProjectId, config: ConfigVersion) -> ProjectConfig | None:
        def ask() -> ProjectConfig | None:
            found = self._directory.get_project(project, config)
            if found is not None:  # maybe a version just added: the project's list of versions is stale
                with self._lock:
                    self._entries.pop(("configs", project), None)
                    self._entries.pop(("configs", None), None)
            return found

        return self._remembered(("config", project, config), ask)

    def project_configs(self, project: ProjectId | None = None) -> list[ProjectConfig]:
        return list(self._remembered(("configs", project), lambda: self._directory.project_configs(project)))

    def device_projects(self, device: Address) -> set[ProjectId]:
        return set(self._remembered(("device", device), lambda: frozenset(self._directory.device_projects(device))))

    def device_key(self, project: ProjectId, device: Address) -> tuple[int, int] | None:
        return self._remembered(("key", project, device), lambda: self._directory.device_key(project, device))
