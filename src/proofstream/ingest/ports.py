"""What the gateway needs from outside the store: the chain (to register devices, to ask whether a config
version still takes messages) and the files behind each version's content hash.

The node composes them from chain adapters (:mod:`proofstream.chain.gateway`) and its builds; tests pass fakes.
A gateway without a registrar refuses registrations (``registration_disabled``); without liveness every version
the store knows is live; without content it serves no files; without device states it serves no DIDs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from proofstream.domain.did import Membership
from proofstream.domain.types import Address, ConfigVersion, ProjectId
from proofstream.ports import DeviceRegistrationRequest


class Registrar(Protocol):
    def register_device(self, request: DeviceRegistrationRequest) -> str:
        """Submit the checked registration (DeviceRegistry.registerDevice or registerBjjDevice) and return the
        transaction hash; raise a ProofstreamError (``chain_unavailable`` and ``already_registered`` reach the
        device as they are, anything else becomes ``registration_failed``)."""
        ...

    def still_pending(self, tx_hash: str) -> bool:
        """Whether a registration this registrar sent in ``tx_hash`` may still take effect: mined in the chain as it
        is now, or waiting to be. False once a reorganisation dropped it: the gateway then sends it again."""
        ...


class VersionLiveness(Protocol):
    def is_live(self, project: ProjectId, version: ConfigVersion) -> bool:
        """Whether ``version`` still takes new messages (it is current or in its grace period)."""
        ...


class ContentSource(Protocol):
    def content(self, project: ProjectId, version: ConfigVersion) -> Mapping[str, bytes] | None:
        """The files a config version's content hash covers, by name; None for a version this node does not hold."""
        ...


class DeviceStates(Protocol):
    def membership(self, project: ProjectId, device: Address) -> Membership | None:
        """The device's owner and whether it is active in ``project``, as the DeviceRegistry holds them now (None:
        not registered there); raise a ProofstreamError ``chain_unavailable`` when the chain cannot say."""
        ...
