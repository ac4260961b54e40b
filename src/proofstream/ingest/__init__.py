"""Ingest: where signed device messages enter.

- ``validation``: checks one raw message (signature, device, schema) into a domain message, pure but for the
  store reads it needs;
- ``intake``: the one admission path every transport shares (validation, liveness, clock, durable store);
- ``http``: the HTTP transport (FastAPI), with ``models`` (its JSON bodies), ``errors`` (codes and statuses),
  ``batch`` (the batch body and its per-message results), ``registration`` and ``receipts``;
- ``mqtt``: the MQTT transport (paho-mqtt), with ``mqtt_wire`` (its topics and result bodies, pure);
- ``ports``: what the gateway needs from the chain and the node (registrar, version liveness, content files).
"""
