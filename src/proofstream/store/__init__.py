"""Durable storage: the Store port and its adapters (SQLite now, PostgreSQL later)."""
