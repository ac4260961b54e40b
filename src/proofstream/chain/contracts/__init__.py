"""Typed wrappers over proofstream's contracts: plain Python values in, frozen dataclasses out.

One class per contract, one module per part of the protocol; import from the module that defines a name (this
package re-exports nothing, so importing one wrapper loads no other):

- :mod:`~proofstream.chain.contracts.registries`: ProjectRegistry, DeviceRegistry, ProverRegistry, device-binding
  signatures;
- :mod:`~proofstream.chain.contracts.tasks`: TaskManager and its task records;
- :mod:`~proofstream.chain.contracts.router`: Router, and the gas a route gets;
- :mod:`~proofstream.chain.contracts.rewards`: the reference RewardToken and RewardDApp;
- :mod:`~proofstream.chain.contracts.core`: CoreContracts, the wrappers of one core deployment;
- :mod:`~proofstream.chain.contracts.events`: the decoded events;
- :mod:`~proofstream.chain.contracts._wrapper`: the base they share.

Reads return Python values (addresses checksummed, ``None`` for "not set"); writes return a
:class:`~proofstream.chain.client.Receipt` (plus what the transaction produced, e.g. task ids); event readers
return the dataclasses of :mod:`~proofstream.chain.contracts.events` for the indexer.
"""
