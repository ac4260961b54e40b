"""A generator that lags behind its project's [schema] is named, with file, function, reading and field: the
mistake a developer makes by adding a field to proofstream.toml and not to generator.py."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from proofstream.errors import ConfigError
from proofstream.projects.scaffold import scaffold
from proofstream.projects.spec import ProjectSpec, load_project


@pytest.fixture
def weather(tmp_path: Path) -> ProjectSpec:
    return load_project(scaffold("station", "weather-quality", tmp_path))


def test_the_template_generator_passes_its_own_schema(weather: ProjectSpec) -> None:
    generator = weather.generator()
    readings = generator.readings(random.Random(1), 0, 20, 1_700_000_000)
    assert len(readings) == 20 and all(set(p) == set(weather.schema.payload_names) for _, p in readings)
    assert generator.edge_cases is not None and generator.edge_cases()
    assert generator.chained_edge_cases is not None and generator.chained_edge_cases()


def test_a_schema_field_the_generator_lacks_is_named(weather: ProjectSpec) -> None:
    config = weather.config_path.read_text().replace('pressure = "uint16"', 'pressure = "uint16"\nwind = "uint16"', 1)
    weather.config_path.write_text(config)
    spec = load_project(weather.root)
    with pytest.raises(ConfigError) as raised:
        spec.generator().readings(random.Random(1), 0, 3, 1_700_000_000)
    assert raised.value.code == "generator_mismatch"
    assert str(raised.value).startswith("generator.py: readings() reading 0 has no payload field 'wind' of [schema]")


BAD_READINGS = {
    "an undeclared field": (
        "    return [(start, {'temperature': 1200, 'humidity': 50, 'pressure': 10000, 'gust': 3})]\n",
        "readings() reading 0 has payload field 'gust', which [schema]",
    ),
    "a value out of its type's range": (
        "    return [(start, {'temperature': 1200, 'humidity': 256, 'pressure': 10000})]\n",
        "readings() reading 0: humidity=256 is out of range for uint8",
    ),
    "not a pair": ("    return [start]\n", "readings() reading 0 is 1700000000, not a (timestamp, payload) pair"),
}


@pytest.mark.parametrize("case", sorted(BAD_READINGS))
def test_each_kind_of_bad_reading_is_named(weather: ProjectSpec, case: str) -> None:
    body, expected = BAD_READINGS[case]
    weather.generator_path.write_text("def readings(rng, device, count, start):\n" + body)
    with pytest.raises(ConfigError) as raised:
        weather.generator().readings(random.Random(1), 0, 1, 1_700_000_000)
    assert raised.value.code == "generator_mismatch"
    assert expected in str(raised.value)


def test_a_bad_edge_case_is_named(weather: ProjectSpec) -> None:
    weather.generator_path.write_text(
        "def readings(rng, device, count, start):\n    return []\n\n"
        "def edge_cases():\n    return [[(1, {'temperature': 1200, 'humidity': 50})]]\n"
    )
    generator = weather.generator()
    assert generator.chained_edge_cases is None
    assert generator.edge_cases is not None
    with pytest.raises(
        ConfigError, match=r"generator.py: edge_cases\(\)\[0\] reading 0 has no payload field 'pressure'"
    ):
        generator.edge_cases()
