"""A multi-party Groth16 phase-2 ceremony for a project's circuit (``proofstream ceremony ...``).

``project build`` makes a single-party setup: whoever ran it could forge proofs. A ceremony replaces it with keys
that are safe as long as one contributor destroyed their secret:

1. ``init`` runs ``snarkjs groth16 setup`` on the project's compiled circuit and a phase-1 file the user brings
   (e.g. a Perpetual Powers of Tau file): the initial key, contribution 0. It writes the ceremony folder
   (``ceremony/`` in the project) with a copy of the r1cs and ``transcript.json``.
2. Each party runs ``contribute IN.zkey OUT.zkey --name NAME`` on their own machine: the input must be the head
   of the transcript's chain (sha256), the entropy comes from the OS and reaches snarkjs on its standard input
   (never its argv), and the transcript gets the new key's sha256 and the contribution hash snarkjs prints.
3. ``verify`` checks every key of the chain with ``snarkjs zkey verify r1cs ptau zkey`` and against the
   transcript: the files' hashes, the circuit and the phase-1 file, and each key's list of contributions.
4. ``finalize`` needs at least two verified contributions; it applies a public random beacon (``zkey beacon``),
   verifies the result, exports the verification key and records both in the transcript. ``project build``
   then uses that key instead of a single-party setup, and ``project deploy`` counts it as multi-party.

The transcript lives in the project folder (commit it with the final key and the verification key); the
zkeys of the chain are the evidence behind it (publish them so anyone can run ``verify``).
"""

from proofstream.projects.ceremony.artifacts import ceremony_artifacts, is_multi_party
from proofstream.projects.ceremony.steps import contribute, finalize, init_ceremony, init_project_ceremony
from proofstream.projects.ceremony.transcript import (
    CEREMONY_DIR,
    MIN_CONTRIBUTIONS,
    TRANSCRIPT_FILE,
    CeremonyError,
    ChainLink,
    Transcript,
    read_transcript,
)
from proofstream.projects.ceremony.verify import LinkCheck, VerifyReport, verify_ceremony

__all__ = [
    "CEREMONY_DIR",
    "MIN_CONTRIBUTIONS",
    "TRANSCRIPT_FILE",
    "CeremonyError",
    "ChainLink",
    "LinkCheck",
    "Transcript",
    "VerifyReport",
    "ceremony_artifacts",
    "contribute",
    "finalize",
    "init_ceremony",
    "init_project_ceremony",
    "is_multi_party",
    "read_transcript",
    "verify_ceremony",
]
