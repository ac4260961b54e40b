"""Where a project's local anvil chain keeps its state, and how a command finds the one a running node serves."""

from __future__ import annotations

from pathlib import Path

from proofstream.chain.localnet import answers

__all__ = ["local_state_path", "local_url_path", "running_local_chain"]


def running_local_chain(state_dir: Path) -> str | None:
    """The RPC URL of the local chain a running node of this project serves, if one does (it writes
    ``anvil.url`` while it runs): two anvils on one state file would each overwrite the other's state."""
    path = local_url_path(state_dir)
    try:
        url = path.read_text().strip()
    except OSError:
        return None
    return url if url and answers(url) else None


def local_url_path(state_dir: Path) -> Path:
    return state_dir / "anvil.url"


def local_state_path(state_dir: Path) -> Path:
    """Where the project's local anvil keeps its state between runs (the node uses the same file)."""
    return state_dir / "anvil-state.json"
