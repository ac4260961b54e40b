"""The sequencer: cuts tasks from stored messages and records their commitments on chain."""
