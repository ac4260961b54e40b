"""The MQTT transport: the gateway subscribes to a broker and admits what devices publish through the same
admission path as HTTP (docs/protocol.md, "Gateway MQTT"; topics and result bodies are in ``mqtt_wire``).

    broker --PUBLISH--> network thread --(per-device shard)--> admission worker --commit--> store
                                                                     |--> result on the device's reply topic
                                                                     '--> PUBACK to the broker

At least once: the gateway acknowledges a message (manual PUBACK) only after it is durably stored or refused,
so a message the gateway held when it stopped, crashed or lost the broker is delivered again, and admitted
again as a duplicate. The session is persistent (clean start off, a session expiry), so the broker queues what
devices publish while the gateway is away.

paho's network thread only parses packets and hands each message to a worker's queue: admission, the store's
commit and the replies run in the workers, never in it. What the queues hold is bounded by ``mqtt.inflight``,
the Receive Maximum the gateway announces: the broker sends no more unacknowledged messages than that.
"""

from __future__ import annotations

import logging
import queue
import threading
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode
from paho.mqtt.subscribeoptions import SubscribeOptions

from proofstream import logs as log
from proofstream.errors import ConfigError, ConflictError, MessageError, ProofstreamError, StoreError
from proofstream.ingest.errors import STATUS_OF_CODE
from proofstream.ingest.intake import Admitted, Intake
from proofstream.ingest.mqtt_wire import TopicScheme, accepted_result, error_result, nonce_of, read_object
from proofstream.settings import MqttSettings

__all__ = ["Admit", "BrokerAddress", "MqttGateway", "admit_batched", "admit_each"]

logger = logging.getLogger(__name__)

Admit = Callable[[Sequence[bytes]], Sequence[Admitted | ProofstreamError]]
"""Admit raw messages in order: one outcome per message, the refusal of a refused one in its place. A store
failure that a retry may cure (:func:`is_transient`) is raised for the whole call, which is then made again: what it
had stored by then answers ``duplicate`` the second time. The one place a batch store write plugs in (with a
``max_batch`` above 1: what a worker has queued is handed over at once, in one commit)."""

RETRY_S = (0.05, 0.2, 1.0, 5.0)
"""Waits between attempts to admit a batch the store could not take: short first (a busy moment), then capped."""

KEEPALIVE_S = 30
RECONNECT_S = (1, 10)
"""paho's reconnect back-off, first and longest wait: a restarted broker is back within a second or so."""


def admit_each(intake: Intake) -> Admit:
    """:data:`Admit` one message at a time through ``intake`` (one commit each; concurrent workers share the
    store's group commit)."""

    def admit(raws: Sequence[bytes]) -> list[Admitted | ProofstreamError]:
        outcomes: list[Admitted | ProofstreamError] = []
        for raw in raws:
            try:
                outcomes.append(intake.accept(raw))
            except ProofstreamError as exc:
                if is_transient(exc):
                    raise
                outcomes.append(exc)
        return outcomes

    return admit


def admit_batched(intake: Intake) -> Admit:
    """:data:`Admit` what a worker has queued in one durable commit (:meth:`Intake.accept_many`): the path to
    thousands of messages a second, where :func:`admit_each` pays a commit per message."""

    def admit(raws: Sequence[bytes]) -> Sequence[Admitted | ProofstreamError]:
        return intake.accept_many(raws)

    return admit


def is_transient(exc: ProofstreamError) -> bool:
    """A store failure, not a refusal: the message must not be acknowledged, since it is not stored. A store
    error is a refusal when it is an ordering conflict or one HTTP answers with a 4xx (``unknown_project``); any
    other (``store_error``, a closed store) is a failure that a retry, or the next session, may cure."""
    if not isinstance(exc, StoreError) or isinstance(exc, ConflictError):
        return False
    return not 400 <= STATUS_OF_CODE.get(exc.code, 500) < 500


@dataclass(frozen=True)
class BrokerAddress:
    host: str
    port: int
    tls: bool
    username: str | None = None
    password: str | None = None

    @classmethod
    def parse(cls, url: str) -> BrokerAddress:
        """``mqtt://[user:password@]host[:port]`` (port 1883) or ``mqtts://...`` (TLS, port 8883)."""
        try:
            parts = urlsplit(url)
        except ValueError as exc:  # an unclosed [IPv6 literal
            raise ConfigError(f"mqtt.broker_url {url!r} is not a URL: {exc}") from exc
        if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
            raise ConfigError(f"mqtt.broker_url {url!r} must be mqtt://host[:port] or mqtts://host[:port]")
        try:
            port = parts.port
        except ValueError as exc:
            raise ConfigError(f"mqtt.broker_url {url!r} has a bad port") from exc
        tls = parts.scheme == "mqtts"
        return cls(
            parts.hostname,
            port if port is not None else (8883 if tls else 1883),
            tls,
            None if parts.username is None else unquote(parts.username),
            None if parts.password is None else unquote(parts.password),
        )


@dataclass(frozen=True)
class _Inbound:
    topic: str
    payload: bytes
    mid: int
    qos: int
    connection: int
    """Which connection delivered it: a packet id means something only on the connection that gave it."""
    correlation: bytes | None


class MqttGateway:
    """Subscribe to the broker of ``settings`` and admit every message with ``admit``. ``start()``, ``stop()``."""

    def __init__(self, settings: MqttSettings, admit: Admit, *, max_body_bytes: int, max_batch: int = 1) -> None:
        """``max_batch``: the most messages a worker hands to one ``admit`` call. 1 for :func:`admit_each`, whose
        commits are one per message anyway: a worker acknowledges a batch only once all of it is admitted, so a
        larger batch there would only hold the broker's window (``mqtt.inflight``) longer."""
        if settings.qos != 1:
            # QoS 2 would PUBREC on receipt, releasing the broker's copy before the commit (MqttSettings.qos).
            raise ConfigError(f"mqtt.qos must be 1 (at least once, acknowledged after the commit), got {settings.qos}")
        if settings.workers < 1 or not 1 <= settings.inflight <= 65535:
            raise ConfigError("mqtt.workers must be at least 1 and mqtt.inflight between 1 and 65535")
        self._settings = settings
        self._broker = BrokerAddress.parse(settings.broker_url)
        self._scheme = TopicScheme(settings.topic_prefix)
        self._admit = admit
        self._max_body_bytes = max_body_bytes
        self._max_batch = max_batch
        self._stopping = threading.Event()
        self._subscribed = threading.Event()
        self._disconnected = threading.Event()
        # Guards ``_connection`` against an ack racing a reconnect (see _ack).
        self._connection_lock = threading.Lock()
        self._connection = 0
        self._inboxes: list[queue.SimpleQueue[_Inbound | None]] = [queue.SimpleQueue() for _ in range(settings.workers)]
        self._workers = [
            threading.Thread(target=self._work, args=(inbox,), name=f"mqtt-admit-{i}", daemon=True)
            for i, inbox in enumerate(self._inboxes)
        ]
        self._client = self._make_client()

    @property
    def subscription(self) -> str:
        return self._scheme.subscription(self._settings.shared_group)

    def _make_client(self) -> paho.Client:
        client = paho.Client(
            CallbackAPIVersion.VERSION2,
            client_id=self._settings.client_id,
            protocol=MQTTProtocolVersion.MQTTv5,
            manual_ack=True,
        )
        if self._broker.tls:
            client.tls_set()
        if self._broker.username is not None:
            client.username_pw_set(self._broker.username, self._broker.password)
        client.reconnect_delay_set(*RECONNECT_S)
        client.max_inflight_messages_set(self._settings.inflight)
        client.on_connect = self._on_connect
        client.on_connect_fail = self._on_connect_fail
        client.on_disconnect = self._on_disconnect
        client.on_subscribe = self._on_subscribe
        client.on_message = self._on_message
        return client

    # --- lifecycle ---------------------------------------------------------------------------------------------

    def start(self) -> MqttGateway:
        """Start the workers and the network thread; the connection (and every reconnection) is made in the
        background, so a broker that is down at start-up is reached once it is up."""
        for worker in self._workers:
            worker.start()
        properties = _properties(PacketTypes.CONNECT)
        properties.SessionExpiryInterval = self._settings.session_expiry_seconds
        properties.ReceiveMaximum = self._settings.inflight
        self._client.connect_async(
            self._broker.host,
            self._broker.port,
            keepalive=KEEPALIVE_S,
            clean_start=self._settings.session_expiry_seconds == 0,
            properties=properties,
        )
        self._client.loop_start()
        log.info(logger, "mqtt gateway started", path=f"{self._broker.host}:{self._broker.port}")
        return self

    def wait_subscribed(self, timeout: float) -> bool:
        """True once the broker has granted the subscription on the current connection."""
        return self._subscribed.wait(timeout)

    def stop(self, timeout: float = 10.0) -> None:
        """Finish the messages being admitted, then disconnect. What is still queued here is not acknowledged: the
        broker delivers it again to the next session. Idempotent."""
        if self._stopping.is_set():
            return
        self._stopping.set()
        for inbox in self._inboxes:
            inbox.put(None)
        for worker in self._workers:
            if worker.is_alive():
                worker.join(timeout)
        self._disconnected.clear()
        if self._client.disconnect() == paho.MQTT_ERR_SUCCESS:
            # The acks and results queued before the DISCONNECT go out first; wait for the socket to close.
            self._disconnected.wait(timeout)
        self._client.loop_stop()
        log.info(logger, "mqtt gateway stopped")

    # --- paho's network thread: nothing here waits on admission -------------------------------------------------

    def _on_connect(
        self, client: paho.Client, _: object, flags: paho.ConnectFlags, reason: ReasonCode, __: Properties | None
    ) -> None:
        if reason.is_failure:
            log.warning(logger, "mqtt connection refused", reason=str(reason))
            return
        log.info(logger, "mqtt connected", reason="session resumed" if flags.session_present else "new session")
        # Subscribing again on a resumed session is harmless, and covers a broker that lost the session.
        client.subscribe(self.subscription, options=SubscribeOptions(qos=self._settings.qos))

    def _on_connect_fail(self, _: paho.Client, __: object) -> None:
        log.warning(logger, "mqtt broker unreachable, retrying", path=f"{self._broker.host}:{self._broker.port}")

    def _on_subscribe(
        self, _: paho.Client, __: object, ___: int, reasons: list[ReasonCode], ____: Properties | None
    ) -> None:
        if any(r.is_failure for r in reasons):
            log.error(logger, "mqtt subscription refused", path=self.subscription, reason=str(reasons[0]))
            return
        self._subscribed.set()

    def _on_disconnect(
        self, _: paho.Client, __: object, ___: paho.DisconnectFlags, reason: ReasonCode, ____: Properties | None
    ) -> None:
        with self._connection_lock:
            self._connection += 1
        self._subscribed.clear()
        self._disconnected.set()
        if not self._stopping.is_set():
            log.warning(logger, "mqtt disconnected, reconnecting", reason=str(reason))

    def _on_message(self, _: paho.Client, __: object, message: paho.MQTTMessage) -> None:
        try:
            topic = message.topic
        except UnicodeDecodeError:
            topic = ""  # brokers check topics are UTF-8; this one is answered as a topic of no device
        correlation = getattr(message.properties, "CorrelationData", None)
        with self._connection_lock:
            connection = self._connection
        inbound = _Inbound(topic, bytes(message.payload), message.mid, message.qos, connection, correlation)
        # One device's messages always go to one worker, so they are admitted in the order they came.
        shard = zlib.crc32(topic.lower().encode()) % len(self._inboxes)
        self._inboxes[shard].put(inbound)

    # --- the admission workers ---------------------------------------------------------------------------------

    def _work(self, inbox: queue.SimpleQueue[_Inbound | None]) -> None:
        while not self._stopping.is_set():
            first = inbox.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < self._max_batch:
                try:
                    item = inbox.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    inbox.put(None)
                    break
                batch.append(item)
            try:
                self._handle(batch)
            except Exception:
                # Unacknowledged, so the broker delivers them again to the next session: logged, never lost.
                log.error(logger, "mqtt batch crashed, left unacknowledged", count=len(batch), exc_info=True)

    def _handle(self, batch: Sequence[_Inbound]) -> None:
        reply_topics: list[str | None] = [None] * len(batch)
        results: list[bytes | None] = [None] * len(batch)
        nonces: list[int | None] = [None] * len(batch)
        to_admit: list[int] = []
        for i, inbound in enumerate(batch):
            body = read_object(inbound.payload)
            nonces[i] = nonce_of(body)
            topic = self._scheme.parse(inbound.topic)
            if topic is None:
                log.warning(logger, "mqtt message on a topic of no device, dropped", path=inbound.topic)
                continue
            reply_topics[i] = topic.reply
            try:
                if len(inbound.payload) > self._max_body_bytes:
                    raise MessageError(
                        f"message of {len(inbound.payload)} bytes exceeds {self._max_body_bytes}",
                        code="body_too_large",
                    )
                topic.check(body)
            except MessageError as exc:
                results[i] = error_result(exc, nonces[i])
            else:
                to_admit.append(i)
        outcomes = self._admit_until_stored([batch[i].payload for i in to_admit])
        if outcomes is None:
            return  # stopping with the store still failing: nothing acknowledged, all delivered again later
        for i, outcome in zip(to_admit, outcomes, strict=True):
            if isinstance(outcome, Admitted):
                results[i] = accepted_result(outcome, nonces[i])
            else:
                results[i] = error_result(outcome, nonces[i])
        for inbound, reply_topic, result in zip(batch, reply_topics, results, strict=True):
            if reply_topic is not None and result is not None:
                self._reply(reply_topic, result, inbound.correlation)
            self._ack(inbound)

    def _admit_until_stored(self, raws: list[bytes]) -> Sequence[Admitted | ProofstreamError] | None:
        if not raws:
            return []
        attempt = 0
        while True:
            try:
                return self._admit(raws)
            except ProofstreamError as exc:
                if not is_transient(exc):
                    raise
                wait = RETRY_S[min(attempt, len(RETRY_S) - 1)]
                log.warning(logger, "store failed, retrying mqtt batch", count=len(raws), seconds=wait, error=exc)
            attempt += 1
            if self._stopping.wait(wait):
                return None

    def _reply(self, topic: str, payload: bytes, correlation: bytes | None) -> None:
        properties = None
        if correlation is not None:
            properties = _properties(PacketTypes.PUBLISH)
            properties.CorrelationData = correlation
        # QoS 1 and kept in paho's queue across a reconnect; if it is lost anyway the device resends, and hears
        # "duplicate".
        self._client.publish(topic, payload, qos=1, properties=properties)

    def _ack(self, inbound: _Inbound) -> None:
        with self._connection_lock:
            # After a reconnect the broker delivers the message again on the new connection (that copy is acked
            # then); acking the old packet id here could acknowledge another message that now has it.
            if inbound.connection == self._connection:
                self._client.ack(inbound.mid, inbound.qos)


def _properties(packet_type: int) -> Properties:
    return Properties(packet_type)  # type: ignore[no-untyped-call]  # paho leaves this constructor untyped
