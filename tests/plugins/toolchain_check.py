"""Whether the Node toolchain the chain tests need is installed (node plus anvil from `npm ci`)."""

from __future__ import annotations

import shutil

from proofstream.errors import ToolchainError
from proofstream.toolchain import find_node_modules


def toolchain_available() -> bool:
    try:
        modules = find_node_modules()
    except ToolchainError:
        return False
    return shutil.which("node") is not None and (modules / ".bin" / "anvil").exists()
