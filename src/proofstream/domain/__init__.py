"""Pure data and functions: messages, Merkle trees, tasks, batching. No I/O here."""
