"""The conformance suites of the gateway's chain ports (:mod:`proofstream.ingest.ports`): the registrar and the
version liveness, run against their chain adapters on anvil (:mod:`proofstream.chain.gateway`) and against the
fakes the gateway's tests use (``testbed.RecordingRegistrar``, ``testbed.StaticLiveness``)."""

from __future__ import annotations

import re
from typing import Protocol

import pytest
from chain_world import World
from eth_account import Account
from eth_account.signers.local import LocalAccount
from testbed import RecordingRegistrar, StaticLiveness

from proofstream.chain.contracts.registries import sign_device_binding
from proofstream.chain.gateway import ChainLiveness, ChainRegistrar
from proofstream.domain.types import Address, ConfigVersion, ProjectId
from proofstream.errors import ProofstreamError
from proofstream.ingest.ports import Registrar, VersionLiveness
from proofstream.ports import DeviceRegistrationRequest

TX_HASH = re.compile(r"0x[0-9a-f]{64}")


class GatewayWorld(Protocol):
    @property
    def registrar(self) -> Registrar: ...

    @property
    def liveness(self) -> VersionLiveness: ...

    @property
    def project(self) -> ProjectId: ...

    def request(self, device: LocalAccount) -> DeviceRegistrationRequest:
        """The device's own signed binding to an owner in the project, as the gateway hands it on."""
        ...


class FakeWorld:
    def __init__(self) -> None:
        self.registrar = RecordingRegistrar()
        self.project = ProjectId(1)
        self.liveness = StaticLiveness({(self.project, 1)})

    def request(self, device: LocalAccount) -> DeviceRegistrationRequest:
        return DeviceRegistrationRequest(self.project, Address(device.address), Address("0x" + "05" * 20), b"\x01" * 65)


class AnvilWorld:
    def __init__(self, world: World) -> None:
        self._world = world
        self.registrar = ChainRegistrar(world.core.devices, world.owner)
        self.liveness = ChainLiveness(world.core.projects, cache_s=0)
        self.project = world.project_id

    def request(self, device: LocalAccount) -> DeviceRegistrationRequest:
        w = self._world
        owner = Address(w.device_owner.address)
        signature = sign_device_binding(device, w.client.chain_id, w.core.devices.address, self.project, owner)
        return DeviceRegistrationRequest(self.project, Address(device.address), owner, signature)


@pytest.fixture(params=["fake", pytest.param("anvil", marks=pytest.mark.chain)])
def w(request: pytest.FixtureRequest) -> GatewayWorld:
    if request.param == "fake":
        return FakeWorld()
    return AnvilWorld(request.getfixturevalue("world"))


class TestRegistrar:
    def test_a_signed_binding_is_submitted_and_answered_with_its_transaction(self, w: GatewayWorld) -> None:
        assert TX_HASH.fullmatch(w.registrar.register_device(w.request(Account.create())))

    def test_a_device_registered_once_is_already_registered(self, w: GatewayWorld) -> None:
        device = Account.create()
        w.registrar.register_device(w.request(device))
        with pytest.raises(ProofstreamError) as again:
            w.registrar.register_device(w.request(device))
        assert again.value.code == "already_registered"  # the one refusal the gateway passes on as it is

    def test_two_devices_are_two_registrations(self, w: GatewayWorld) -> None:
        first, second = (w.registrar.register_device(w.request(Account.create())) for _ in range(2))
        assert TX_HASH.fullmatch(first) and TX_HASH.fullmatch(second)

    def test_a_registration_just_sent_is_pending_and_an_unknown_transaction_is_not(self, w: GatewayWorld) -> None:
        assert w.registrar.still_pending(w.registrar.register_device(w.request(Account.create())))
        assert not w.registrar.still_pending("0x" + "ef" * 32)


class TestVersionLiveness:
    def test_the_current_version_takes_messages(self, w: GatewayWorld) -> None:
        assert w.liveness.is_live(w.project, ConfigVersion(1))

    def test_a_version_never_registered_does_not(self, w: GatewayWorld) -> None:
        assert not w.liveness.is_live(w.project, ConfigVersion(2))

    def test_nor_does_any_version_of_an_unknown_project(self, w: GatewayWorld) -> None:
        assert not w.liveness.is_live(ProjectId(w.project + 99), ConfigVersion(1))
