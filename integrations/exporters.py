"""Delivering one payload to one exporter: REST (HTTP POST) or MQTT (publish), and the 003 connection test.

:func:`deliver` never raises for a failure of the peer: it answers a :class:`DeliveryResult` saying whether
the peer took the payload, how long it took, and whether trying again could help (002's retryable errors:
unreachable, timeout, 5xx, 408, 429). Error texts are scrubbed of the exporter's secrets, because they go
to the delivery log, the API and the logs.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
import paho.mqtt.client as mqtt
from django.core.serializers.json import DjangoJSONEncoder

from config import outbound
from config.api.contracts import now_iso
from config.resilience import RETRYABLE_HTTP_STATUSES, ServiceTimeout, classify, describe
from integrations import masking
from integrations.models import AuthType, Exporter, ExporterType

logger = logging.getLogger("argus.integrations.exporters")

TIMEOUT_SECONDS = 10.0
USER_AGENT = "Argus-Exporter/1.0"
_ERROR_BODY_CHARS = 200
# MQTT CONNACK refusals that a retry cannot fix: the exporter's configuration must change.
_MQTT_CONFIG_REFUSALS = ("not authorized", "bad user name or password", "client identifier not valid")


@dataclass(frozen=True)
class DeliveryResult:
    """What one delivery attempt came to."""

    ok: bool
    duration_ms: int
    http_status: int | None = None
    error: str = ""
    retryable: bool = True
    error_code: str = ""  # 002's SVC_001 (unavailable) / SVC_003 (timeout) for failures of the peer


class _Failure(Exception):
    def __init__(self, message: str, *, http_status: int | None = None, retryable: bool = True, code: str = ""):
        super().__init__(message)
        self.message = message
        self.http_status = http_status
        self.retryable = retryable
        self.code = code


def encode(payload: Any) -> bytes:
    """The JSON body every exporter sends (dates as ISO 8601, decimals as numbers)."""
    return json.dumps(payload, cls=DjangoJSONEncoder, separators=(",", ":")).encode()


def rest_headers(exporter: Exporter, extra: dict[str, str] | None = None) -> httpx.Headers:
    """The request headers of a REST delivery: JSON, the exporter's own headers, then its auth."""
    headers = httpx.Headers({"Content-Type": "application/json", "User-Agent": USER_AGENT})
    for name, value in (extra or {}).items():
        headers[name] = value
    for name, value in exporter.plain("headers").items():
        headers[name] = value  # httpx.Headers replaces case-insensitively: a configured header wins
    auth = exporter.plain("auth")
    if auth.get("type") == AuthType.BEARER:
        headers["Authorization"] = f"Bearer {auth['token']}"
    elif auth.get("type") == AuthType.BASIC:
        pair = f"{auth['username']}:{auth['password']}".encode()
        headers["Authorization"] = "Basic " + base64.b64encode(pair).decode()
    elif auth.get("type") == AuthType.API_KEY:
        headers[auth.get("header_name") or "X-API-Key"] = auth["key"]
    return headers


def _post(exporter: Exporter, body: bytes, extra_headers: dict[str, str]) -> int:
    try:
        # Connects to the address just checked: a second resolution could answer a blocked one.
        client = outbound.pinned_client(exporter.url, "The exporter's url", timeout=TIMEOUT_SECONDS)
    except outbound.BlockedTarget as exc:
        raise _Failure(str(exc), retryable=False) from None
    try:
        with client:
            response = client.post(exporter.url, content=body, headers=rest_headers(exporter, extra_headers))
    except httpx.HTTPError as exc:
        error = classify(exc)
        raise _Failure(describe(exc), code=error.code if error else "SVC_001") from exc
    status = response.status_code
    if 200 <= status < 300:
        return status
    # Scrubbed before it is cut short: a cut could leave half a secret that scrubbing would not find.
    text = masking.scrub(" ".join(response.text.split()), exporter.secret_values())[:_ERROR_BODY_CHARS]
    message = f"HTTP {status}" + (f": {text}" if text else "")
    retryable = status >= 500 or status in RETRYABLE_HTTP_STATUSES
    code = ("SVC_003" if status == 408 else "SVC_001") if retryable else ""
    raise _Failure(message, http_status=status, retryable=retryable, code=code)


def _publish(exporter: Exporter, body: bytes) -> None:
    parts = urlsplit(exporter.url)
    config = exporter.plain("config")
    client = mqtt.Client(
        callback_api_version=mqtt.CallbackAPIVersion.VERSION2,
        client_id=config.get("client_id") or f"argus-{exporter.pk}-{uuid.uuid4().hex[:8]}",
        protocol=mqtt.MQTTv311,
        clean_session=True,
    )
    client.connect_timeout = TIMEOUT_SECONDS
    if config.get("username"):
        client.username_pw_set(config["username"], config.get("password") or None)
    if parts.scheme == "mqtts":
        client.tls_set()  # the system's trusted CAs
    connected = threading.Event()
    refusal: list[str] = []

    def on_connect(_client, _userdata, _flags, reason_code, _properties) -> None:
        if reason_code.is_failure:
            refusal.append(str(reason_code))
        connected.set()

    def on_disconnect(_client, _userdata, _flags, reason_code, _properties) -> None:
        if not connected.is_set():
            refusal.append(str(reason_code) if reason_code.is_failure else "Connection closed by the broker")
            connected.set()

    client.on_connect = on_connect
    client.on_disconnect = on_disconnect
    deadline = time.monotonic() + TIMEOUT_SECONDS
    try:
        addresses = outbound.check_target(parts.geturl(), "The exporter's url")
    except outbound.BlockedTarget as exc:
        raise _Failure(str(exc), retryable=False) from None
    port = parts.port or outbound.DEFAULT_PORTS[parts.scheme.lower()]
    # Plain MQTT connects to the address just checked (DNS rebinding); mqtts keeps the name, which TLS
    # verifies the broker's certificate against (checked, not pinned).
    host = str(outbound.reachable_address(addresses, port)) if parts.scheme == "mqtt" and addresses else parts.hostname
    try:
        client.connect(host, port, keepalive=int(config.get("keepalive", 60)))
    except (OSError, TimeoutError) as exc:
        error = classify(exc)
        raise _Failure(describe(exc), code=error.code if error else "SVC_001") from exc
    client.loop_start()
    try:
        if not connected.wait(max(0.0, deadline - time.monotonic())):
            raise _Failure("Timed out waiting for the broker to accept the connection", code=ServiceTimeout.code)
        if refusal:
            reason = refusal[0]
            retryable = not reason.lower().startswith(_MQTT_CONFIG_REFUSALS)
            raise _Failure(f"Broker refused the connection: {reason}", retryable=retryable, code="SVC_001")
        info = client.publish(config["topic"], body, qos=int(config.get("qos", 1)), retain=bool(config.get("retain")))
        try:
            info.wait_for_publish(timeout=max(0.1, deadline - time.monotonic()))
        except (RuntimeError, ValueError) as exc:  # not connected any more / queue full
            raise _Failure(f"Publish failed: {exc}", code="SVC_001") from exc
        if not info.is_published():
            raise _Failure("Timed out waiting for the broker to acknowledge the message", code=ServiceTimeout.code)
    finally:
        client.disconnect()
        client.loop_stop()


def deliver(exporter: Exporter, payload: Any, *, key: str = "", kind: str = "") -> DeliveryResult:
    """Send ``payload`` to ``exporter`` once; answers how it went (never raises for the peer's failure).

    REST: POST of the JSON payload with the exporter's headers and auth, 10 s timeout, 2xx is success;
    ``Idempotency-Key`` carries ``key`` (the event id) so a peer can drop a repeat of an event it already
    has (the outbox delivers at least once). MQTT: publish of the JSON payload to ``config.topic`` with its
    QoS, waiting until the broker has it (PUBACK/PUBCOMP for QoS 1/2).
    """
    body = encode(payload)
    started = time.perf_counter()
    http_status: int | None = None
    try:
        if exporter.type == ExporterType.REST:
            extra = {"Idempotency-Key": key, "X-Argus-Event-Kind": kind} if key else {}
            http_status = _post(exporter, body, extra)
        elif exporter.type == ExporterType.MQTT:
            _publish(exporter, body)
        else:
            raise _Failure(f"Unknown exporter type {exporter.type!r}", retryable=False)
    except _Failure as failure:
        error = masking.scrub(failure.message, exporter.secret_values())
        return DeliveryResult(
            ok=False,
            duration_ms=_elapsed_ms(started),
            http_status=failure.http_status,
            error=error,
            retryable=failure.retryable,
            error_code=failure.code,
        )
    except Exception as exc:  # a bug or an unexpected library error: logged, and treated as retryable
        logger.exception("exporter %s: unexpected error while delivering", exporter.pk)
        error = masking.scrub(f"{type(exc).__name__}: {exc}", exporter.secret_values())
        return DeliveryResult(ok=False, duration_ms=_elapsed_ms(started), error=error, error_code="SVC_002")
    return DeliveryResult(ok=True, duration_ms=_elapsed_ms(started), http_status=http_status)


def _elapsed_ms(started: float) -> int:
    return max(0, round((time.perf_counter() - started) * 1000))


def test_payload(exporter: Exporter) -> dict[str, Any]:
    return {
        "type": "test",
        "message": "Argus exporter connection test",
        "exporter_id": exporter.pk,
        "timestamp": now_iso(),
    }


def test_exporter(exporter: Exporter) -> tuple[int, dict[str, Any]]:
    """003 ``POST /config/exporters/{id}/test``: a real delivery of a test payload; (HTTP status, body).

    200 ``{status: "success", message, response_time_ms, http_status}`` (``http_status`` is null for MQTT),
    503 ``{status: "failed", message, error, response_time_ms}`` (+ ``http_status`` when the peer answered).
    The test goes around the circuit breaker and the outbox: it is a question, not a delivery.
    """
    result = deliver(exporter, test_payload(exporter), key=f"test-{uuid.uuid4().hex}", kind="test")
    if result.ok:
        return 200, {
            "status": "success",
            "message": "Connection test successful",
            "response_time_ms": result.duration_ms,
            "http_status": result.http_status,
        }
    body: dict[str, Any] = {
        "status": "failed",
        "message": "Connection test failed",
        "error": result.error,
        "response_time_ms": result.duration_ms,
    }
    if result.http_status is not None:
        body["http_status"] = result.http_status
    return 503, body


# Named like tests; keep pytest from collecting them where a test module imports them.
test_payload.__test__ = False  # type: ignore[attr-defined]
test_exporter.__test__ = False  # type: ignore[attr-defined]
