"""What a device must remember across reboots: the last nonce and timestamp it signed, per project.

Kept in a small JSON file next to the key (``device.key`` -> ``device.key.state.json``) and written before a
signed message leaves the device, atomically (temporary file, fsync, rename, fsync of the folder): a power cut
then never leads to a nonce being signed twice, which the gateway would refuse as a conflict. A crash after the
write but before the send only skips a nonce, and gaps are allowed.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from proofstream.errors import ConfigError

STATE_SUFFIX = ".state.json"
STATE_FORMAT = 1


@dataclass(frozen=True)
class Progress:
    """The last message a device signed in one project."""

    nonce: int
    timestamp: int


def state_path_for(key_path: str | Path) -> Path:
    """The state file that belongs to a key file."""
    key = Path(key_path)
    return key.with_name(key.name + STATE_SUFFIX)


class DeviceState:
    """The state file of one device key: ``{"format": 1, "projects": {"<id>": {"nonce", "timestamp"}}}``."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._projects = self._read()

    def _read(self) -> dict[int, Progress]:
        if not self.path.exists():
            return {}
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            if data.get("format") != STATE_FORMAT:
                raise ValueError(f"format {data.get('format')!r}, expected {STATE_FORMAT}")
            return {
                int(project): Progress(int(entry["nonce"]), int(entry["timestamp"]))
                for project, entry in data["projects"].items()
            }
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ConfigError(
                f"the device state file {self.path} is unreadable ({exc}): move it away and the device will ask "
                "the gateway for its next nonce"
            ) from exc

    def last(self, project: int) -> Progress | None:
        return self._projects.get(project)

    def record(self, project: int, nonce: int, timestamp: int) -> None:
        """Remember ``nonce``/``timestamp`` as used in ``project``, durably, before the message is sent."""
        self._projects[project] = Progress(nonce, timestamp)
        data = {
            "format": STATE_FORMAT,
            "projects": {
                str(p): {"nonce": progress.nonce, "timestamp": progress.timestamp}
                for p, progress in sorted(self._projects.items())
            },
        }
        tmp = self.path.with_name(self.path.name + ".tmp")
        with tmp.open("w", encoding="utf-8") as handle:
            json.dump(data, handle)
            handle.flush()
            os.fsync(handle.fileno())
        tmp.replace(self.path)
        directory = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)  # the rename itself must survive a power cut
        finally:
            os.close(directory)
