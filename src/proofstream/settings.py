"""Settings: one TOML file plus the environment, parsed once in the composition root.

Precedence: built-in defaults < the settings file < ``PROOFSTREAM_<SECTION>_<KEY>`` environment variables.
Nothing here is read at import time; ``load_settings`` is called by the CLI and handed down.

A key for a chain other than the local one never has a default: it comes from ``chain.key_file`` or from the
``PROOFSTREAM_PRIVATE_KEY`` environment variable, or the node refuses to start. "The local chain" is the anvil
the node starts itself (no ``chain.rpc_url``); a ``chain.rpc_url`` is never local, even one that points at an
anvil with anvil's chain id 31337.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from proofstream.domain.defaults import GATEWAY_HOST, GATEWAY_PORT
from proofstream.errors import ConfigError

PROVER_BACKENDS = ("auto", "snarkjs", "fast")
"""What ``prover.backend`` may name (proofstream.prover.warm.choose_prover reads it)."""

BATCHING_MODES = ("throughput", "latency")
"""What ``batching.mode`` may name."""

LATENCY_WINDOW_S = 1
"""The batching window of the latency mode when ``batching.window_seconds`` does not set one."""

LATENCY_POLL_S = 0.1
"""The longest an idle loop of the node (pipeline, provers, attesters) waits in the latency mode."""

DEFAULT_CONFIRMATIONS = 12
"""``chain.confirmations`` of a chain at a ``chain.rpc_url`` unless set: deeper than the reorgs an L1 or a rollup's
unsafe head usually sees."""

KEY_ENV = "PROOFSTREAM_PRIVATE_KEY"
"""The environment variable that may hold the node's private key (hex) for a non-local chain."""


@dataclass(frozen=True)
class GatewaySettings:
    host: str = GATEWAY_HOST
    port: int = GATEWAY_PORT
    """0 picks a free port (the demo does)."""
    max_body_bytes: int = 16 * 1024
    max_batch_body_bytes: int = 1024 * 1024
    """Body limit of POST /v1/projects/{id}/messages (a batch), apart from the single message's ``max_body_bytes``."""
    max_batch_messages: int = 1000
    """Messages one batch request may hold (``batch_too_large`` above)."""
    open_registration: bool = False
    """Let devices ask the gateway to register them (POST /v1/projects/{id}/devices), the node paying the gas
    as project owner. Always on for the local chain the node starts itself; off by default on any chain at a
    ``chain.rpc_url`` (whatever its chain id), since any key could ask."""
    voucher_registration: bool = True
    """Let devices register through this gateway with a voucher signed by the project owner or a manufacturer it
    registered (docs/protocol.md, "Vouchers"), the node's key paying the gas (it need not own the project). The
    voucher is the authority, so this is on by default on every chain; off, the gateway sends nothing for them."""
    max_future_seconds: int = 60
    """The gateway refuses a new message timestamped more than this ahead of its clock (``timestamp_in_future``)."""
    max_past_seconds: int = 3600
    """The gateway refuses a new message timestamped more than this behind its clock (``timestamp_too_old``).
    The node never uses less than the project's batching window plus ``batching.grace_seconds``, so a message
    the sequencer would still put in an open window is never refused."""
    recovery_workers: int = 2
    """Processes that recover the signers of a batch's messages (HTTP batches and MQTT groups of 64 or more,
    ``ingest.recovery``), started on the first such batch; 0: the gateway's own process recovers them all."""

    def __post_init__(self) -> None:
        if self.recovery_workers < 0:
            raise ConfigError(f"gateway.recovery_workers must be 0 or more, got {self.recovery_workers}")


@dataclass(frozen=True)
class ChainSettings:
    rpc_url: str = ""
    """Empty: proofstream starts (and stops) a local anvil chain itself. Set, it is never treated as local."""
    key_file: str = ""
    """File holding the node's hex private key.

    Required with any rpc_url unless PROOFSTREAM_PRIVATE_KEY is set."""
    deadline_blocks: int = 1000
    """Blocks a prover has to route an assigned task."""
    route_batch: int = 64
    """Most tasks one route transaction carries (Router.routeBatch, one batched proof check for them all)."""
    route_wait_seconds: float = 60.0
    """How long a proven task may wait for others to join its route transaction (never longer than it takes the
    tasks in flight to be proven); the latency mode waits none. The batch's
    fixed part (a transaction, three pairings) is then shared by more tasks: a minute is short beside the
    throughput mode's window (600 s in the templates)."""

    def __post_init__(self) -> None:
        if self.route_batch < 1:
            raise ConfigError(f"chain.route_batch must be at least 1, got {self.route_batch}")

    poll_seconds: float = 0.5
    confirmations: int = -1
    """Blocks that must follow a block before the indexer reads its events and the gateway trusts its state
    (config version liveness, registrations). -1 (the default): 0 on the local chain the node starts itself,
    which mines a block only per transaction, and :data:`DEFAULT_CONFIRMATIONS` on a chain at ``rpc_url``."""


@dataclass(frozen=True)
class BatchingSettings:
    mode: str = "throughput"
    """``throughput``: tasks are cut by the project's window (plus ``grace_seconds``) or at capacity, the cost
    guard of docs/protocol.md ("Tasks"). ``latency``: a window of 1 s unless ``window_seconds`` sets one, no
    grace, the node's loops wait at most 0.1 s, and a device's messages wait for its task in flight and then
    all join its next task (docs/protocol.md, "Latency mode"). It drops the cost guard: see there."""
    window_seconds: int = 0
    """Overrides the project's ``[batching] window_seconds`` when set (0: the project's, or 1 s in the latency
    mode)."""
    grace_seconds: int = 5
    """How long after a window ends late messages may still join it; the latency mode uses none."""

    def __post_init__(self) -> None:
        if self.mode not in BATCHING_MODES:
            raise ConfigError(f"batching.mode must be one of {', '.join(BATCHING_MODES)}, got {self.mode!r}")

    @property
    def latency(self) -> bool:
        return self.mode == "latency"

    def window(self, project_window: int) -> int:
        """The window the sequencer cuts by, for a project whose ``[batching] window_seconds`` is given."""
        return self.window_seconds or (LATENCY_WINDOW_S if self.latency else project_window)

    @property
    def grace(self) -> int:
        """The grace the sequencer waits after a window (none in the latency mode)."""
        return 0 if self.latency else self.grace_seconds


@dataclass(frozen=True)
class ProverSettings:
    ptau: str = ""
    """Path of a powers-of-tau file (e.g. a Perpetual Powers of Tau download).

    Empty: the project's own committed file (demo-grade) or ../shared/ptau on these machines."""
    workers: int = 1
    """Tasks proven at once: that many prover threads in the node, each with its own warm prover processes on the
    fast path. One device's tasks are shared among them as any others are (each is proven against the anchor
    its predecessor will leave), except with the attest backend, whose attesters wait for the predecessor."""
    backend: str = "auto"
    """The Groth16 prover: ``fast`` (warm groth16py processes, the ``fastprove`` extra), ``snarkjs`` (the snarkjs
    CLI, a fresh process per proof) or ``auto`` (fast when the extra is installed, else snarkjs)."""

    def __post_init__(self) -> None:
        if self.workers < 1:
            raise ConfigError(f"prover.workers must be at least 1, got {self.workers}")
        if self.backend not in PROVER_BACKENDS:
            raise ConfigError(f"prover.backend must be one of {', '.join(PROVER_BACKENDS)}, got {self.backend!r}")


@dataclass(frozen=True)
class MqttSettings:
    """The MQTT transport (docs/protocol.md, "Gateway MQTT"): off while ``broker_url`` is empty."""

    broker_url: str = ""
    """``mqtt://[user:password@]host[:port]`` (1883 by default) or ``mqtts://`` (TLS, 8883); empty: no MQTT."""
    client_id: str = "proofstream-gateway"
    """The broker keeps the gateway's session (its subscription and the messages queued for it) under this id:
    each gateway needs its own, stable across restarts."""
    topic_prefix: str = "proofstream/v1"
    """Devices publish to ``{topic_prefix}/projects/{project}/devices/{device}/messages``."""
    qos: int = 1
    """QoS of the subscription. Only 1 is taken: the broker resends a message until the gateway acknowledges it,
    which it does once the message is durably stored or refused. With 2 the client's PUBREC, sent on receipt,
    already releases the broker's copy, so a message held by a gateway that crashed would be lost."""
    session_expiry_seconds: int = 7 * 24 * 3600
    """How long the broker keeps the session (and queues messages for it) while the gateway is away."""
    shared_group: str = ""
    """Set when several gateways share the load: each subscribes to ``$share/{shared_group}/...`` and the broker
    hands each message to one of them."""
    inflight: int = 256
    """Messages the broker may have delivered but not yet had acknowledged (MQTT v5 Receive Maximum); it also
    bounds what the gateway holds in memory."""
    workers: int = 8
    """Admission threads (they mostly wait on the store's commit, which they share); a device's messages always
    go to the same one, so they are admitted in order."""
    batch: int = 64
    """The most messages a worker admits in one durable commit (what has queued for it); 1: one commit each."""


@dataclass(frozen=True)
class StoreSettings:
    url: str = ""
    """Where the node keeps its messages and tasks (``proofstream.node.stores`` reads it). Empty: the SQLite file
    ``proofstream.sqlite3`` under ``data_dir``, zero setup. ``sqlite:///PATH``: another SQLite file (a relative
    PATH from the working directory, ``sqlite:////abs/path`` an absolute one). ``postgresql://USER[:PASSWORD]@HOST
    [:PORT]/DATABASE``: a PostgreSQL database that many gateways, provers and nodes may share; ``?schema=NAME``
    keeps the tables in that schema (created if missing), any other parameter is libpq's."""


@dataclass(frozen=True)
class Settings:
    data_dir: str = "proofstream-data"
    """Where the SQLite store (unless ``store.url`` says otherwise), the local chain's state and the deployments
    manifest live."""
    cache_dir: str = ""
    """Circuits, keys and compiled contracts, keyed by content hash; empty: the user's cache directory."""
    gateway: GatewaySettings = field(default_factory=GatewaySettings)
    chain: ChainSettings = field(default_factory=ChainSettings)
    batching: BatchingSettings = field(default_factory=BatchingSettings)
    prover: ProverSettings = field(default_factory=ProverSettings)
    mqtt: MqttSettings = field(default_factory=MqttSettings)
    store: StoreSettings = field(default_factory=StoreSettings)

    @property
    def poll_seconds(self) -> float:
        """How long an idle loop of the node waits: ``chain.poll_seconds``, at most 0.1 s in the latency mode."""
        return min(self.chain.poll_seconds, LATENCY_POLL_S) if self.batching.latency else self.chain.poll_seconds

    @property
    def is_local_chain(self) -> bool:
        """No ``chain.rpc_url``: the node starts its own anvil, the only chain it treats as local."""
        return not self.chain.rpc_url

    @property
    def confirmations(self) -> int:
        """``chain.confirmations`` with its default resolved for this chain (see :class:`ChainSettings`)."""
        if self.chain.confirmations >= 0:
            return self.chain.confirmations
        if self.chain.confirmations != -1:
            raise ConfigError(
                f"chain.confirmations must be -1 (the default) or at least 0, got {self.chain.confirmations}"
            )
        return 0 if self.is_local_chain else DEFAULT_CONFIRMATIONS

    def has_key(self, env: Mapping[str, str]) -> bool:
        """Whether the user gave the node a key (key file or environment)."""
        return bool(self.chain.key_file or env.get(KEY_ENV))

    def private_key(self, env: Mapping[str, str]) -> str:
        """The operator's key: from the key file or the environment, never a default."""
        if self.chain.key_file:
            path = Path(self.chain.key_file).expanduser()
            try:
                return path.read_text().strip()
            except OSError as exc:
                raise ConfigError(f"cannot read chain.key_file {path}: {exc.strerror}") from exc
        if env.get(KEY_ENV):
            return env[KEY_ENV].strip()
        raise ConfigError(
            f"chain.rpc_url is {self.chain.rpc_url!r} but no key was given: set chain.key_file in the settings "
            f"file or the {KEY_ENV} environment variable"
        )


_SECTIONS = {
    "gateway": GatewaySettings,
    "chain": ChainSettings,
    "batching": BatchingSettings,
    "prover": ProverSettings,
    "mqtt": MqttSettings,
    "store": StoreSettings,
}


_BOOLEANS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}


def load_settings(path: Path | None = None, env: Mapping[str, str] | None = None) -> Settings:
    """Read defaults, then the TOML file (if any), then PROOFSTREAM_* variables from ``env``."""
    env = os.environ if env is None else env
    raw: dict[str, Any] = {}
    if path is not None:
        try:
            raw = tomllib.loads(path.read_text())
        except OSError as exc:
            raise ConfigError(f"cannot read settings file {path}: {exc.strerror}") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"settings file {path} is not valid TOML: {exc}") from exc
    settings = _apply(Settings(), raw, source=str(path))
    return _apply(settings, _from_env(env), source="the environment")


def _from_env(env: Mapping[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in env.items():
        if not name.startswith("PROOFSTREAM_") or name == KEY_ENV:
            continue
        key = name.removeprefix("PROOFSTREAM_").lower()
        section, _, rest = key.partition("_")
        if section in _SECTIONS and rest:
            out.setdefault(section, {})[rest] = value
        else:
            out[key] = value
    return out


def _apply(settings: Settings, raw: Mapping[str, Any], *, source: str) -> Settings:
    top: dict[str, Any] = {}
    for key, value in raw.items():
        if key in _SECTIONS:
            if not isinstance(value, Mapping):
                raise ConfigError(f"[{key}] in {source} must be a table")
            current = getattr(settings, key)
            top[key] = replace(current, **_coerce(type(current), value, f"{source} [{key}]"))
        else:
            top.update(_coerce(Settings, {key: value}, source))
    return replace(settings, **top)


def _coerce(cls: type, values: Mapping[str, Any], source: str) -> dict[str, Any]:
    known = {f.name: f for f in fields(cls) if f.name not in _SECTIONS}
    out: dict[str, Any] = {}
    for key, value in values.items():
        if key not in known:
            raise ConfigError(f"unknown setting {key!r} in {source}; known: {', '.join(sorted(known))}")
        target = type(getattr(cls(), key))
        if target is bool and isinstance(value, str):
            # bool("false") is True: spell the environment's strings out.
            if value.strip().lower() not in _BOOLEANS:
                raise ConfigError(f"setting {key!r} in {source} must be true or false, got {value!r}")
            value = _BOOLEANS[value.strip().lower()]
        try:
            out[key] = value if isinstance(value, target) else target(value)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"setting {key!r} in {source} must be {target.__name__}, got {value!r}") from exc
    return out
