"""`proofstream project new`: every template scaffolds a project that loads, is the developer's own copy, and
says what is wrong when it is not well formed."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from proofstream.cli.main import app
from proofstream.errors import ConfigError
from proofstream.projects.scaffold import TEMPLATES, scaffold, template_dir
from proofstream.projects.spec import CONFIG_FILE, hash_content, load_project


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
