"""Does a compiled circuit fit its project? Input signals against the schema, outputs against logic.OUTPUTS.

circom numbers the main component's signals first, in the order the witness holds them: its outputs, its public
inputs, then its private inputs (the r1cs header gives how many of each). Their names in the ``.sym`` file are
therefore the circuit's interface, including inputs the optimiser folded away (those have wire -1 but keep
their label). Comparing that interface with ``proofstream.toml`` catches, before any trusted setup, a schema
field the circuit does not read (its messages would be committed without being constrained), an input the
framework never fills, a wrong capacity and a wrong number of outputs.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from proofstream.circuits.artifacts import read_r1cs_info
from proofstream.domain.layout import (
    ANCHOR_INPUTS,
    FRAMEWORK_INPUTS,
    PUBLIC_INPUTS,
    SIGNATURE_INPUTS,
    SIGNATURE_SLOTS,
)
from proofstream.errors import CircuitError

__all__ = ["CircuitInterface", "check_circuit_matches", "read_interface"]

_SIGNAL = re.compile(r"main\.(?P<name>[A-Za-z_$][A-Za-z0-9_$]*)(?P<index>(?:\[\d+\])*)")


class _Compiled(Protocol):
    @property
    def r1cs(self) -> Path: ...

    @property
    def sym(self) -> Path: ...


class CircuitInterface:
    """The main component's outputs, public inputs and private inputs: name -> slots (0 for a scalar)."""

    def __init__(self, outputs: dict[str, int], public: dict[str, int], private: dict[str, int]) -> None:
        self.outputs = outputs
        self.public = public
        self.private = private


def _group(names: Sequence[str]) -> dict[str, int]:
    """``["a", "v[0]", "v[1]"]`` -> ``{"a": 0, "v": 2}``, in first-seen order (arrays flattened row-major)."""
    grouped: dict[str, int] = {}
    for full in names:
        match = _SIGNAL.fullmatch(full)
        if match is None:
            raise CircuitError(f"unexpected signal name {full!r} in the circuit's .sym file")
        name, index = match["name"], match["index"]
        grouped[name] = grouped.get(name, 0) + (1 if index else 0)
    return grouped


def read_interface(r1cs: Path, sym: Path) -> CircuitInterface:
    """The interface of a compiled circuit from its ``.r1cs`` header and ``.sym`` labels."""
    info = read_r1cs_info(r1cs)
    wanted = info.public_outputs + info.public_inputs + info.private_inputs
    labels: dict[int, str] = {}
    try:
        with sym.open() as f:
            for line in f:
                parts = line.rstrip("\n").split(",", 3)
                if len(parts) == 4 and parts[0].isdigit() and 1 <= int(parts[0]) <= wanted:
                    labels[int(parts[0])] = parts[3]
    except OSError as exc:
        raise CircuitError(f"cannot read the circuit's symbols {sym}: {exc}") from exc
    if len(labels) != wanted:
        raise CircuitError(f"{sym} names {len(labels)} of the main component's {wanted} input/output signals")
    ordered = [labels[i] for i in range(1, wanted + 1)]
    n_out, n_pub = info.public_outputs, info.public_inputs
    return CircuitInterface(
        outputs=_group(ordered[:n_out]),
        public=_group(ordered[n_out : n_out + n_pub]),
        private=_group(ordered[n_out + n_pub :]),
    )


def _declared(name: str, slots: int) -> str:
    return f"`{name}[{slots}]`" if slots else f"`{name}`"


def check_circuit_matches(
    schema_fields: Sequence[str],
    n_outputs: int,
    artifacts: _Compiled,
    *,
    output_names: Sequence[str] | None = None,
    capacity: int | None = None,
    signatures: bool = False,
) -> None:
    """Raise CircuitError (code ``schema_mismatch``) unless the circuit's interface is the project format's.

    Checked: the public inputs are exactly :data:`~proofstream.domain.layout.PUBLIC_INPUTS` in that order; the
    private inputs are the anchor's opening (scalar ``prevNonce``, ``prevFields`` with one slot per schema
    field), then ``valid``, ``nonce``, ``timestamp`` and one array per schema field, all with the same number of
    slots (``capacity`` when given); the circuit has ``n_outputs`` scalar outputs (named
    ``output_names``, in order, when given). With ``signatures`` (``[proof] signatures = "circuit"``) the public
    inputs go on with :data:`~proofstream.domain.layout.SIGNATURE_INPUTS` and the private ones with the per-slot
    signature arrays :data:`~proofstream.domain.layout.SIGNATURE_SLOTS`. Every message says which file to
    change and how.
    """
    interface = read_interface(artifacts.r1cs, artifacts.sym)
    problems: list[str] = []

    public = list(interface.public)
    public_inputs = [*PUBLIC_INPUTS, *(SIGNATURE_INPUTS if signatures else ())]
    if public != public_inputs or any(interface.public.values()):
        signed = " (in-circuit signatures: the record inputs, then the signature inputs)" if signatures else ""
        problems.append(
            f"the public inputs are {public or 'none'}; circuit.circom's main component must be declared "
            f"`component main {{public [{', '.join(public_inputs)}]}} = ...;` with those inputs as scalars{signed}"
        )

    slots = interface.private.get("valid") or capacity or 0
    if capacity is not None and slots != capacity:
        problems.append(
            f"circuit.circom has {slots} slots per task (`valid[{slots}]`) but proofstream.toml's [batching] "
            f"capacity is {capacity}: make the main component's depth log2(capacity) = {capacity.bit_length() - 1}"
            " or change the capacity"
        )
    prev_nonce, prev_fields = ANCHOR_INPUTS
    anchor_declarations = {
        prev_nonce: (0, f"`signal input {prev_nonce};`"),
        prev_fields: (
            len(schema_fields),
            f"`signal input {prev_fields}[{len(schema_fields)}];` (one per [schema] field)",
        ),
    }
    for name, (want, declaration) in anchor_declarations.items():
        have = interface.private.get(name)
        if have != want:
            found = "has no input signal" if have is None else f"declares {_declared(name, have)} instead of"
            problems.append(
                f"circuit.circom {found} `{name}`, the anchor's opening: declare {declaration} as a private "
                "input and pass it to ProofstreamBatch"
            )
    expected = [*ANCHOR_INPUTS, *FRAMEWORK_INPUTS, *schema_fields, *(SIGNATURE_SLOTS if signatures else ())]
    for name in expected[len(ANCHOR_INPUTS) :]:
        have = interface.private.get(name)
        if name in interface.public or name in interface.outputs:
            problems.append(f"`{name}` must be a private per-slot input (`signal input {name}[CAPACITY];`)")
        elif have is None:
            if name in FRAMEWORK_INPUTS or name in SIGNATURE_SLOTS:
                problems.append(
                    f"circuit.circom has no input signal `{name}[{slots}]`; declare it (`signal input "
                    f"{name}[CAPACITY];`) and pass it to ProofstreamBatch"
                )
            else:
                problems.append(
                    f"schema field '{name}' has no input signal `{name}[{slots}]` in circuit.circom; declare "
                    f"`signal input {name}[CAPACITY];` or remove it from [schema]"
                )
        elif have != slots:
            problems.append(
                f"input {_declared(name, have)} has {have} slots but `valid` has {slots}: declare "
                f"`signal input {name}[CAPACITY];` like the other per-slot inputs"
            )
    for name, have in interface.private.items():
        if name not in expected:
            problems.append(
                f"circuit.circom has input signal {_declared(name, have)} that is not a [schema] field; add "
                f'`{name} = "uintN"` to [schema] in proofstream.toml or remove the input'
            )

    outputs = list(interface.outputs)
    vectors = [name for name, n in interface.outputs.items() if n]
    if vectors:
        problems.append(
            f"outputs must be scalars (one `signal output` per name in logic.OUTPUTS), not arrays: {vectors}"
        )
    elif len(outputs) != n_outputs:
        problems.append(
            f"circuit.circom declares {len(outputs)} output(s) {outputs} but logic.OUTPUTS names {n_outputs}"
            f"{' ' + str(list(output_names)) if output_names is not None else ''}; declare one "
            "`signal output <name>;` per OUTPUTS entry, in the same order"
        )
    elif output_names is not None and outputs != list(output_names):
        problems.append(
            f"circuit.circom's outputs are {outputs} but logic.OUTPUTS is {list(output_names)}: use the same "
            "names in the same order (the DApp pays for the first)"
        )

    if problems:
        raise CircuitError(
            "circuit.circom does not match the project:\n" + "\n".join(f"- {p}" for p in problems),
            code="schema_mismatch",
        )
