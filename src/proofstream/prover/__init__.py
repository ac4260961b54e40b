"""The prover stage: proof backends and the worker that proves each assigned task.

- :mod:`~proofstream.prover.ports`: what other packages build against (the task a prover sees, the record a
  project's logic reads, the ProverBackend and CircuitProject Protocols);
- :mod:`~proofstream.prover.groth16`: the Groth16 backend (snarkjs), on circuits built by
  :mod:`proofstream.circuits`;
- :mod:`~proofstream.prover.attest`: the attest backend (a quorum of attesters' signatures);
- :mod:`~proofstream.prover.isolated`: a project's logic.py run in a child process;
- :mod:`~proofstream.prover.service`: the prover loop.

Nothing is re-exported here: a project's logic.py imports ``proofstream.prover.ports.TaskRecord``, and that must
not load snarkjs wrappers, eth-abi or web3 (tests/templates/test_logic_import.py keeps it so).
"""
