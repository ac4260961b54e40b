"""Ingest: admitting signed device messages (validation) and the transports that carry them (HTTP)."""
