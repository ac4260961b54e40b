"""The SQL both store adapters run: the queries by concern (``projects``, ``messages``, ``tasks``,
``attestations``), how domain values lie in columns (``rows``), the bundled migrations (``schema``), and the one
seam an adapter fills (``engine``: how a query reaches its database, and the locks its database needs).

The queries are written once, with ``?`` placeholders, against :class:`~proofstream.store.sql.engine.Connection`;
``store.sqlite`` and ``store.postgres`` each supply an engine and mix these classes in.
"""
