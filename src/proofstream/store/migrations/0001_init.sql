-- proofstream store, schema version 1.
-- Plain SQL that PostgreSQL also accepts. Conventions:
--   * uint64 values (project ids, nonces, timestamps) are TEXT holding 20-digit zero-padded decimals: SQLite and
--     PostgreSQL integers are signed 64-bit and a device may use any uint64 nonce; padding keeps ORDER BY and MAX
--     numeric.
--   * addresses are lower-case 0x-hex, so lookups do not depend on the case a client sent;
--   * field elements and uint256 values (task ids, roots, chain ids) are TEXT decimals.

CREATE TABLE projects (
    project TEXT NOT NULL,
    config INTEGER NOT NULL,
    schema_json TEXT NOT NULL,
    domain_name TEXT NOT NULL,
    domain_version TEXT NOT NULL,
    chain_id TEXT NOT NULL,
    verifying_contract TEXT NOT NULL,
    PRIMARY KEY (project, config)
);

CREATE TABLE devices (
    project TEXT NOT NULL,
    device TEXT NOT NULL,
    owner TEXT NOT NULL,
    PRIMARY KEY (project, device)
);

CREATE INDEX devices_by_device ON devices (device);

CREATE TABLE tasks (
    id TEXT PRIMARY KEY,
    project TEXT NOT NULL,
    config INTEGER NOT NULL,
    device TEXT NOT NULL,
    first_nonce TEXT NOT NULL,
    last_nonce TEXT NOT NULL,
    root TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('batched', 'proving', 'submitted', 'settled', 'failed')),
    reason TEXT,
    outputs TEXT,
    proof TEXT,
    assign_tx TEXT,
    route_tx TEXT,
    gas_assign INTEGER,
    gas_route INTEGER,
    constraints INTEGER,
    prove_seconds REAL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    FOREIGN KEY (project, config) REFERENCES projects (project, config)
);

CREATE INDEX tasks_by_status ON tasks (status, created_at);

CREATE TABLE messages (
    id TEXT PRIMARY KEY,
    project TEXT NOT NULL,
    config INTEGER NOT NULL,
    device TEXT NOT NULL,
    nonce TEXT NOT NULL,
    device_time TEXT NOT NULL,
    body TEXT NOT NULL,
    received_at REAL NOT NULL,
    task_id TEXT REFERENCES tasks (id),
    leaf_index INTEGER,
    UNIQUE (project, device, nonce),
    FOREIGN KEY (project, config) REFERENCES projects (project, config)
);

CREATE INDEX messages_by_task ON messages (task_id, leaf_index);

CREATE INDEX messages_unbatched ON messages (project, device, nonce) WHERE task_id IS NULL;
