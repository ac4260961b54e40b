"""A project's device-data generator (``generator.py``), its readings checked against ``[schema]`` as they come
out: a generator that lags behind the schema (a field added to ``proofstream.toml`` but not to the payloads) is
a developer's mistake to name, file and field, not a traceback from deep inside the circuit inputs."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from proofstream.domain.schema import Schema
from proofstream.errors import ConfigError, MessageError

Reading = tuple[int, dict[str, int]]
"""``(timestamp, payload)``: what a generator yields per message."""


class ProjectGenerator:
    """``readings(rng, device, count, start)`` and the optional ``edge_cases()`` / ``chained_edge_cases()`` of a
    project's generator module; every reading they return is checked (ConfigError ``generator_mismatch``)."""

    def __init__(self, module: ModuleType, schema: Schema, path: Path) -> None:
        self._module = module
        self._schema = schema
        self._path = path

    def readings(self, rng: random.Random, device: int, count: int, start: int) -> list[Reading]:
        return self._checked("readings()", self._module.readings(rng, device, count, start))

    @property
    def edge_cases(self) -> Callable[[], list[list[Reading]]] | None:
        cases = getattr(self._module, "edge_cases", None)
        if not callable(cases):
            return None
        return lambda: [self._checked(f"edge_cases()[{i}]", batch) for i, batch in enumerate(cases())]

    @property
    def chained_edge_cases(self) -> Callable[[], list[tuple[Reading, list[Reading]]]] | None:
        cases = getattr(self._module, "chained_edge_cases", None)
        if not callable(cases):
            return None

        def checked() -> list[tuple[Reading, list[Reading]]]:
            out = []
            for i, (before, batch) in enumerate(cases()):
                where = f"chained_edge_cases()[{i}]"
                out.append((self._checked(where, [before])[0], self._checked(where, batch)))
            return out

        return checked

    def _checked(self, where: str, readings: Sequence[Any]) -> list[Reading]:
        out: list[Reading] = []
        names = self._schema.payload_names
        for index, reading in enumerate(readings):
            at = f"{self._path.name}: {where} reading {index}"
            try:
                timestamp, payload = reading
            except (TypeError, ValueError):
                raise self._error(f"{at} is {reading!r}, not a (timestamp, payload) pair") from None
            if not isinstance(payload, dict):
                raise self._error(f"{at} has a payload of type {type(payload).__name__}, not a dict")
            missing = [name for name in names if name not in payload]
            if missing:
                raise self._error(
                    f"{at} has no payload field {', '.join(map(repr, missing))} of [schema] in proofstream.toml: "
                    f"add it to the payloads {self._path.name} makes, or remove it from [schema]"
                )
            extra = [name for name in payload if name not in names]
            if extra:
                raise self._error(
                    f"{at} has payload field {', '.join(map(repr, extra))}, which [schema] in proofstream.toml "
                    "does not declare: add it to [schema] or drop it from the payload"
                )
            for field in self._schema.payload:
                try:
                    field.check(payload[field.name])
                except MessageError as exc:
                    raise self._error(f"{at}: {exc.message}") from None
            out.append((timestamp, payload))
        return out

    @staticmethod
    def _error(message: str) -> ConfigError:
        return ConfigError(message, code="generator_mismatch")
