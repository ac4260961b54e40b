-- Attestations of the attest backend: one signed result per (task, attester). Attesters run as their own
-- processes, possibly on other machines, and write here; the task's assigned prover reads them back and routes
-- a quorum of signatures. Addresses lower-case 0x-hex, hashes and signatures 0x-hex, outputs a JSON list of
-- decimal strings (uint256 values do not fit a JSON number every reader accepts).
CREATE TABLE attestations (
    task_id TEXT NOT NULL REFERENCES tasks (id),
    attester TEXT NOT NULL,
    result TEXT NOT NULL,
    outputs TEXT NOT NULL,
    signature TEXT NOT NULL,
    created_at REAL NOT NULL,
    PRIMARY KEY (task_id, attester)
);
