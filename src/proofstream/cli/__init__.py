"""The ``proofstream`` command line."""
