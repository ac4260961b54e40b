"""The device path stays light: ``proofstream[device]`` resolves to no web server and no web3, and the device SDK
and CLI import none of them (a Raspberry Pi installs and starts them in seconds)."""

from __future__ import annotations

import importlib.metadata
import re
import subprocess
import sys

from packaging.requirements import Requirement

HEAVY_DISTRIBUTIONS = {"web3", "fastapi", "uvicorn", "starlette", "eth-account", "orjson", "hypothesis", "pytest"}
HEAVY_MODULES = ("web3", "fastapi", "uvicorn", "starlette", "eth_account", "hypothesis", "pytest")
NODE_MODULES = tuple(f"proofstream.{m}" for m in ("chain", "node", "ingest", "store", "prover", "sequencer"))


def _name(requirement: str | Requirement) -> str:
    name = requirement.name if isinstance(requirement, Requirement) else requirement
    return re.sub(r"[-_.]+", "-", name).lower()


def resolved(distribution: str, extras: frozenset[str]) -> set[str]:
    """Every distribution ``distribution[extras]`` pulls in, following the installed packages' metadata."""
    seen: set[str] = set()
    todo: list[tuple[str, frozenset[str]]] = [(distribution, extras)]
    while todo:
        name, wanted = todo.pop()
        for text in importlib.metadata.requires(name) or []:
            requirement = Requirement(text)
            environments = [{"extra": extra} for extra in wanted] or [{"extra": ""}]
            if requirement.marker is not None and not any(requirement.marker.evaluate(e) for e in environments):
                continue
            key = _name(requirement)
            if key not in seen:
                seen.add(key)
                todo.append((key, frozenset(requirement.extras)))
    return seen


def test_the_device_extra_resolves_to_no_server_and_no_web3() -> None:
    assert "device" in (importlib.metadata.metadata("proofstream").get_all("Provides-Extra") or [])
    device = resolved("proofstream", frozenset({"device"}))
    assert {"coincurve", "eth-abi", "eth-utils", "httpx", "typer", "pycryptodome"} <= device
    assert not device & HEAVY_DISTRIBUTIONS, sorted(device & HEAVY_DISTRIBUTIONS)


def test_the_node_extra_brings_the_node_dependencies() -> None:
    """The check above can fail: the same walk over ``[node]`` finds every heavy dependency."""
    assert {"web3", "fastapi", "uvicorn", "starlette", "eth-account", "hypothesis", "pytest"} <= resolved(
        "proofstream", frozenset({"node"})
    )


def test_device_sdk_and_cli_import_nothing_heavy() -> None:
    code = (
        "import sys\n"
        "import proofstream.sdk.device, proofstream.sdk.gateway, proofstream.sdk.state, proofstream.cli.device\n"
        "import proofstream.projects.spec\n"
        f"heavy = sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY_MODULES!r}"
        f" or m.startswith({NODE_MODULES!r}))\n"
        "print(','.join(heavy))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""


def test_the_device_script_runs_light() -> None:
    code = (
        "import sys\n"
        "from proofstream.cli.device import main\n"
        "sys.argv = ['proofstream-device', '--help']\n"
        "try:\n"
        "    main()\n"
        "except SystemExit:\n"
        "    pass\n"
        f"print('HEAVY', sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY_MODULES!r}))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "simulate" in result.stdout and "register" in result.stdout
    assert "HEAVY []" in result.stdout


def test_the_main_cli_mounts_device_without_importing_the_node() -> None:
    """`proofstream device ...` must run on a [device]-only install, so the main CLI module stays light too."""
    code = (
        "import sys\n"
        "import proofstream.cli.main as main\n"
        "names = [group.name for group in main.app.registered_groups]\n"
        f"heavy = sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY_MODULES!r})\n"
        "print('device' in names, ','.join(heavy))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "True"
