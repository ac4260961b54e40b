"""Admission of a device message: parse -> known project/config -> signature -> device allowed in the project.

Pure apart from the lookups it is handed (a :class:`Directory`, which the store satisfies). Every refusal is a
MessageError whose ``code`` the transports (HTTP, MQTT) map to their own status; nothing is written here, so a
refused message leaves no trace in the store.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol

from proofstream.domain.messages import DeviceMessage, check_signature, message_id, parse_body
from proofstream.domain.schema import Schema
from proofstream.domain.types import Address, ConfigVersion, MessageId, ProjectId
from proofstream.errors import MessageError
from proofstream.store.ports import ProjectConfig

logger = logging.getLogger(__name__)


class Directory(Protocol):
    """What admission needs to know: projects with their configs, and which devices belong where."""

    def get_project(self, project: ProjectId, config: ConfigVersion) -> ProjectConfig | None: ...

    def project_configs(self, project: ProjectId | None = None) -> list[ProjectConfig]: ...

    def device_projects(self, device: Address) -> set[ProjectId]: ...


@dataclass(frozen=True)
class Admitted:
    """A message that passed every check, with what storing it needs."""

    message: DeviceMessage
    digest: bytes
    id: MessageId
    project: ProjectConfig


def admit(raw: bytes, directory: Directory) -> Admitted:
    """Check a raw body end to end; raise MessageError with a specific ``code`` at the first failure.

    Codes, in the order checked: ``invalid_json``, ``schema_mismatch``, ``invalid_field``,
    ``unsupported_version``, ``unknown_project``, ``unknown_config``, ``bad_signature``, ``unknown_device``,
    ``device_not_in_project``.
    """
    found: list[ProjectConfig] = []

    def schema_for(project: ProjectId, config: ConfigVersion) -> Schema:
        project_config = directory.get_project(project, config)
        if project_config is None:
            if directory.project_configs(project):
                raise MessageError(f"project {project} has no config version {config}", code="unknown_config")
            raise MessageError(f"project {project} is unknown", code="unknown_project")
        found.append(project_config)
        return project_config.schema

    message = parse_body(raw, schema_for)
    project_config = found[0]
    message_digest = check_signature(message, project_config.domain)
    projects = directory.device_projects(message.device)
    if not projects:
        raise MessageError(f"device {message.device} is not registered", code="unknown_device")
    if message.project not in projects:
        raise MessageError(
            f"device {message.device} is not registered in project {message.project}",
            code="device_not_in_project",
        )
    return Admitted(message, message_digest, message_id(message_digest), project_config)
