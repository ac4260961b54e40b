"""A real anvil chain for the contract tests, set up once per session and rolled back after every test: the
fixtures live in tests/plugins/chain_world.py, shared with the port conformance suites."""

from chain_world import _setup, compilation, localnet, world

__all__ = ["_setup", "compilation", "localnet", "world"]
