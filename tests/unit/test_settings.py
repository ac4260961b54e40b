from __future__ import annotations

from pathlib import Path

import pytest

from proofstream.errors import ConfigError
from proofstream.settings import DEFAULT_CONFIRMATIONS, KEY_ENV, load_settings


def test_defaults_are_a_local_chain_without_key() -> None:
    settings = load_settings(env={})
    assert settings.is_local_chain
    assert not settings.has_key({})
    with pytest.raises(ConfigError, match=KEY_ENV):
        settings.private_key({})


def test_file_then_environment(tmp_path: Path) -> None:
    path = tmp_path / "proofstream.toml"
    path.write_text('data_dir = "x"\n[gateway]\nport = 9000\n[batching]\nwindow_seconds = 60\n')
    settings = load_settings(path, env={"PROOFSTREAM_GATEWAY_PORT": "9100"})
    assert settings.data_dir == "x"
    assert settings.gateway.port == 9100
    assert settings.batching.window_seconds == 60


def test_real_chain_needs_a_key_from_the_user(tmp_path: Path) -> None:
    settings = load_settings(env={"PROOFSTREAM_CHAIN_RPC_URL": "http://10.0.0.1:8545"})
    with pytest.raises(ConfigError, match=KEY_ENV):
        settings.private_key({})
    assert settings.private_key({KEY_ENV: " 0xabc "}) == "0xabc"
    key_file = tmp_path / "key"
    key_file.write_text("0xdef\n")
    with_file = load_settings(
        env={"PROOFSTREAM_CHAIN_RPC_URL": "http://x", "PROOFSTREAM_CHAIN_KEY_FILE": str(key_file)}
    )
    assert with_file.private_key({}) == "0xdef"


def test_confirmations_default_to_none_on_the_local_chain_only() -> None:
    assert load_settings(env={}).confirmations == 0
    remote = {"PROOFSTREAM_CHAIN_RPC_URL": "http://10.0.0.1:8545"}
    assert load_settings(env=remote).confirmations == DEFAULT_CONFIRMATIONS
    assert load_settings(env={**remote, "PROOFSTREAM_CHAIN_CONFIRMATIONS": "0"}).confirmations == 0
    assert load_settings(env={"PROOFSTREAM_CHAIN_CONFIRMATIONS": "3"}).confirmations == 3
    with pytest.raises(ConfigError, match=r"chain\.confirmations"):
        _ = load_settings(env={"PROOFSTREAM_CHAIN_CONFIRMATIONS": "-2"}).confirmations


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("[gateway]\nprot = 1\n", "unknown setting 'prot'"),
        ("[gateway]\nport = 'x'\n", "must be int"),
        ("=", "TOML"),
    ],
)
def test_bad_files_say_what_to_fix(tmp_path: Path, text: str, match: str) -> None:
    path = tmp_path / "s.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=match):
        load_settings(path, env={})


@pytest.mark.parametrize(("value", "expected"), [("false", False), ("0", False), ("no", False), ("True", True)])
def test_booleans_from_the_environment_are_spelled_out(value: str, expected: bool) -> None:
    # bool("false") is True in Python: the environment's strings must not be taken that way.
    settings = load_settings(env={"PROOFSTREAM_GATEWAY_OPEN_REGISTRATION": value})
    assert settings.gateway.open_registration is expected


def test_a_boolean_that_is_not_one_is_refused() -> None:
    with pytest.raises(ConfigError, match="must be true or false"):
        load_settings(env={"PROOFSTREAM_GATEWAY_OPEN_REGISTRATION": "maybe"})


def test_the_prover_defaults_to_one_worker_on_the_fastest_installed_path() -> None:
    prover = load_settings(env={}).prover
    assert (prover.workers, prover.backend) == (1, "auto")
    chosen = load_settings(env={"PROOFSTREAM_PROVER_WORKERS": "3", "PROOFSTREAM_PROVER_BACKEND": "snarkjs"}).prover
    assert (chosen.workers, chosen.backend) == (3, "snarkjs")


@pytest.mark.parametrize(
    ("name", "value", "match"),
    [("WORKERS", "0", "prover.workers must be at least 1"), ("BACKEND", "rapidsnark", "auto, snarkjs, fast")],
)
def test_a_prover_setting_out_of_range_is_refused(name: str, value: str, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        load_settings(env={f"PROOFSTREAM_PROVER_{name}": value})


def test_route_batches_are_configured_in_the_chain_section() -> None:
    settings = load_settings(env={"PROOFSTREAM_CHAIN_ROUTE_BATCH": "8", "PROOFSTREAM_CHAIN_ROUTE_WAIT_SECONDS": "1.5"})
    assert (settings.chain.route_batch, settings.chain.route_wait_seconds) == (8, 1.5)
    with pytest.raises(ConfigError, match=r"chain\.route_batch"):
        load_settings(env={"PROOFSTREAM_CHAIN_ROUTE_BATCH": "0"})
