"""``prover.backend`` picks the Groth16 prover: the fast path only where its extra is installed, the snarkjs CLI as
the fallback. Choosing starts nothing (a warm prover starts its processes on its first proof)."""

from __future__ import annotations

from pathlib import Path

import pytest

from proofstream.circuits.artifacts import CircuitArtifacts
from proofstream.errors import ConfigError
from proofstream.prover import warm
from proofstream.prover.groth16 import SnarkjsProver
from proofstream.prover.warm import WarmProver, choose_prover

NOWHERE = Path("/nonexistent")
ARTIFACTS = CircuitArtifacts(
    "tiny", "k", NOWHERE, NOWHERE, NOWHERE, NOWHERE, 1, 1, 2, NOWHERE, NOWHERE, NOWHERE, NOWHERE, 10, "00"
)
"""Paths nowhere: choosing a prover reads no file."""


@pytest.fixture
def without_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    """As if groth16py were not installed: the check looks for a module that does not exist."""
    monkeypatch.setattr(warm, "FAST_EXTRA", "proofstream_no_such_prover_module")


def test_snarkjs_is_the_cli_whatever_is_installed() -> None:
    assert isinstance(choose_prover("snarkjs", ARTIFACTS), SnarkjsProver)


@pytest.mark.usefixtures("without_extra")
def test_auto_falls_back_to_the_cli_without_the_extra() -> None:
    assert not warm.fast_prover_installed()
    assert isinstance(choose_prover("auto", ARTIFACTS), SnarkjsProver)


@pytest.mark.usefixtures("without_extra")
def test_fast_without_the_extra_says_what_to_install() -> None:
    with pytest.raises(ConfigError, match=r"proofstream\[fastprove\]"):
        choose_prover("fast", ARTIFACTS)


@pytest.mark.skipif(not warm.fast_prover_installed(), reason="the fastprove extra (groth16py) is not installed")
@pytest.mark.parametrize("choice", ["auto", "fast"])
def test_with_the_extra_auto_and_fast_are_the_warm_prover(choice: str) -> None:
    prover = choose_prover(choice, ARTIFACTS, lanes=2)
    assert isinstance(prover, WarmProver) and prover.name == "groth16py"
    assert prover.processes == []  # nothing starts before the first proof
    prover.close()


def test_an_unknown_prover_is_refused() -> None:
    with pytest.raises(ConfigError, match="auto, snarkjs or fast"):
        choose_prover("rapidsnark", ARTIFACTS)
