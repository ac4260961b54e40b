"""Everything that talks to an EVM chain; the only package that imports web3.

Import from the module that defines a name: this package re-exports nothing, so a role that imports a port (or a
project's logic that imports a record type) never loads web3 by way of it.

- :mod:`~proofstream.chain.solc`: compile Solidity with the pinned solcjs (cached).
- :mod:`~proofstream.chain.localnet`: run a local anvil chain.
- :mod:`~proofstream.chain.client`: simulate, sign, send, decode reverts (ChainClient).
- :mod:`~proofstream.chain.contracts`: typed wrappers, one module per part of the protocol.
- :mod:`~proofstream.chain.deploy`: deploy the core and projects; the deployments manifest.
- :mod:`~proofstream.chain.book`: the pipeline's task book and the indexer's events over the wrappers.
- :mod:`~proofstream.chain.attest`: the ``attest`` backend's verifier and the attester's view of the chain.
- :mod:`~proofstream.chain.receipts`: a message's receipt checked against the chain.
- :mod:`~proofstream.chain.accounts`: anvil's well-known development keys (local only).
"""
