"""Projects whose device signatures the circuit checks (``[proof] signatures = "circuit"``). Pure.

A signed project's ``circuit.circom`` keeps the template's own logic template (e.g. ``TrackerDistance(DEPTH)``)
untouched and replaces its ``component main`` line by a generated wrapper template, ``Signed<Name>(DEPTH)``, that

- declares every input of the logic template (read from its ``signal input`` lines, so the wrapper follows the
  template when its inputs change) and its outputs, in the same order;
- adds the five public inputs the Router appends for a BabyJubJub device
  (:data:`~proofstream.domain.layout.SIGNATURE_INPUTS`: chainId, DeviceRegistry, config version, the registered
  key) and one EdDSA-Poseidon signature per slot (:data:`~proofstream.domain.layout.SIGNATURE_SLOTS`);
- instantiates the logic template and ``ProofstreamSignatures(DEPTH, NFIELDS)``
  (``proofstream/signatures.circom``) and wires both to the same inputs, so every message the logic reads is one
  the registered key signed.

Its public signals are the outputs, the eleven record inputs, then the signature inputs, the order
``Router._publicInputs`` builds; :mod:`proofstream.domain.layout` fills them. :func:`sign_task` signs a task's
records as its device would, for the differential check and the tests.
"""

from __future__ import annotations

import ast
import dataclasses
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from proofstream.domain import eddsa
from proofstream.domain.anchor import RECORD_INPUTS
from proofstream.domain.bjj_messages import message_hash
from proofstream.domain.circuit_task import CircuitTask, SigningContext
from proofstream.domain.layout import SIGNATURE_INPUTS, SIGNATURE_SLOTS
from proofstream.domain.merkle import leaf_hash
from proofstream.errors import ConfigError

__all__ = ["SIGNED_CAPACITY", "TemplateInterface", "read_template", "sign_task", "signed_circuit", "with_main_depth"]

SIGNED_CAPACITY = 4
"""Capacity of a scaffolded signed project, the default and the largest (``--capacity`` 1 or 2 for fewer): about
4.9k constraints per signature, so 4 slots fit a 2^15 powers-of-tau file (8 need 2^16)."""

SIGNED_LIBRARY = "proofstream/signatures.circom"

_MAIN = re.compile(
    r"component\s+main\s*(?:\{\s*public\s*\[(?P<public>[^\]]*)\]\s*\})?\s*=\s*(?P<name>\w+)\s*"
    r"\((?P<args>[^)]*)\)\s*;"
)
_TEMPLATE = r"template\s+{name}\s*\((?P<params>[^)]*)\)\s*\{{"
_SIGNAL = re.compile(r"signal\s+(?P<kind>input|output)\s+(?P<rest>[^;]*);")
_DECLARATION = re.compile(r"(?P<name>[A-Za-z_]\w*)\s*(?P<dims>(?:\[[^\]]+\])*)")
_VAR = re.compile(r"var\s+(?P<name>[A-Za-z_]\w*)\s*=\s*(?P<expr>[^;]+);")
_INCLUDE = re.compile(r'(?m)^\s*include\s+"[^"]+"\s*;[^\n]*$')


def _blank_comments(text: str) -> str:
    """``text`` with every comment replaced by spaces (newlines kept), so offsets still point into ``text``."""

    def blank(match: re.Match[str]) -> str:
        return re.sub(r"[^\n]", " ", match.group(0))

    return re.sub(r"//[^\n]*|/\*.*?\*/", blank, text, flags=re.DOTALL)


def _evaluate(expr: str, env: Mapping[str, int]) -> int:
    """An integer expression of circom's ``var`` arithmetic (+ - * \\ << >> and parentheses) over ``env``."""
    tree = ast.parse(expr.strip().replace("\\", "//"), mode="eval")

    def value(node: ast.AST) -> int:
        if isinstance(node, ast.Constant) and isinstance(node.value, int) and not isinstance(node.value, bool):
            return node.value
        if isinstance(node, ast.Name) and node.id in env:
            return env[node.id]
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -value(node.operand)
        if isinstance(node, ast.BinOp):
            left, right = value(node.left), value(node.right)
            ops = {
                ast.Add: int.__add__,
                ast.Sub: int.__sub__,
                ast.Mult: int.__mul__,
                ast.FloorDiv: int.__floordiv__,
                ast.LShift: int.__lshift__,
                ast.RShift: int.__rshift__,
            }
            for op, fn in ops.items():
                if isinstance(node.op, op):
                    return fn(left, right)
        raise ValueError(expr)

    return value(tree.body)


@dataclass(frozen=True)
class TemplateInterface:
    """The main template of a project circuit as the wrapper needs it."""

    name: str
    """The logic template, e.g. ``TrackerDistance``."""
    params: tuple[str, ...]
    """Its parameter names; the one named ``DEPTH`` (else the first) is the Merkle depth."""
    args: tuple[str, ...]
    """The arguments ``component main`` passed it."""
    public: tuple[str, ...]
    inputs: tuple[tuple[str, tuple[int, ...]], ...]
    """Every ``signal input``: name and array dimensions (empty for a scalar), in declaration order, evaluated at
    the depth :func:`read_template` was asked for."""
    outputs: tuple[str, ...]
    main_span: tuple[int, int]
    """Where ``component main ...;`` stands in the source."""

    @property
    def depth_index(self) -> int:
        return self.params.index("DEPTH") if "DEPTH" in self.params else 0


def _template_body(code: str, name: str, where: str) -> tuple[tuple[str, ...], str]:
    match = re.search(_TEMPLATE.format(name=re.escape(name)), code)
    if match is None:
        raise ConfigError(f"{where}: `component main` instantiates {name}, but the file defines no template {name}")
    depth, end = 1, match.end()
    while depth and end < len(code):
        depth += {"{": 1, "}": -1}.get(code[end], 0)
        end += 1
    params = tuple(p.strip() for p in match["params"].split(",") if p.strip())
    return params, code[match.end() : end - 1]


def read_template(source: str, depth: int, *, where: str = "circuit.circom") -> TemplateInterface:
    """Read the main component and its template's inputs and outputs from a project circuit's ``source``.

    Array sizes are evaluated with the template's parameters (the depth one set to ``depth``) and its ``var``
    lines; ConfigError says what could not be read."""
    code = _blank_comments(source)
    mains = list(_MAIN.finditer(code))
    if len(mains) != 1:
        raise ConfigError(f"{where} must declare exactly one `component main {{public [...]}} = Template(...);`")
    main = mains[0]
    name = main["name"]
    public = tuple(p.strip() for p in (main["public"] or "").split(",") if p.strip())
    args = tuple(a.strip() for a in main["args"].split(",") if a.strip())
    params, body = _template_body(code, name, where)
    if len(params) != len(args) or not params:
        raise ConfigError(f"{where}: template {name}({', '.join(params)}) is instantiated with ({', '.join(args)})")
    depth_index = params.index("DEPTH") if "DEPTH" in params else 0
    env: dict[str, int] = {}
    for i, (param, arg) in enumerate(zip(params, args, strict=True)):
        try:
            env[param] = depth if i == depth_index else _evaluate(arg, {})
        except (ValueError, SyntaxError):
            continue
    for var in _VAR.finditer(body):
        try:
            env[var["name"]] = _evaluate(var["expr"], env)
        except (ValueError, SyntaxError, ZeroDivisionError):
            continue  # arrays and other vars no input size depends on
    inputs: list[tuple[str, tuple[int, ...]]] = []
    outputs: list[str] = []
    for signal in _SIGNAL.finditer(body):
        for part in signal["rest"].split(","):
            declared = _DECLARATION.fullmatch(part.strip())
            if declared is None or "<==" in part:
                raise ConfigError(f"{where}: cannot read the declaration `signal {signal['kind']} {part.strip()}`")
            try:
                dims = tuple(_evaluate(d, env) for d in re.findall(r"\[([^\]]+)\]", declared["dims"]))
            except (ValueError, SyntaxError) as exc:
                raise ConfigError(
                    f"{where}: the size of `{declared['name']}{declared['dims']}` in template {name} is not an "
                    "integer expression of its parameters and `var`s"
                ) from exc
            if signal["kind"] == "input":
                inputs.append((declared["name"], dims))
            elif dims:
                raise ConfigError(f"{where}: output `{declared['name']}` of {name} must be a scalar")
            else:
                outputs.append(declared["name"])
    return TemplateInterface(name, params, args, public, tuple(inputs), tuple(outputs), main.span())


def with_main_depth(source: str, depth: int, *, where: str = "circuit.circom") -> tuple[str, str]:
    """``source`` with its ``component main`` instantiating its template at Merkle depth ``depth`` (the argument
    :attr:`TemplateInterface.depth_index` points at; the others and the public list untouched), and the template's
    name. ConfigError, as :func:`read_template`'s, when the main component cannot be read."""
    template = read_template(source, depth, where=where)
    main = _MAIN.match(_blank_comments(source), template.main_span[0])
    assert main is not None  # read_template found it there
    args = list(template.args)
    args[template.depth_index] = str(depth)
    start, end = main.span("args")
    return source[:start] + ", ".join(args) + source[end:], template.name


def _size(name: str, dims: tuple[int, ...], capacity: int, nfields: int, per_slot: set[str]) -> str:
    if name in per_slot and dims == (capacity,):
        return "[CAPACITY]"
    if name == "prevFields" and dims == (nfields,):
        return "[NFIELDS]"
    return "".join(f"[{d}]" for d in dims)


def signed_circuit(source: str, schema_fields: Sequence[str], depth: int, *, where: str = "circuit.circom") -> str:
    """``source`` (a project circuit whose main is its logic template) with its ``component main`` replaced by the
    signed wrapper of depth ``depth``. ConfigError when the circuit does not follow the project layout the
    wrapper wires: the record inputs public, ``valid``/``nonce``/``timestamp`` and one array per schema field."""
    template = read_template(source, depth, where=where)
    capacity, nfields = 1 << depth, len(schema_fields)
    if template.public != RECORD_INPUTS:
        raise ConfigError(
            f"{where}: the main component's public inputs are {list(template.public)}; a signed circuit wraps a "
            f"template whose public inputs are the record inputs {list(RECORD_INPUTS)}"
        )
    declared = dict(template.inputs)
    per_slot = {"valid", "nonce", "timestamp", *schema_fields}
    for name in sorted(per_slot):
        if declared.get(name) != (capacity,):
            raise ConfigError(
                f"{where}: template {template.name} must declare `signal input {name}[CAPACITY];` (a per-slot input "
                "the signature checks read)"
            )
    clash = set(declared) & {*SIGNATURE_INPUTS, *SIGNATURE_SLOTS}
    if clash:
        raise ConfigError(f"{where}: template {template.name} already declares {sorted(clash)}")
    signed = f"Signed{template.name}"
    args = [f"{a}" for a in template.args]
    args[template.depth_index] = "DEPTH"

    lines = [
        "// --- generated by `proofstream project new --signatures circuit` (proofstream/circuits/signed.py) ---",
        f"// {signed}: {template.name}'s logic over messages whose BabyJubJub EdDSA-Poseidon signatures by the",
        "// device's registered key are checked in the proof (proofstream/signatures.circom). Public signals: the",
        "// outputs, the record inputs, then chainId, registry, config, keyAx, keyAy (the Router appends them).",
        f"template {signed}(DEPTH) {{",
        "    var CAPACITY = 1 << DEPTH;",
        f"    var NFIELDS = {nfields};",
        "",
    ]
    public = [name for name, _ in template.inputs if name in RECORD_INPUTS]
    private = [(name, dims) for name, dims in template.inputs if name not in RECORD_INPUTS]
    lines += [f"    signal input {name};" for name in public]
    lines += [f"    signal input {name};" for name in SIGNATURE_INPUTS]
    lines += [f"    signal input {n}{_size(n, dims, capacity, nfields, per_slot)};" for n, dims in private]
    lines += [f"    signal input {name}[CAPACITY];" for name in SIGNATURE_SLOTS]
    lines += [f"    signal output {name};" for name in template.outputs]
    lines += ["", f"    component logic = {template.name}({', '.join(args)});"]
    lines += [f"    logic.{name} <== {name};" for name, _ in template.inputs]
    lines += [f"    {name} <== logic.{name};" for name in template.outputs]
    lines += ["", "    component signatures = ProofstreamSignatures(DEPTH, NFIELDS);"]
    lines += [f"    signatures.{name} <== {name};" for name in SIGNATURE_INPUTS]
    lines += [f"    signatures.{name} <== {name};" for name in ("project", "device", "valid", "nonce", "timestamp")]
    lines += [f"    signatures.fields[{i}] <== {name};" for i, name in enumerate(schema_fields)]
    lines += [f"    signatures.{name} <== {name};" for name in SIGNATURE_SLOTS]
    lines += ["}", "", *_wrapped(f"component main {{public [{', '.join((*RECORD_INPUTS, *SIGNATURE_INPUTS))}]}}")]
    lines[-1] += f" = {signed}({depth});"
    start, end = template.main_span
    head = source[:start]
    includes = list(_INCLUDE.finditer(head))
    include = f'include "{SIGNED_LIBRARY}";\n'
    if SIGNED_LIBRARY not in head:
        at = includes[-1].end() + 1 if includes else 0
        head = head[:at] + include + head[at:]
    return head + "\n".join(lines) + "\n" + source[end:].lstrip("\n")


def _wrapped(text: str, width: int = 110) -> list[str]:
    lines = [""]
    for word in text.split(" "):
        if lines[-1] and len(lines[-1]) + 1 + len(word) > width:
            lines.append("   ")
        lines[-1] += (" " if lines[-1] else "") + word
    return lines


# --- signing a task as its device would ----------------------------------------------------------------


def sign_task(
    task: CircuitTask, key: eddsa.EddsaKey, chain_id: int, registry: int, field_names: Sequence[str]
) -> CircuitTask:
    """``task`` with a signing context: every record signed by ``key`` as a device does (for tests and the
    project's differential test; the prover takes the stored messages' signatures instead)."""
    registry_address = "0x" + registry.to_bytes(20, "big").hex()
    signatures = []
    for record in task.records:
        fields = [record.payload[name] for name in field_names]
        leaf = leaf_hash(task.project, task.device, record.nonce, record.timestamp, fields)
        signature = key.sign(message_hash(chain_id, registry_address, task.config, leaf))
        signatures.append((signature.r8[0], signature.r8[1], signature.s))
    context = SigningContext(chain_id, registry, key.public, tuple(signatures))
    return dataclasses.replace(task, signing=context)
