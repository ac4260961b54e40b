"""Device signatures checked inside the circuit (``[proof] signatures = "circuit"``), for the signed variant of
every template: the generated wrapper compiles and fits 2^15, a batch signed by the registered key has a witness,
and every way of passing off a message the key did not sign for this very task has none.

Witnesses are computed with the circuit's own wasm (circom checks every ``===`` while computing one, so a
forgery fails there); the one attack the wasm cannot express (the verifier switched off in a used slot) is a
hand-edited witness checked against the r1cs with ``snarkjs wtns check``, and so is a forged S or R8x in a used slot
(a prover need not run the wasm).
"""

from __future__ import annotations

import dataclasses
import random
from pathlib import Path
from typing import Any

import pytest

from proofstream.circuits.artifacts import CompiledCircuit
from proofstream.circuits.ptau import required_power
from proofstream.circuits.signed import SIGNED_CAPACITY, sign_task
from proofstream.circuits.witness import (
    Witness,
    calculate_witness,
    check_witness,
    read_symbols,
    read_wtns,
    write_wtns,
)
from proofstream.domain.circuit_task import CircuitTask
from proofstream.domain.eddsa import EddsaKey
from proofstream.domain.layout import SIGNATURE_INPUTS, batch_root, circuit_inputs
from proofstream.errors import CircuitError
from proofstream.projects.circuit import ProjectCircuit
from proofstream.projects.comparison import records_of
from proofstream.projects.spec import SIGNATURE_PUBLIC_INPUTS, ProjectSpec

TEMPLATES = ("tracker-distance", "weather-quality", "uptime")
KEY = EddsaKey(bytes([7]) * 32)
OTHER_KEY = EddsaKey(bytes([8]) * 32)
CHAIN_ID = 31337
REGISTRY = 0x5FBDB2315678AFECB367F032D93F642F64180AA3
PROJECT = 3
DEVICE = 0x1234567890ABCDEF1234567890ABCDEF12345678
CONFIG = 2


def unsigned_task(spec: ProjectSpec, count: int = 3) -> CircuitTask:
    readings = spec.generator().readings(random.Random(11), 1, count, 1_700_000_000)
    records = records_of(readings, first_nonce=20)
    fields = spec.schema.payload_names
    root = batch_root(PROJECT, DEVICE, records, fields, spec.depth)
    return CircuitTask(PROJECT, 77, DEVICE, 0xABC, root, tuple(records), config=CONFIG)


def signed(spec: ProjectSpec, task: CircuitTask, key: EddsaKey = KEY, **context: int) -> CircuitTask:
    chain_id, registry = context.get("chain_id", CHAIN_ID), context.get("registry", REGISTRY)
    return sign_task(task, key, chain_id, registry, spec.schema.payload_names)


def inputs_of(spec: ProjectSpec, task: CircuitTask) -> dict[str, Any]:
    return circuit_inputs(task, spec.schema.payload_names, spec.depth)


def with_signatures_of(spec: ProjectSpec, task: CircuitTask, forged: CircuitTask) -> dict[str, Any]:
    """The honest task's inputs (public inputs as the Router builds them) carrying ``forged``'s signatures."""
    inputs = inputs_of(spec, signed(spec, task))
    other = inputs_of(spec, forged)
    for name in ("sigR8x", "sigR8y", "sigS"):
        inputs[name] = other[name]
    return inputs


def rejected(compiled: CompiledCircuit, inputs: dict[str, Any], work: Path) -> None:
    with pytest.raises(CircuitError, match="Assert Failed"):
        calculate_witness(compiled, inputs, work / "w.wtns")


@pytest.mark.parametrize("template", TEMPLATES)
def test_the_signed_wrapper_compiles_fits_2_15_and_costs_about_4_9k_per_message(
    template: str,
    signed_specs: dict[str, ProjectSpec],
    signed_compiled: dict[str, CompiledCircuit],
    unsigned_compiled: dict[str, CompiledCircuit],
    record_property: Any,
) -> None:
    spec, compiled, plain = signed_specs[template], signed_compiled[template], unsigned_compiled[template]
    assert spec.capacity == SIGNED_CAPACITY and spec.circuit_signatures
    assert compiled.public_signals == spec.n_public == len(spec.outputs) + 11 + SIGNATURE_PUBLIC_INPUTS
    assert len(SIGNATURE_INPUTS) == SIGNATURE_PUBLIC_INPUTS
    per_message = compiled.constraints / SIGNED_CAPACITY
    plain_per_message = plain.constraints / SIGNED_CAPACITY
    signature_cost = per_message - plain_per_message
    power = required_power(compiled.constraints, compiled.public_signals)
    print(  # the figures the README quotes (pytest -s)
        f"{template}: capacity {SIGNED_CAPACITY}, {plain.constraints} constraints without signatures "
        f"({plain_per_message:.0f}/message), {compiled.constraints} with ({per_message:.0f}/message): "
        f"{signature_cost:.0f} per in-circuit signature; needs 2^{power}"
    )
    record_property("constraints", {"signed": compiled.constraints, "unsigned": plain.constraints})
    assert power <= 15
    assert 4_000 < signature_cost < 5_500


@pytest.mark.parametrize("template", TEMPLATES)
def test_a_batch_signed_by_the_registered_key_has_a_witness_with_the_logic_outputs(
    template: str, signed_specs: dict[str, ProjectSpec], signed_compiled: dict[str, CompiledCircuit], work: Path
) -> None:
    spec = signed_specs[template]
    task = signed(spec, unsigned_task(spec))
    calculate_witness(signed_compiled[template], inputs_of(spec, task), work / "w.wtns")
    witness = read_wtns(work / "w.wtns")
    expected = ProjectCircuit.of(spec).reference_outputs(task)
    assert witness.values[1 : 1 + spec.n_public] == expected
    assert expected[-5:] == (CHAIN_ID, REGISTRY, CONFIG, *KEY.public)
    # A full task and a single message too: padding slots carry R8 = (0, 1), S = 0.
    for count in (1, SIGNED_CAPACITY):
        full = signed(spec, unsigned_task(spec, count))
        calculate_witness(signed_compiled[template], inputs_of(spec, full), work / f"w{count}.wtns")


def forgeries(spec: ProjectSpec, task: CircuitTask) -> dict[str, dict[str, Any]]:
    honest = inputs_of(spec, signed(spec, task))
    forged_s = dict(honest, sigS=[honest["sigS"][0] + 1, *honest["sigS"][1:]])
    moved = {
        **honest,
        **{name: [honest[name][1], honest[name][0], *honest[name][2:]] for name in ("sigR8x", "sigR8y", "sigS")},
    }
    other = dataclasses.replace
    unsigned_padding = dict(honest, sigS=[*honest["sigS"][:-1], 1])
    identity_off = dict(honest, sigR8y=[*honest["sigR8y"][:-1], 0])
    return {
        "forged S": forged_s,
        "signature moved to another message": moved,
        "signed for another project": with_signatures_of(spec, task, signed(spec, other(task, project=PROJECT + 1))),
        "signed under another config version": with_signatures_of(spec, task, signed(spec, other(task, config=1))),
        "signed for another registry": with_signatures_of(spec, task, signed(spec, task, registry=REGISTRY + 1)),
        "signed for another chain": with_signatures_of(spec, task, signed(spec, task, chain_id=1)),
        "signed by a key other than the registered one": with_signatures_of(spec, task, signed(spec, task, OTHER_KEY)),
        "a payload field changed after signing": {
            **honest,
            spec.schema.payload_names[0]: [
                honest[spec.schema.payload_names[0]][0] ^ 1,
                *honest[spec.schema.payload_names[0]][1:],
            ],
        },
        "padding slot with S != 0": unsigned_padding,
        "padding slot with R8 other than the identity": identity_off,
    }


@pytest.mark.parametrize("template", TEMPLATES)
def test_no_witness_for_a_message_the_registered_key_did_not_sign_for_this_task(
    template: str, signed_specs: dict[str, ProjectSpec], signed_compiled: dict[str, CompiledCircuit], work: Path
) -> None:
    spec = signed_specs[template]
    task = unsigned_task(spec)  # 3 of 4 slots used: the last is padding
    for label, inputs in forgeries(spec, task).items():
        with pytest.raises(CircuitError, match="Assert Failed"):
            calculate_witness(signed_compiled[template], inputs, work / "w.wtns")
            pytest.fail(f"{template}: a witness exists for: {label}")


def honest_tracker_witness(
    signed_specs: dict[str, ProjectSpec], signed_compiled: dict[str, CompiledCircuit], work: Path
) -> tuple[CompiledCircuit, Witness, dict[str, int]]:
    """The signed tracker circuit, the witness of an honest 3-message task (checked against the r1cs: the control
    of every hand edit) and the circuit's signal -> wire map."""
    spec, compiled = signed_specs["tracker-distance"], signed_compiled["tracker-distance"]
    calculate_witness(compiled, inputs_of(spec, signed(spec, unsigned_task(spec))), work / "honest.wtns")
    check_witness(compiled, work / "honest.wtns")
    return compiled, read_wtns(work / "honest.wtns"), read_symbols(compiled.sym)


def test_switching_the_verifier_off_in_a_used_slot_breaks_the_r1cs(
    signed_specs: dict[str, ProjectSpec], signed_compiled: dict[str, CompiledCircuit], work: Path
) -> None:
    compiled, honest, symbols = honest_tracker_witness(signed_specs, signed_compiled, work)
    # --O2 may merge `enabled <== valid[i]` into valid[i]'s own wire: then switching it off is valid[i] = 0.
    wire = symbols.get("main.signatures.verifier[1].enabled", symbols["main.valid[1]"])
    assert honest.values[wire] == 1
    write_wtns(work / "off.wtns", honest.replace(wire, 0))
    with pytest.raises(CircuitError):
        check_witness(compiled, work / "off.wtns")


@pytest.mark.parametrize("signal", ["sigS", "sigR8x"])
def test_a_forged_signature_in_a_hand_edited_witness_breaks_the_r1cs(
    signal: str, signed_specs: dict[str, ProjectSpec], signed_compiled: dict[str, CompiledCircuit], work: Path
) -> None:
    """What a prover would hand snarkjs to skip the wasm's own asserts: the honest witness with one signature
    wire of a used slot changed, every other wire (the verifier's included) left as the real signature made it."""
    compiled, honest, symbols = honest_tracker_witness(signed_specs, signed_compiled, work)
    wire = symbols[f"main.{signal}[1]"]
    write_wtns(work / "forged.wtns", honest.replace(wire, honest.values[wire] + 1))
    with pytest.raises(CircuitError, match="witness does not satisfy") as caught:
        check_witness(compiled, work / "forged.wtns")
    assert caught.value.code == "witness_invalid"
