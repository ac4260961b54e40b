"""`proofstream project new`: every template scaffolds a project that loads, is the developer's own copy, and
says what is wrong when it is not well formed."""

from __future__ import annotations

import tomllib
import typing
from pathlib import Path

import pytest
from typer.testing import CliRunner

from proofstream.circuits.ptau import read_ptau_info
from proofstream.circuits.signed import SIGNED_CAPACITY
from proofstream.cli import project as project_cli
from proofstream.cli.main import app
from proofstream.errors import ConfigError
from proofstream.projects.scaffold import LARGEST_CAPACITY, SHIPPED_PTAU_POWER, TEMPLATES, scaffold, template_dir
from proofstream.projects.spec import CIRCUIT_FILE, CONFIG_FILE, MAX_CAPACITY, hash_content, load_project

REPO_PTAU = Path(__file__).resolve().parents[2] / "ptau"
MAINS = {"tracker-distance": "TrackerDistance", "weather-quality": "WeatherQuality", "uptime": "Uptime"}
"""Each template's logic template, which its circuit's main component instantiates."""


@pytest.mark.parametrize("template", sorted(TEMPLATES))
@pytest.mark.parametrize("backend", [None, "groth16", "attest"])
def test_every_template_scaffolds_a_loadable_project(tmp_path: Path, template: str, backend: str | None) -> None:
    root = scaffold("my-project", template, tmp_path, backend=backend)

    spec = load_project(root)
    assert spec.name == "my-project"
    assert spec.template == template
    assert spec.backend == (backend or "groth16")
    assert spec.outputs and spec.schema.payload
    assert spec.capacity == 1 << spec.depth
    for name in ("circuit.circom", "logic.py", "generator.py", "Rewards.sol", "tests/test_project.py", "README.md"):
        assert (root / name).is_file(), name
    assert not (root / "__init__.py").exists()  # what makes the template a package is not the user's
    assert ".proofstream/" in (root / ".gitignore").read_text()
    # The copy is the user's: editing it leaves the template alone.
    (root / "logic.py").write_text((root / "logic.py").read_text() + "\n# mine\n")
    assert "# mine" not in (template_dir(template) / "logic.py").read_text()


def test_refuses_bad_names_unknown_templates_and_existing_folders(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="lower-case"):
        scaffold("My Project", "uptime", tmp_path)
    with pytest.raises(ConfigError, match="tracker-distance, weather-quality, uptime"):
        scaffold("x", "dashcam", tmp_path)
    with pytest.raises(ConfigError, match="groth16, attest"):
        scaffold("x", "uptime", tmp_path, backend="plonk-ish")
    scaffold("taken", "uptime", tmp_path)
    with pytest.raises(ConfigError, match="already exists"):
        scaffold("taken", "uptime", tmp_path)


def test_attest_projects_refuse_signatures_in_the_circuit(tmp_path: Path) -> None:
    """An attest project has no circuit to check signatures in: ``project new`` refuses the combination and
    creates nothing, and a config that asks for it does not load."""
    command = ["project", "new", "signed-attest", "--template", "weather-quality", "--backend", "attest"]
    result = CliRunner().invoke(app, [*command, "--signatures", "circuit", "--dir", str(tmp_path)])
    assert result.exit_code == 1
    assert (
        "error (config_error): --signatures circuit needs the groth16 backend: the attest backend has no circuit "
        "to check signatures in"
    ) in " ".join(result.output.split())
    assert not (tmp_path / "signed-attest").exists()

    root = scaffold("edited", "weather-quality", tmp_path, backend="attest")
    _edit_config(root, "provers = 3", 'provers = 3\nsignatures = "circuit"')
    with pytest.raises(ConfigError) as caught:
        load_project(root)
    assert caught.value.code == "config_error"
    assert str(caught.value) == (
        f'{root / CONFIG_FILE} [proof] signatures = "circuit" needs backend = "groth16": the attest backend has '
        'no circuit to check signatures in (use signatures = "gateway")'
    )


def _changed_lines(root: Path, plain: Path, name: str) -> list[tuple[str, str]]:
    """The lines of ``name`` that differ between two scaffolds of one template (same length: a rewrite in place)."""
    ours, theirs = (root / name).read_text().splitlines(), (plain / name).read_text().splitlines()
    assert len(ours) == len(theirs), name
    return [(a, b) for a, b in zip(theirs, ours, strict=True) if a != b]


@pytest.mark.parametrize("template", sorted(TEMPLATES))
def test_capacity_rewrites_the_batching_line_and_the_main_component_and_nothing_else(
    tmp_path: Path, template: str
) -> None:
    capacity = LARGEST_CAPACITY[template]
    depth = capacity.bit_length() - 1
    plain = scaffold("p", template, tmp_path / "plain")
    root = scaffold("p", template, tmp_path, capacity=capacity)

    spec = load_project(root)
    assert (spec.capacity, spec.depth) == (capacity, depth)
    ((old, new),) = _changed_lines(root, plain, CONFIG_FILE)
    unit = old.split("#")[1].split()[0]  # fixes, readings, heartbeats: the template's word is kept
    assert old.startswith("capacity = 8 ")
    assert new == (
        f"{f'capacity = {capacity}':<25}# {unit} per task = 2**depth; circuit.circom's main component is "
        f"{MAINS[template]}({depth})"
    )
    ((old, new),) = _changed_lines(root, plain, CIRCUIT_FILE)
    assert (old, new) == (f"    lastLeaf]}} = {MAINS[template]}(3);", f"    lastLeaf]}} = {MAINS[template]}({depth});")
    # Without --capacity the template's circuit and config are copied as they are (the name aside).
    assert (plain / CIRCUIT_FILE).read_text() == (template_dir(template) / CIRCUIT_FILE).read_text()


def test_a_capacity_16_tracker_loads_as_the_demo_runs_it(tmp_path: Path) -> None:
    spec = load_project(scaffold("tracker-demo", "tracker-distance", tmp_path, capacity=16))
    assert (spec.capacity, spec.depth, spec.backend) == (16, 4, "groth16")
    assert spec.circuit_path.read_text().rstrip().endswith("= TrackerDistance(4);")


def test_the_signed_variant_takes_a_smaller_capacity(tmp_path: Path) -> None:
    default = load_project(scaffold("four", "uptime", tmp_path, signatures="circuit"))
    assert (default.capacity, default.signatures) == (SIGNED_CAPACITY, "circuit")
    assert default.circuit_path.read_text().rstrip().endswith(f"= SignedUptime({SIGNED_CAPACITY.bit_length() - 1});")

    spec = load_project(scaffold("two", "uptime", tmp_path, signatures="circuit", capacity=2))
    assert (spec.capacity, spec.signatures) == (2, "circuit")
    assert spec.circuit_path.read_text().rstrip().endswith("= SignedUptime(1);")
    config = spec.config_path.read_text()
    assert "capacity = 2             # heartbeats per task = 2**depth; circuit.circom's main component is " in config
    assert "SignedUptime(1)\n" in config and "about 4.9k constraints per in-circuit signature" in config


def test_attest_projects_take_any_capacity_the_config_does(tmp_path: Path) -> None:
    spec = load_project(scaffold("big", "weather-quality", tmp_path, backend="attest", capacity=MAX_CAPACITY))
    assert (spec.capacity, spec.backend) == (MAX_CAPACITY, "attest")
    with pytest.raises(ConfigError) as caught:
        scaffold("bigger", "weather-quality", tmp_path, backend="attest", capacity=2 * MAX_CAPACITY)
    assert str(caught.value) == (
        f"capacity {2 * MAX_CAPACITY} is too large: a task holds at most {MAX_CAPACITY} messages; choose one of "
        "1, 2, 4, 8, 16, 32, 64"
    )


@pytest.mark.parametrize(
    ("template", "options", "message"),
    [
        (
            "tracker-distance",
            {"capacity": 12},
            "capacity 12: it must be a power of two (a task's Merkle tree has 2**depth leaves); choose one of "
            "1, 2, 4, 8, 16",
        ),
        ("uptime", {"capacity": 0}, "capacity 0: it must be a power of two"),
        (
            "tracker-distance",
            {"capacity": 32},
            "capacity 32 is too large: the tracker-distance circuit grows about linearly with its capacity; 16 is "
            "the most that fits the largest powers of tau that ships with proofstream (2^15, ptau/); choose one of "
            "1, 2, 4, 8, 16. More needs a bigger prepared powers-of-tau file (prover.ptau), then [batching] "
            "capacity and the main component's depth raised by hand",
        ),
        ("uptime", {"capacity": 64}, "capacity 64 is too large: the uptime circuit grows about linearly with its"),
        (
            "weather-quality",
            {"capacity": 8, "signatures": "circuit"},
            "capacity 8 is too large: each in-circuit signature costs about 4.9k constraints, so at most 4 "
            "messages fit the largest powers of tau that ships with proofstream (2^15, ptau/); choose one of 1, 2, 4",
        ),
    ],
)
def test_capacities_that_would_not_build_are_refused_and_nothing_is_created(
    tmp_path: Path, template: str, options: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        scaffold("p", template, tmp_path, **options)  # type: ignore[arg-type]
    assert caught.value.code == "config_error"
    assert str(caught.value).startswith(message)
    assert not (tmp_path / "p").exists()


def test_the_largest_capacities_are_measured_against_the_largest_shipped_ptau() -> None:
    """LARGEST_CAPACITY is what fits 2^SHIPPED_PTAU_POWER (tests/templates compiles each template there): the
    power must be that of the biggest file the checkout ships."""
    assert max(read_ptau_info(path).power for path in REPO_PTAU.glob("*.ptau")) == SHIPPED_PTAU_POWER
    assert set(LARGEST_CAPACITY) == set(TEMPLATES)
    assert all(c & (c - 1) == 0 and SIGNED_CAPACITY <= c <= MAX_CAPACITY for c in LARGEST_CAPACITY.values())


def test_project_new_takes_a_capacity(tmp_path: Path) -> None:
    command = ["project", "new", "wide", "--template", "uptime", "--dir", str(tmp_path)]
    result = CliRunner().invoke(app, [*command, "--capacity", "32"])
    assert result.exit_code == 0, result.output
    assert "(backend groth16, capacity 32)" in result.output
    assert load_project(tmp_path / "wide").capacity == 32

    result = CliRunner().invoke(app, [*command, "--capacity", "64"])
    assert result.exit_code == 1
    assert "error (config_error): capacity 64 is too large" in " ".join(result.output.split())

    # The help names each template's largest capacity, written out so the CLI imports no scaffold to show it.
    (option,) = typing.get_type_hints(project_cli.new, include_extras=True)["capacity"].__metadata__
    assert "up to 16 for tracker-distance and weather-quality, 32 for uptime, 4 signed" in option.help
    assert (LARGEST_CAPACITY["tracker-distance"], LARGEST_CAPACITY["weather-quality"]) == (16, 16)
    assert (LARGEST_CAPACITY["uptime"], SIGNED_CAPACITY) == (32, 4)


def _project(tmp_path: Path) -> Path:
    return scaffold("p", "weather-quality", tmp_path)


def _edit_config(root: Path, old: str, new: str) -> None:
    path = root / CONFIG_FILE
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("capacity = 8", "capacity = 6", "power of two"),
        ('backend = "groth16"', 'backend = "snark"', "choose one of groth16, attest"),
        ('per = "device"', 'per = "everyone"', "per device only"),
        ('humidity = "uint8"', 'humidity = "int8"', "only uint8..uint248"),
        ('humidity = "uint8"', 'humidity = "string"', "only uint8..uint248"),
        ('rate = "1000000000000000"', 'rate = "lots"', "must be an integer"),
        ("[reward]", "[rewards]", "unknown table"),
        ('contract = "WeatherRewards"', 'contract = "Weather Rewards"', "not a Solidity contract name"),
        ("[reward]", '[w3bstream]\nkeys = { wind = "w" }\n[reward]', "not fields of"),
        ("[reward]", '[w3bstream]\nsigned_keys = "ts"\n[reward]', "signed_keys must be a list"),
        ("[reward]", '[w3bstream]\nstamp = "ts"\n[reward]', "unknown key"),
        ("provers = 3", 'provers = 3\nsignatures = "circuit"\n[w3bstream]', "cannot take W3bStream"),
    ],
)
def test_config_errors_name_the_file_and_key(tmp_path: Path, old: str, new: str, message: str) -> None:
    root = _project(tmp_path)
    _edit_config(root, old, new)
    with pytest.raises(ConfigError, match=message) as caught:
        load_project(root)
    assert CONFIG_FILE in str(caught.value)


def test_a_w3bstream_section_maps_every_schema_field(tmp_path: Path) -> None:
    root = _project(tmp_path)
    _edit_config(
        root,
        "[reward]",
        '[w3bstream]\ntimestamp = "ts"\nsigned_keys = ["ts"]\n[w3bstream.keys]\ntemperature = "s.t"\n[reward]',
    )
    spec = load_project(root)
    assert spec.w3bstream is not None
    assert dict(spec.w3bstream.keys)["temperature"] == "s.t"
    assert {name for name, _ in spec.w3bstream.keys} == set(spec.schema.payload_names)
    assert (spec.w3bstream.timestamp, spec.w3bstream.signed_keys) == ("ts", ("ts",))
    assert load_project(_project(tmp_path / "plain")).w3bstream is None


def test_missing_or_broken_files_are_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="project new"):
        load_project(tmp_path)
    root = _project(tmp_path)
    (root / CONFIG_FILE).write_text("[project\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_project(root)

    root = scaffold("q", "uptime", tmp_path)
    (root / "logic.py").write_text("OUTPUTS = ('seconds',)\ndef check(records): pass\n")
    with pytest.raises(ConfigError, match=r"logic\.py must define a function outputs"):
        load_project(root)
    (root / "logic.py").write_text("import nonexistent_module\n")
    with pytest.raises(ConfigError, match="fails to import: ModuleNotFoundError"):
        load_project(root)
    (root / "generator.py").unlink()
    with pytest.raises(ConfigError, match=r"no generator\.py"):
        load_project(root)


def test_content_hash_covers_config_logic_circuit_and_key(tmp_path: Path) -> None:
    root = _project(tmp_path)
    spec = load_project(root)
    base = spec.content_hash(b"vkey")
    assert spec.content_hash(b"vkey") == base
    assert spec.content_hash(b"other vkey") != base
    assert spec.content_hash(None) != base
    files = spec.content_files(b"vkey")
    assert set(files) == {CONFIG_FILE, "logic.py", "circuit.circom", "verification_key.json"}
    assert hash_content(files) == base
    for name in ("logic.py", "circuit.circom", CONFIG_FILE):
        path = root / name
        original = path.read_text()
        path.write_text(original + "\n")
        assert load_project(root).content_hash(b"vkey") != base, name
        path.write_text(original)
    # The generator and the DApp are not the logic: changing them keeps the version's hash.
    (root / "generator.py").write_text((root / "generator.py").read_text() + "\n")
    assert load_project(root).content_hash(b"vkey") == base


def test_templates_declare_what_their_readme_and_schema_say() -> None:
    for template, package in TEMPLATES.items():
        config = tomllib.loads((template_dir(template) / CONFIG_FILE).read_text())
        assert config["project"]["template"] == template, package
        assert config["project"]["name"] == "__PROJECT_NAME__"
