"""Template ``uptime``: base stations / hotspots earn per second of healthy uptime (this file is not copied)."""
