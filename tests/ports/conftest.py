"""The port conformance suites: one suite per chain port, run against the real adapter on anvil (marked
``chain``) and against the fake the roles' tests use (no chain needed), so the two cannot drift apart.

The chain fixtures are the contract tests' (tests/plugins/chain_world.py): a deployed core and project, rolled
back after every test.
"""

from chain_world import _setup, compilation, localnet, world

__all__ = ["_setup", "compilation", "localnet", "world"]
