"""The indexer: follows chain events (:mod:`~proofstream.indexer.ports`) into the store, from a checkpoint."""
