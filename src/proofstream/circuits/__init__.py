"""Circuits: the circom library every project circuit includes, and everything proofstream does with a circuit.

The circom library (``include "proofstream/<file>.circom";`` in a project circuit):

- ``batch.circom``: the batch checks every project circuit runs (valid prefix, increasing nonces and times, the
  Merkle root, the anchor);
- ``signatures.circom``: the in-circuit EdDSA-Poseidon checks of a signed project.

The Python modules, from protocol to tooling:

- :mod:`~proofstream.circuits.layout`: the circuit-input layout, which inputs in which order and how a task
  becomes the input JSON (pure: no Node, no web3);
- :mod:`~proofstream.circuits.signed`: the wrapper that makes a project circuit check its device signatures;
- :mod:`~proofstream.circuits.project`: a project folder as a circuit, its reference outputs and its compile;
- :mod:`~proofstream.circuits.build`, :mod:`~proofstream.circuits.artifacts`, :mod:`~proofstream.circuits.ptau`:
  circom compile and the Groth16 setup, cached by content hash, and the powers of tau they need;
- :mod:`~proofstream.circuits.witness`: witnesses, computed, read, written and checked;
- :mod:`~proofstream.circuits.interface`: does a compiled circuit's interface fit its project;
- :mod:`~proofstream.circuits.compare`, :mod:`~proofstream.circuits.check`: the differential check of a circuit
  against the project's Python logic (``proofstream project test``; :mod:`proofstream.testing` is its public face);
- :mod:`~proofstream.circuits.tools`: the one place the Node tools (circom2, snarkjs) are started.

Proving with the built keys is a proof backend's work: :mod:`proofstream.prover.groth16`.

Nothing is imported here, so importing the layout does not pay for the toolchain modules.
"""
