"""The contract tests' anvil chain (tests/plugins/chain_world.py), for the P-256 registry tests."""

from chain_world import _setup, compilation, localnet, world

__all__ = ["_setup", "compilation", "localnet", "world"]
