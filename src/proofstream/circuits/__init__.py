"""Circuits: the circom library every project circuit includes, and the toolchain proofstream runs on a circuit.

The circom library (``include "proofstream/<file>.circom";`` in a project circuit):

- ``batch.circom``: the batch checks every project circuit runs (valid prefix, increasing nonces and times, the
  Merkle root, the anchor);
- ``signatures.circom``: the in-circuit EdDSA-Poseidon checks of a signed project.

The Python modules:

- :mod:`~proofstream.circuits.build`, :mod:`~proofstream.circuits.artifacts`, :mod:`~proofstream.circuits.ptau`:
  circom compile and the Groth16 setup, cached by content hash, and the powers of tau they need;
- :mod:`~proofstream.circuits.witness`: witnesses, computed, read, written and checked;
- :mod:`~proofstream.circuits.interface`: does a compiled circuit's interface fit its project;
- :mod:`~proofstream.circuits.signed`: the wrapper that makes a project circuit check its device signatures;
- :mod:`~proofstream.circuits.tools`: the one place the Node tools (circom2, snarkjs) are started.

Elsewhere, by the layer they belong to:

- the circuit-input layout (which inputs in which order, how a task becomes the input JSON) is protocol:
  :mod:`proofstream.domain.layout`, over the task types of :mod:`proofstream.domain.circuit_task`;
- a developer's project as a circuit, and the differential check of it against the project's Python logic
  (``proofstream project test``), are project tooling: :mod:`proofstream.projects.circuit`,
  :mod:`proofstream.projects.comparison`, :mod:`proofstream.projects.differential` (:mod:`proofstream.testing` is
  their public face);
- proving with the built keys is a proof backend's work: :mod:`proofstream.prover.groth16`.

Nothing is imported here, so importing one module does not pay for the others.
"""
