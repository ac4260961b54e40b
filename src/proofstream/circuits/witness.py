"""Witnesses: computing them with the circuit's wasm, and reading/writing the binary ``.wtns`` format.

:func:`calculate_witness` writes one ``.wtns`` file (what the prover proves) with a fresh Node process;
:class:`WitnessRunner` keeps one Node process for many inputs and answers the outputs (what the differential check
compares, a hundred batches in seconds), writing the ``.wtns`` too when asked (the warm prover's witnesses).
The reader/writer and the ``.sym`` index exist so tests can tamper with single signals (a hint, a flag, a hash)
and show that the constraints reject the result: the check that a circuit is not under-constrained.
"""

from __future__ import annotations

import json
import re
import shutil
import struct
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from proofstream.circuits import tools
from proofstream.circuits.artifacts import CompiledCircuit
from proofstream.errors import CircuitError, ToolchainError

__all__ = [
    "Witness",
    "WitnessRunner",
    "calculate_witness",
    "check_witness",
    "json_inputs",
    "read_symbols",
    "read_wtns",
    "write_inputs",
    "write_wtns",
]


@dataclass(frozen=True, slots=True)
class Witness:
    """The full assignment of a circuit's wires; ``values[0]`` is the constant 1, then outputs, public
    inputs..."""

    prime: int
    values: tuple[int, ...]

    def replace(self, index: int, value: int) -> Witness:
        """A copy with wire ``index`` set to ``value`` (reduced into the field)."""
        values = list(self.values)
        values[index] = value % self.prime
        return Witness(self.prime, tuple(values))


def read_wtns(path: Path) -> Witness:
    """Parse a snarkjs/circom ``.wtns`` file (format version 2: header section, then the values)."""
    data = path.read_bytes()
    try:
        magic, _version, n_sections = struct.unpack_from("<4sII", data, 0)
        if magic != b"wtns":
            raise CircuitError(f"{path} is not a .wtns file")
        offset = 12
        n8 = prime = count = -1
        values: tuple[int, ...] | None = None
        for _ in range(n_sections):
            section_type, size = struct.unpack_from("<IQ", data, offset)
            offset += 12
            if section_type == 1:
                (n8,) = struct.unpack_from("<I", data, offset)
                prime = int.from_bytes(data[offset + 4 : offset + 4 + n8], "little")
                (count,) = struct.unpack_from("<I", data, offset + 4 + n8)
            elif section_type == 2:
                if n8 < 0:
                    raise CircuitError(f"{path}: values section before the header")
                values = tuple(
                    int.from_bytes(data[offset + i * n8 : offset + (i + 1) * n8], "little") for i in range(count)
                )
            offset += size
    except struct.error as exc:
        raise CircuitError(f"{path} is a truncated .wtns file") from exc
    if values is None:
        raise CircuitError(f"{path} holds no witness values")
    return Witness(prime, values)


def write_wtns(path: Path, witness: Witness) -> None:
    """Write ``witness`` in the ``.wtns`` format snarkjs reads (version 2, 32-byte field elements)."""
    n8 = (witness.prime.bit_length() + 63) // 64 * 8
    header = struct.pack("<I", n8) + witness.prime.to_bytes(n8, "little") + struct.pack("<I", len(witness.values))
    body = b"".join(v.to_bytes(n8, "little") for v in witness.values)
    path.write_bytes(
        b"wtns"
        + struct.pack("<II", 2, 2)
        + struct.pack("<IQ", 1, len(header))
        + header
        + struct.pack("<IQ", 2, len(body))
        + body
    )


def read_symbols(path: Path) -> dict[str, int]:
    """Signal name (``main.s[1]``) -> wire index in the witness, for the signals the optimiser kept.

    ``.sym`` lines are ``label,wire,component,name``; wire -1 marks a signal ``--O2`` substituted away (its
    value lives on as a linear combination of other wires), and those are left out.
    """
    symbols: dict[str, int] = {}
    for line in path.read_text().splitlines():
        parts = line.split(",", 3)
        if len(parts) == 4 and parts[1] != "-1":
            symbols[parts[3]] = int(parts[1])
    return symbols


def json_inputs(value: Any) -> Any:
    """Circuit inputs as JSON: big integers as decimal strings (JSON numbers lose precision past 2^53)."""
    if isinstance(value, bool):
        raise CircuitError("booleans are not circuit inputs; use 0 or 1")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Mapping):
        return {name: json_inputs(v) for name, v in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, str):
        return [json_inputs(v) for v in value]
    raise CircuitError(f"unsupported circuit input value {value!r}")


def write_inputs(path: Path, inputs: Mapping[str, Any]) -> None:
    path.write_text(json.dumps(json_inputs(inputs)))


def calculate_witness(artifacts: CompiledCircuit, inputs: Mapping[str, Any], out: Path) -> float:
    """Compute the witness of ``inputs`` into ``out`` (a ``.wtns`` file); returns the seconds it took.

    A failed ``===`` or ``assert`` (inputs that break the circuit's rules) raises CircuitError with circom's
    message, which names the template and line.
    """
    with tempfile.TemporaryDirectory(prefix="proofstream-inputs-") as tmp:
        input_json = Path(tmp) / "input.json"
        write_inputs(input_json, inputs)
        done = tools.run_node(artifacts.witness_js, [artifacts.wasm, input_json, out])
    if done.returncode != 0 or not out.is_file():
        raise CircuitError(
            f"witness generation failed for {artifacts.name}: {_witness_error(done.output)}",
            code="witness_failed",
        )
    return done.seconds


def _witness_error(output: str) -> str:
    """circom's own words ("Assert Failed. Error in template T line: N"), without the Node stack trace."""
    lines = [line.strip() for line in output.splitlines()]
    wanted = [line for line in lines if "Assert Failed" in line or line.startswith("Error in template")]
    if not wanted:
        wanted = [line for line in lines if line and not line.startswith("at ")][-4:]
    return " ".join(dict.fromkeys(line.removeprefix("Error: ").removeprefix("Error: ") for line in wanted))


_WORKER_JS = r"""
// proofstream witness worker: one JSON request per stdin line, one JSON answer per stdout line.
// A request is {"inputs": {...}} (answer the outputs) or {"inputs": {...}, "wtns": path} (also write the .wtns).
const readline = require("readline");
const fs = require("fs");
const builder = require(process.argv[2]);
const wasm = fs.readFileSync(process.argv[3]);
const nOut = Number(process.argv[4]);
const send = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");
console.log = (...args) => process.stderr.write(args.join(" ") + "\n");  // circuit log() must not hit stdout
// Wires 1..n of a .wtns buffer (version 2: a header section with n8 at byte 24, then the values section).
const wtnsValues = (bin, n) => {
  const view = Buffer.from(bin.buffer, bin.byteOffset, bin.byteLength);
  const n8 = view.readUInt32LE(24);
  const start = 24 + 4 + n8 + 4 + 12;
  const values = [];
  for (let i = 1; i <= n; i++) {
    let v = 0n;
    for (let b = n8 - 1; b >= 0; b--) v = (v << 8n) | BigInt(view[start + i * n8 + b]);
    values.push(v.toString());
  }
  return values;
};
let calculator = null;
readline.createInterface({ input: process.stdin }).on("line", async (line) => {
  try {
    if (calculator === null) calculator = await builder(wasm);
    const request = JSON.parse(line);
    if (request.wtns) {
      const bin = await calculator.calculateWTNSBin(request.inputs, 0);
      fs.writeFileSync(request.wtns, bin);
      send({ ok: true, outputs: wtnsValues(bin, nOut) });
    } else {
      const w = await calculator.calculateWitness(request.inputs, 0);
      send({ ok: true, outputs: w.slice(1, 1 + nOut).map((v) => v.toString()) });
    }
  } catch (err) {
    calculator = null;  // its error buffer keeps old messages: start afresh after a failure
    send({ ok: false, error: String(err && err.message ? err.message : err) });
  }
});
"""


class WitnessRunner:
    """Computes the outputs of a compiled circuit for many inputs in one Node process (circom's own witness
    calculator over the wasm). Close it, or use it as a context manager."""

    def __init__(self, compiled: CompiledCircuit, n_outputs: int) -> None:
        node = shutil.which("node")
        if node is None:
            raise ToolchainError("`node` is not on PATH (Node.js 20 or later is required)", code="toolchain_missing")
        self._dir = tempfile.TemporaryDirectory(prefix="proofstream-witness-")
        script = Path(self._dir.name) / "worker.js"
        script.write_text(_WORKER_JS)
        calculator = compiled.wasm.parent / "witness_calculator.js"
        self._process = subprocess.Popen(
            [node, str(script), str(calculator), str(compiled.wasm), str(n_outputs)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        self.calls = 0

    @property
    def pid(self) -> int:
        return self._process.pid

    def __enter__(self) -> WitnessRunner:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def outputs(self, inputs: Mapping[str, Any]) -> tuple[int, ...]:
        """The circuit's outputs for ``inputs``; CircuitError ``witness_failed`` when the circuit rejects them."""
        return self._ask({"inputs": json_inputs(inputs)})

    def write_witness(self, inputs: Mapping[str, Any], out: Path) -> tuple[int, ...]:
        """Write the witness of ``inputs`` to ``out`` (a ``.wtns`` file, what a prover proves) and return its first
        ``n_outputs`` signals after the constant: built with the circuit's public-signal count, its public
        signals. CircuitError ``witness_failed`` when the circuit rejects the inputs."""
        return self._ask({"inputs": json_inputs(inputs), "wtns": str(out)})

    def _ask(self, request: dict[str, Any]) -> tuple[int, ...]:
        stdin, stdout = self._pipes()
        self.calls += 1
        try:
            stdin.write(json.dumps(request) + "\n")
            stdin.flush()
            line = stdout.readline()
        except OSError as exc:
            raise ToolchainError(f"the witness worker died: {exc}") from exc
        if not line:
            raise ToolchainError(f"the witness worker exited (status {self._process.poll()})")
        answer = json.loads(line)
        if not answer["ok"]:
            reason = _witness_error(str(answer["error"])) or "witness generation failed"
            raise CircuitError(reason, code="witness_failed")
        return tuple(int(v) for v in answer["outputs"])

    def _pipes(self) -> tuple[IO[str], IO[str]]:
        return tools.child_pipes(self._process, "witness worker")

    def close(self) -> None:
        tools.stop_child(self._process)
        self._dir.cleanup()


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def check_witness(artifacts: CompiledCircuit, wtns: Path) -> None:
    """Check every constraint of the circuit against ``wtns`` (``snarkjs wtns check``); CircuitError if one
    fails."""
    modules = tools.node_modules()
    done = tools.run_node(tools.snarkjs_cli(modules), ["wtns", "check", artifacts.r1cs, wtns])
    output = _ANSI.sub("", done.output)
    if done.returncode != 0 or "WITNESS IS CORRECT" not in output:
        problems = [line.split("snarkJS:", 1)[-1].strip() for line in output.splitlines() if "WARN" in line]
        detail = "; ".join(problems) or output[-2000:]
        raise CircuitError(f"witness does not satisfy {artifacts.name}: {detail}", code="witness_invalid")
