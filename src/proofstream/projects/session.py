"""A connection to the chain a project command acts on: the project's own local chain, or an RPC URL.

``--chain local`` runs anvil with its state in the project's ``.proofstream/`` folder, so what one command
deploys the next one finds (and ``proofstream project run`` / ``proofstream node --project`` too); while a node
of the project runs, its chain is the one used. Any other
value is an RPC URL, and the key must come from the user (``--key-file`` or PROOFSTREAM_PRIVATE_KEY), whatever
the chain id behind it: only a chain proofstream started (here, or by a node of the project) is local.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from eth_account import Account

from proofstream.chain.client import ChainClient
from proofstream.chain.deploy import DeploymentManifest, ProjectDeployment
from proofstream.chain.localnet import Localnet
from proofstream.chain.roles import Roles, roles_for
from proofstream.errors import ConfigError
from proofstream.projects.deploy import connect, manifest_path, read_manifest
from proofstream.projects.localchain import local_state_path, running_local_chain
from proofstream.projects.spec import ProjectSpec
from proofstream.settings import ChainSettings, Settings

__all__ = ["LOCAL", "ChainSession", "open_chain"]

LOCAL = "local"


@dataclass(frozen=True)
class ChainSession:
    spec: ProjectSpec
    client: ChainClient
    roles: Roles
    rpc_url: str
    local: bool

    @property
    def manifest_path(self) -> Path:
        return manifest_path(self.spec.state_dir, self.client.chain_id)

    def manifest(self) -> DeploymentManifest | None:
        return read_manifest(self.manifest_path, self.client)

    def deployment(self) -> tuple[DeploymentManifest, ProjectDeployment]:
        """The project's deployment on this chain, or a ConfigError that says to deploy first."""
        manifest = self.manifest()
        if manifest is None or not manifest.projects:
            where = "the local chain" if self.local else f"chain {self.client.chain_id}"
            raise ConfigError(
                f"project {self.spec.name} is not deployed on {where}: run `proofstream project deploy "
                f"--chain {LOCAL if self.local else self.rpc_url}` first"
            )
        return manifest, manifest.projects[0]


@contextmanager
def open_chain(
    spec: ProjectSpec, chain: str, *, key_file: str | None = None, env: Mapping[str, str]
) -> Iterator[ChainSession]:
    """Connect to ``chain`` (``local`` or an RPC URL) for the length of the ``with`` block."""
    localnet: Localnet | None = None
    running = running_local_chain(spec.state_dir)
    if chain == LOCAL and running is not None:
        rpc_url = running  # a node of this project is running the local chain: act on that one
    elif chain == LOCAL:
        spec.state_dir.mkdir(parents=True, exist_ok=True)
        localnet = Localnet(state_path=local_state_path(spec.state_dir)).start()
        rpc_url = localnet.rpc_url
    elif chain.startswith(("http://", "https://", "ws://", "wss://")):
        rpc_url = chain
    else:
        raise ConfigError(f"--chain {chain!r}: use `local` or an RPC URL such as https://rpc.example.org")
    try:
        connect(rpc_url, Account.create())  # a throwaway key: is the chain there at all (before asking for a key)
        local = chain == LOCAL  # an anvil this command, or a node of this project, started on .proofstream/
        settings = Settings(chain=ChainSettings(rpc_url="" if local else rpc_url, key_file=key_file or ""))
        roles = roles_for(settings, local_chain=local, env=env)
        client = ChainClient(rpc_url, roles.owner)
        yield ChainSession(spec, client, roles, rpc_url, local)
    finally:
        if localnet is not None:
            localnet.stop()
