"""The wrappers of one core deployment, together (``chain.deploy.attach_core`` makes them)."""

from __future__ import annotations

from dataclasses import dataclass

from proofstream.chain.contracts.registries import DeviceRegistry, ProjectRegistry, ProverRegistry
from proofstream.chain.contracts.router import Router
from proofstream.chain.contracts.tasks import TaskManager


@dataclass(frozen=True)
class CoreContracts:
    """The wrappers of one core deployment."""

    projects: ProjectRegistry
    devices: DeviceRegistry
    provers: ProverRegistry
    tasks: TaskManager
    router: Router
