-- Named checkpoints: how far a reader of the chain (the indexer) has got, so a restart resumes from there.
CREATE TABLE checkpoints (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
