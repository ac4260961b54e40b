"""What the CLI prints: text that looks like rich markup (a TOML table such as ``[schema]``) comes out as it is."""

from __future__ import annotations

import io

import pytest
import typer
from rich.console import Console

from proofstream.cli import output
from proofstream.errors import ConfigError


def test_a_step_naming_a_toml_table_prints_it() -> None:
    buffer = io.StringIO()
    output.print_step(Console(file=buffer, width=200), "checking it against [schema] and logic.OUTPUTS")
    assert "checking it against [schema] and logic.OUTPUTS" in buffer.getvalue()


def test_an_error_naming_a_toml_table_prints_it(monkeypatch: pytest.MonkeyPatch) -> None:
    buffer = io.StringIO()
    monkeypatch.setattr(output, "_errors", Console(file=buffer, width=200))
    exit_ = output.fail(ConfigError("proofstream.toml: [schema] has no field 'lat'", code="bad_schema"))
    assert isinstance(exit_, typer.Exit) and exit_.exit_code == 1
    assert buffer.getvalue().strip() == "error (bad_schema): proofstream.toml: [schema] has no field 'lat'"
