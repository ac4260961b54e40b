"""Attesters of the ``attest`` backend: k-of-n independent provers that re-check a task and sign its result.

- :mod:`~proofstream.attester.ports`: what an attester needs from the chain (AttesterChain);
- :mod:`~proofstream.attester.service`: the attester itself;
- :mod:`~proofstream.attester.launcher`: the node's attester processes.

Nothing is re-exported here, so importing the port loads neither the attester nor the prover behind it.
"""
