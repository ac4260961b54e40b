"""Finding a powers-of-tau file: header parsing, search order, the error that says what to get."""

from __future__ import annotations

import hashlib
import json
import os
import struct
from pathlib import Path

import pytest

from proofstream.circuits.artifacts import CircuitArtifacts
from proofstream.circuits.ptau import file_sha256, find_ptau, read_ptau_info, required_power
from proofstream.errors import ConfigError

Q = 21888242871839275222246405745257275088696311157297823662689037894645226208583  # BN254 base field


def fake_ptau(path: Path, power: int, *, prepared: bool = True) -> Path:
    """A .ptau header with the sections the search reads (no points: only the header is ever parsed here)."""
    header = struct.pack("<I", 32) + Q.to_bytes(32, "little") + struct.pack("<II", power, power)
    sections = [(1, header)] + ([(12, b"")] if prepared else [])
    body = b"".join(struct.pack("<IQ", kind, len(data)) + data for kind, data in sections)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"ptau" + struct.pack("<II", 1, len(sections)) + body)
    return path


def test_required_power_matches_snarkjs_domain_size() -> None:
    assert required_power(7686, 8) == 13
    assert required_power(8183, 8) == 13  # 8183 + 8 + 1 = 2^13 exactly
    assert required_power(8184, 8) == 14
    with pytest.raises(ValueError):
        required_power(0, 1)


def test_reads_power_and_preparation(tmp_path: Path) -> None:
    info = read_ptau_info(fake_ptau(tmp_path / "a.ptau", 11, prepared=False))
    assert (info.power, info.prepared) == (11, False)
    (tmp_path / "bad.ptau").write_bytes(b"zkey" + bytes(20))
    with pytest.raises(ConfigError, match="not a powers-of-tau"):
        read_ptau_info(tmp_path / "bad.ptau")


def test_search_picks_the_smallest_prepared_file_that_fits(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    fake_ptau(repo / "ptau" / "small.ptau", 12)
    fake_ptau(repo / "ptau" / "unprepared.ptau", 14, prepared=False)
    fake_ptau(repo / "ptau" / "big.ptau", 16)
    fake_ptau(repo / "ptau" / "bigger.ptau", 18)
    assert find_ptau(13, repo_root=repo).path.name == "big.ptau"
    assert find_ptau(12, repo_root=repo).path.name == "small.ptau"


def test_falls_back_to_the_shared_folder(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    shared = fake_ptau(tmp_path / "shared" / "ptau" / "pot17_final.ptau", 17)
    assert find_ptau(15, repo_root=repo).path == shared.resolve()


def test_error_names_the_power_and_where_to_get_one(tmp_path: Path) -> None:
    fake_ptau(tmp_path / "repo" / "ptau" / "small.ptau", 10)
    with pytest.raises(ConfigError, match=r"power >= 13") as caught:
        find_ptau(13, repo_root=tmp_path / "repo")
    assert "Perpetual Powers of Tau" in str(caught.value) and "hez_final_13" in str(caught.value)
    assert caught.value.code == "ptau_missing"


def test_explicit_file_wins_and_must_fit(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    fake_ptau(repo / "ptau" / "local.ptau", 14)
    explicit = fake_ptau(tmp_path / "mine.ptau", 20)
    assert find_ptau(13, explicit=explicit, repo_root=repo).path == explicit
    with pytest.raises(ConfigError, match="power 20"):
        find_ptau(21, explicit=explicit, repo_root=repo)
    with pytest.raises(ConfigError, match="not prepared"):
        find_ptau(13, explicit=fake_ptau(tmp_path / "raw.ptau", 20, prepared=False), repo_root=repo)


def test_real_search_finds_a_file_for_the_demo_circuit(artifacts: CircuitArtifacts) -> None:
    demo = required_power(artifacts.constraints, artifacts.public_signals)  # the tracker-distance template's
    try:
        info = find_ptau(demo)
    except ConfigError as exc:
        pytest.skip(f"no powers-of-tau file on this machine: {exc}")
    assert info.power >= demo and info.prepared


def test_file_hash_is_remembered_until_the_file_changes(tmp_path: Path) -> None:
    data = tmp_path / "data.bin"
    data.write_bytes(b"x" * 5000)
    memo = tmp_path / "memo"
    assert file_sha256(data, memo) == hashlib.sha256(b"x" * 5000).hexdigest()
    (entry,) = memo.iterdir()
    entry.write_text(json.dumps({"sha256": "remembered"}))
    assert file_sha256(data, memo) == "remembered"  # no re-read while size and mtime are unchanged
    stat = data.stat()
    os.utime(data, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert file_sha256(data, memo) == hashlib.sha256(b"x" * 5000).hexdigest()
