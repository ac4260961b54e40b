"""Everything that talks to an EVM chain; the only package that imports web3.

- :mod:`~proofstream.chain.solc`: compile Solidity with the pinned solcjs (cached).
- :mod:`~proofstream.chain.localnet`: run a local anvil chain.
- :mod:`~proofstream.chain.client`: simulate, sign, send, decode reverts (ChainClient).
- :mod:`~proofstream.chain.contracts`: typed wrappers, task ids, device-binding signatures.
- :mod:`~proofstream.chain.deploy`: deploy the core and projects; the deployments manifest.
- :mod:`~proofstream.chain.accounts`: anvil's well-known development keys (local only).
"""

from __future__ import annotations

from proofstream.chain.client import ChainClient, Receipt
from proofstream.chain.contracts import (
    CoreContracts,
    TaskAssignment,
    TaskRecord,
    TaskStatus,
    sign_device_binding,
)
from proofstream.chain.deploy import (
    CoreDeployment,
    DeploymentManifest,
    ProjectDeployment,
    attach_core,
    deploy_core,
    deploy_project,
)
from proofstream.chain.localnet import Localnet
from proofstream.chain.solc import CompilationResult, ContractArtifact, compile_core, compile_sources

__all__ = [
    "ChainClient",
    "CompilationResult",
    "ContractArtifact",
    "CoreContracts",
    "CoreDeployment",
    "DeploymentManifest",
    "Localnet",
    "ProjectDeployment",
    "Receipt",
    "TaskAssignment",
    "TaskRecord",
    "TaskStatus",
    "attach_core",
    "compile_core",
    "compile_sources",
    "deploy_core",
    "deploy_project",
    "sign_device_binding",
]
