"""The indexer: follows chain events into the store, from a checkpoint."""
