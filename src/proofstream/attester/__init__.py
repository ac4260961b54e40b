"""Attesters of the ``attest`` backend: k-of-n independent provers that re-check a task and sign its result."""

from __future__ import annotations

from proofstream.attester.ports import AttesterChain, AttestVersion, ChainTask
from proofstream.attester.service import Attester, AttesterSettings, AttestRefusedError

__all__ = ["AttestRefusedError", "AttestVersion", "Attester", "AttesterChain", "AttesterSettings", "ChainTask"]
