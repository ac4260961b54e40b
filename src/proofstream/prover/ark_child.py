"""The fast prover's child process: groth16py (arkworks) proving ``.wtns`` files against one snarkjs ``.zkey``.

Run as ``python -I ark_child.py ZKEY`` by :mod:`proofstream.prover.warm`, never imported by proofstream: groth16py
is GPL-3.0, so it lives in its own process behind a pipe, as snarkjs does behind its CLI. The key is imported once;
then one JSON request per stdin line (``{"wtns": path}``), one JSON answer per stdout line (``{"ok": true,
"proof": hex, "prove_s": s}`` or ``{"ok": false, "error": ...}``). The first line written is the
start-up answer (``{"ok": true, "ready": true}`` once the key is loaded). Standard library only, besides groth16py.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any


def _send(answer: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(answer) + "\n")
    sys.stdout.flush()


def main(argv: list[str]) -> int:
    try:
        import groth16py  # imported here, in the child, and nowhere else

        started = time.perf_counter()
        proving_key, _ = groth16py.import_zkey(argv[1])
    except Exception as exc:  # any failure to start is reported, not a traceback on a pipe nobody reads
        _send({"ok": False, "error": f"{type(exc).__name__}: {exc}"})
        return 1
    _send({"ok": True, "ready": True, "load_s": time.perf_counter() - started, "version": groth16py.__version__})
    for line in sys.stdin:
        try:
            request = json.loads(line)
            started = time.perf_counter()
            proof = groth16py.prove_wtns(proving_key, str(request["wtns"]))
            _send({"ok": True, "proof": proof.hex(), "prove_s": time.perf_counter() - started})
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:  # one bad witness fails its request, not the process (a Rust panic included)
            _send({"ok": False, "error": f"{type(exc).__name__}: {exc}"})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
