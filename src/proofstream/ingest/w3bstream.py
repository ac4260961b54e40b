"""Admission of W3bStream v0.25 messages (``POST /v1/task``), into the same pipeline as proofstream's own.

The body's signer is recovered (domain/w3bstream.py), matched to a device of the project, and the payload read
into the project's schema as its ``[w3bstream]`` section says. What comes out is an ordinary message checked by
the same store rules (nonce, timestamp order), with an envelope of what the device signed kept beside it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from proofstream.domain import w3bstream
from proofstream.domain.messages import DeviceMessage, message_id
from proofstream.domain.types import Address, ConfigVersion, Nonce, ProjectId, Timestamp
from proofstream.errors import MessageError
from proofstream.ingest.validation import Admitted, Directory
from proofstream.store.ports import ProjectConfig


@dataclass(frozen=True)
class W3bProject:
    """What the W3bStream endpoint must know of a project version beyond the store's config."""

    config: w3bstream.W3bConfig | None
    """Its ``[w3bstream]`` section (None: the version takes no W3bStream messages)."""
    circuit_signatures: bool = False
    """Whether its circuit checks every device signature: then a W3bStream message can never be proven."""


W3bProjects = Mapping[tuple[ProjectId, ConfigVersion], W3bProject]


def admit_w3b(raw: bytes, directory: Directory, projects: W3bProjects, now: float) -> Admitted:
    """Check a W3bStream body end to end, with what the device signed as the result's ``envelope``; raise
    MessageError with a specific ``code`` at the first failure. ``directory`` is the one every transport reads
    (the gateway's :class:`~proofstream.ingest.directory.CachedDirectory`, through ``Intake.check_w3b``).

    Codes, in the order checked: ``invalid_json``, ``invalid_field``, ``unknown_project``, ``unknown_config``,
    ``w3bstream_refused``, ``w3bstream_disabled``, ``bad_signature``, ``unknown_device``,
    ``device_not_in_project``, ``schema_mismatch`` (a hex payload of the wrong length)."""
    request = w3bstream.parse_request(raw)
    project = ProjectId(request.project)
    project_config = _version(directory, project, request.project_version)
    found = projects.get((project, project_config.config))
    if found is not None and found.circuit_signatures:
        raise MessageError(
            f"project {project} checks device signatures in its circuit (BabyJubJub keys, bound to this chain): a "
            "W3bStream signature binds no chain or contract and cannot be proven there",
            code="w3bstream_refused",
        )
    if found is None or found.config is None:
        raise MessageError(
            f"project {project} config {project_config.config} takes no W3bStream messages: its proofstream.toml "
            "has no [w3bstream] section",
            code="w3bstream_disabled",
        )
    config = found.config
    message_digest = w3bstream.digest(request, config.signed_keys)
    signer = _device(directory, project, w3bstream.iter_signers(message_digest, request.signature))
    payload, timestamp = w3bstream.payload_values(request, project_config.schema, config, int(now))
    message = DeviceMessage(
        schema=project_config.schema,
        project=project,
        config=project_config.config,
        device=signer.address,
        nonce=Nonce(request.nonce),
        timestamp=Timestamp(timestamp),
        payload=payload,
        signature=signer.signature,
    )
    envelope = w3bstream.envelope(request, config.signed_keys, signer)
    return Admitted(message, message_digest, message_id(message_digest), project_config, envelope)


def _version(directory: Directory, project: ProjectId, version: str) -> ProjectConfig:
    """The config version a request names: ``projectVersion`` as a decimal version, or the newest when empty."""
    configs = directory.project_configs(project)
    if not configs:
        raise MessageError(f"project {project} is unknown", code="unknown_project")
    if not version:
        return max(configs, key=lambda c: c.config)
    chosen = [c for c in configs if str(c.config) == version]
    if not chosen:
        raise MessageError(
            f"project {project} has no config version {version!r} (projectVersion is a decimal config version, or "
            "empty for the newest)",
            code="unknown_config",
        )
    return chosen[0]


def _device(directory: Directory, project: ProjectId, candidates: Iterator[w3bstream.Signer]) -> w3bstream.Signer:
    """The candidate that is a device of ``project`` (recovery ids 0 and 1 give two keys; at most one is), the
    keys recovered one at a time until it is found."""
    elsewhere: Address | None = None
    tried: list[w3bstream.Signer] = []
    for candidate in candidates:
        tried.append(candidate)
        projects = directory.device_projects(candidate.address)
        if project in projects:
            return candidate
        if projects:
            elsewhere = candidate.address
    if elsewhere is not None:
        raise MessageError(f"device {elsewhere} is not registered in project {project}", code="device_not_in_project")
    raise MessageError(
        f"neither key the signature recovers ({', '.join(c.address for c in tried)}) is a registered device",
        code="unknown_device",
    )
