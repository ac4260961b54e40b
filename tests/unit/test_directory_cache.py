"""CachedDirectory: the store's answers remembered for ttl_s, its absence never (a fake store and clock)."""

from __future__ import annotations

from testbed import DOMAIN, TRACKER, TRACKER_SCHEMA

from proofstream.domain.types import Address, ConfigVersion, ProjectId
from proofstream.ingest.directory import CachedDirectory
from proofstream.store.ports import ProjectConfig

DEVICE = Address("0x90F79bf6EB2c4f870365E785982E1f101E93b906")
V2 = ProjectConfig(ProjectId(1), ConfigVersion(2), TRACKER_SCHEMA, DOMAIN)


class FakeDirectory:
    def __init__(self) -> None:
        self.configs = [TRACKER]
        self.devices: dict[str, set[ProjectId]] = {}
        self.asked = 0

    def get_project(self, project: ProjectId, config: ConfigVersion) -> ProjectConfig | None:
        self.asked += 1
        return next((c for c in self.configs if (c.project, c.config) == (project, config)), None)

    def project_configs(self, project: ProjectId | None = None) -> list[ProjectConfig]:
        self.asked += 1
        return [c for c in self.configs if project is None or c.project == project]

    def device_projects(self, device: Address) -> set[ProjectId]:
        self.asked += 1
        return set(self.devices.get(device, set()))

    def device_key(self, project: ProjectId, device: Address) -> tuple[int, int] | None:
        return None


def test_answers_are_remembered_for_the_ttl_and_absence_never() -> None:
    now = [0.0]
    store = FakeDirectory()
    cache = CachedDirectory(store, ttl_s=2.0, clock=lambda: now[0])
    assert cache.device_projects(DEVICE) == set()
    store.devices[DEVICE] = {ProjectId(1)}
    assert cache.device_projects(DEVICE) == {1}  # a device just registered is seen at once
    asked = store.asked
    assert cache.device_projects(DEVICE) == {1} and cache.get_project(ProjectId(1), ConfigVersion(1)) == TRACKER
    assert cache.get_project(ProjectId(1), ConfigVersion(1)) == TRACKER
    assert store.asked == asked + 1
    store.devices[DEVICE] = set()  # deactivated: seen once the entry is older than the ttl
    assert cache.device_projects(DEVICE) == {1}
    now[0] = 2.0
    assert cache.device_projects(DEVICE) == set()


def test_a_new_config_version_is_seen_at_once() -> None:
    store = FakeDirectory()
    cache = CachedDirectory(store, clock=lambda: 0.0)
    assert cache.project_configs(ProjectId(1)) == [TRACKER]
    assert cache.get_project(ProjectId(1), ConfigVersion(2)) is None
    store.configs.append(V2)
    assert cache.get_project(ProjectId(1), ConfigVersion(2)) == V2
    assert cache.project_configs(ProjectId(1)) == [TRACKER, V2]
