"""The CLI as a developer types it, in process: the exit code and the output with rich's line wrapping undone."""

from __future__ import annotations

import re

from typer.testing import CliRunner

from proofstream.cli.main import app

_runner = CliRunner()


def invoke(*args: str) -> tuple[int, str]:
    """Run ``proofstream ARGS``; the output must never hold a traceback, whatever the exit code."""
    result = _runner.invoke(app, list(args))
    output = re.sub(r"\s+", " ", result.output)
    assert "Traceback" not in output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, output


def cli(*args: str) -> str:
    """Run ``proofstream ARGS``, which must succeed; its output."""
    code, output = invoke(*args)
    assert code == 0, output
    return output
