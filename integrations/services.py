"""Exporter configuration: create, change and delete exporters, with their validation.

The API (003 ``/config/exporters``) and the admin both go through :func:`create_exporter` and
:func:`update_exporter`, so the rules are the same everywhere:

- ``type`` rest needs an http(s) URL; mqtt needs ``mqtt(s)://host:port`` and ``config.topic`` (no wildcards)
  with ``qos`` 0, 1 or 2. Credentials never go in the URL (``auth`` for REST, ``config`` for MQTT).
- An update changes only the fields it names (003's PUT example sends only ``enabled`` and part of
  ``retry_config``): ``retry_config``, ``config`` and ``auth`` (same type) are merged key by key, a
  ``null`` value removing a key; ``headers`` and ``metadata`` are replaced as a whole.
- A secret written back as ``"***"`` keeps the stored one.
- Unknown keys are refused (a typo such as ``max_retries`` would otherwise be silently ignored).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from django.db import IntegrityError, transaction

from cameras import alerting
from cameras.services import next_id
from config import outbound
from config.api.contracts import ApiError, FieldError, Kind
from config.crypto import MASK
from config.resilience import BackoffStrategy, CircuitBreaker, RetryPolicy
from integrations import masking
from integrations.models import AuthType, Exporter, ExporterType

ID_PREFIX, ID_WIDTH = "exporter-", 3
DEFAULT_API_KEY_HEADER = "X-API-Key"
DEFAULT_QOS = 1  # at least once, like the outbox behind it
MAX_DELAY_MS = 24 * 3600 * 1000
MAX_ATTEMPTS = 100

_HEADER_NAME = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
# Headers the HTTP client computes itself; a configured value would corrupt the request.
_MANAGED_HEADERS = frozenset({"host", "content-length", "transfer-encoding", "connection"})
_AUTH_FIELDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {  # type -> (required, optional)
    AuthType.BEARER: (("token",), ()),
    AuthType.BASIC: (("username", "password"), ()),
    AuthType.API_KEY: (("key",), ("header_name",)),
}
_MQTT_FIELDS = {"topic", "qos", "username", "password", "client_id", "retain", "keepalive"}
_RETRY_FIELDS = set(RetryPolicy.__dataclass_fields__)


class _Errors(list[FieldError]):
    def add(self, field: str, message: str) -> None:
        self.append(FieldError(field, message))


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def failing_source(exporter_id: str) -> str:
    """The alert source of an exporter whose deliveries are being given up (one open alert per exporter)."""
    return f"exporter-failing:{exporter_id}"


def breaker_for(exporter: Exporter | str) -> CircuitBreaker:
    """The circuit breaker guarding deliveries to one exporter (shared by every worker)."""
    return CircuitBreaker(f"exporter:{exporter if isinstance(exporter, str) else exporter.pk}")


# --- field rules -------------------------------------------------------------------------------------


def _check_url(kind: str, url: Any, errors: _Errors) -> None:
    if not isinstance(url, str) or not url.strip():
        errors.add("url", "url is required")
        return
    if len(url) > 2000:
        errors.add("url", "At most 2000 characters")
        return
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        errors.add("url", "Not a valid URL")
        return
    if parts.username is not None or parts.password is not None:
        where = "auth" if kind == ExporterType.REST else "config.username and config.password"
        errors.add("url", f"Credentials do not belong in the URL; put them in {where}")
        return
    try:
        outbound.check_target(url.strip(), "The url")
    except outbound.BlockedTarget as exc:
        errors.add("url", str(exc))
        return
    if kind == ExporterType.REST:
        if parts.scheme not in ("http", "https") or not parts.hostname:
            errors.add("url", "A REST exporter needs an http:// or https:// URL with a host")
    elif kind == ExporterType.MQTT:
        if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname or port is None:
            errors.add("url", "An MQTT exporter needs mqtt://host:port or mqtts://host:port")
        elif parts.path not in ("", "/") or parts.query or parts.fragment:
            errors.add("url", "The MQTT topic goes in config.topic, not in the URL")


def _check_headers(headers: Any, errors: _Errors) -> dict[str, str]:
    if not isinstance(headers, dict):
        errors.add("headers", "An object of header names and string values")
        return {}
    for name, value in headers.items():
        field = f"headers.{name}"
        if not _HEADER_NAME.match(name):
            errors.add(field, "Not a valid HTTP header name")
        elif name.lower() in _MANAGED_HEADERS:
            errors.add(field, f"{name} is set by the HTTP client and cannot be configured")
        elif not isinstance(value, str):
            errors.add(field, "Header values are strings")
        elif any(ch in value for ch in "\r\n\0"):
            errors.add(field, "Header values cannot contain line breaks")
        elif value == MASK and masking.is_secret("headers", name):
            errors.add(field, "*** is the masked value; send the secret itself")
    return headers


def _check_auth(auth: dict[str, Any], errors: _Errors) -> dict[str, Any]:
    if not auth:
        return {}
    auth_type = auth.get("type")
    if auth_type not in _AUTH_FIELDS:
        errors.add("auth.type", f"One of {', '.join(_AUTH_FIELDS)}")
        return auth
    required, optional = _AUTH_FIELDS[auth_type]
    for key in auth:
        if key != "type" and key not in required and key not in optional:
            errors.add(f"auth.{key}", f"Unknown field for {auth_type} auth")
    for key in required:
        value = auth.get(key)
        if not isinstance(value, str) or not value:
            errors.add(f"auth.{key}", f"{key} is required for {auth_type} auth")
        elif value == MASK and masking.is_secret("auth", key):
            errors.add(f"auth.{key}", "*** is the masked value; send the secret itself")
    normalized = dict(auth)
    if auth_type == AuthType.API_KEY:
        header = normalized.setdefault("header_name", DEFAULT_API_KEY_HEADER)
        if not isinstance(header, str) or not _HEADER_NAME.match(header) or header.lower() in _MANAGED_HEADERS:
            errors.add("auth.header_name", "Not a valid HTTP header name")
    return normalized


def _check_mqtt_config(config: dict[str, Any], errors: _Errors) -> dict[str, Any]:
    for key in config:
        if key not in _MQTT_FIELDS:
            errors.add(f"config.{key}", f"Unknown field; MQTT config takes {', '.join(sorted(_MQTT_FIELDS))}")
    topic = config.get("topic")
    if not isinstance(topic, str) or not topic.strip():
        errors.add("config.topic", "An MQTT exporter needs config.topic")
    elif "+" in topic or "#" in topic:
        errors.add("config.topic", "Wildcards (+, #) are for subscribing; publish to a concrete topic")
    elif topic.startswith("$") or "\0" in topic or len(topic.encode()) > 65535:
        errors.add("config.topic", "Not a topic a client may publish to")
    normalized = {**config, "qos": config.get("qos", DEFAULT_QOS)}
    if normalized["qos"] not in (0, 1, 2) or not _is_int(normalized["qos"]):
        errors.add("config.qos", "QoS is 0, 1 or 2")
    for key in ("username", "password", "client_id"):
        if key in config and not isinstance(config[key], str):
            errors.add(f"config.{key}", f"{key} is a string")
    if config.get("password") == MASK:
        errors.add("config.password", "*** is the masked value; send the secret itself")
    if config.get("password") and not config.get("username"):
        errors.add("config.password", "MQTT sends a password only with a username")
    if "retain" in config and not isinstance(config["retain"], bool):
        errors.add("config.retain", "true or false")
    if "keepalive" in config and (not _is_int(config["keepalive"]) or not 5 <= config["keepalive"] <= 3600):
        errors.add("config.keepalive", "Seconds, from 5 to 3600")
    return normalized


def _check_retry_config(retry: dict[str, Any], errors: _Errors) -> dict[str, Any]:
    for key in retry:
        if key not in _RETRY_FIELDS:
            errors.add(f"retry_config.{key}", f"Unknown field; retry_config takes {', '.join(sorted(_RETRY_FIELDS))}")
    merged = {**RetryPolicy().as_config(), **{k: v for k, v in retry.items() if k in _RETRY_FIELDS}}
    if not isinstance(merged["enabled"], bool):
        errors.add("retry_config.enabled", "true or false")
    if not _is_int(merged["max_attempts"]) or not 1 <= merged["max_attempts"] <= MAX_ATTEMPTS:
        errors.add("retry_config.max_attempts", f"An integer from 1 to {MAX_ATTEMPTS}")
    if merged["backoff_strategy"] not in BackoffStrategy.__members__.values():
        errors.add("retry_config.backoff_strategy", "exponential or linear")
    delays_ok = True
    for key in ("initial_delay_ms", "max_delay_ms"):
        if not _is_int(merged[key]) or not 1 <= merged[key] <= MAX_DELAY_MS:
            errors.add(f"retry_config.{key}", f"A positive number of milliseconds, at most {MAX_DELAY_MS}")
            delays_ok = False
    if delays_ok and merged["initial_delay_ms"] > merged["max_delay_ms"]:
        errors.add("retry_config.initial_delay_ms", "initial_delay_ms cannot exceed max_delay_ms")
    return merged


def _merge(stored: dict[str, Any], incoming: dict[str, Any]) -> dict[str, Any]:
    merged = {**stored, **incoming}
    return {key: value for key, value in merged.items() if value is not None}


def _object_or_error(data: dict[str, Any], key: str, errors: _Errors) -> dict[str, Any] | None:
    """The object sent under ``key`` ({} for null), or None if it was not sent or is not an object."""
    if key not in data:
        return None
    value = data[key]
    if value is None:
        return {}
    if not isinstance(value, dict):
        errors.add(key, "An object")
        return None
    return value


# --- the services ------------------------------------------------------------------------------------


def apply_changes(exporter: Exporter, data: dict[str, Any]) -> None:
    """Validate ``data`` against ``exporter`` (new or stored) and set it on the instance; nothing is saved.

    Raises ApiError(VALIDATION) listing every problem found.
    """
    errors = _Errors()
    creating = exporter._state.adding
    for key in ("name", "type", "url") if creating else ():
        if data.get(key) in (None, ""):
            errors.add(key, f"{key} is required")
    kind = data.get("type", exporter.type)
    if "type" in data and kind not in ExporterType.values:
        errors.add("type", f"One of {', '.join(ExporterType.values)}")
    if "name" in data and (not isinstance(data["name"], str) or not data["name"].strip()):
        errors.add("name", "name cannot be blank")
    elif "name" in data and len(data["name"]) > 255:
        errors.add("name", "At most 255 characters")
    # A missing URL on create is reported above; on update, a new type re-checks the stored URL.
    if ("url" in data or "type" in data) and (data.get("url") not in (None, "") or not creating):
        _check_url(kind, data.get("url", exporter.url), errors)

    headers_in = _object_or_error(data, "headers", errors)
    auth_in = _object_or_error(data, "auth", errors)
    config_in = _object_or_error(data, "config", errors)
    retry_in = _object_or_error(data, "retry_config", errors)
    metadata_in = _object_or_error(data, "metadata", errors)

    headers: dict[str, Any] = {}
    auth: dict[str, Any] = {}
    config: dict[str, Any] = {}
    # Stored secrets stay with the exporter only while its scheme, host and port do: sent elsewhere they
    # would go to whoever runs the new address, so there they must be sent again.
    # (A URL refused on its own says so alone.)
    url_refused = any(error.field == "url" for error in errors)
    moved = (
        not creating and not url_refused and "url" in data and not outbound.same_destination(exporter.url, data["url"])
    )

    def stored_plain(section: str) -> dict[str, Any]:
        values = exporter.plain(section)
        if not moved:
            return values
        incoming = {"headers": headers_in, "config": config_in}.get(section, auth_in)
        if incoming is None and any(masking.is_secret(section, key) for key in values):
            errors.add(section, "The url's address changed: send its secrets again")
        return {key: value for key, value in values.items() if not masking.is_secret(section, key)}

    if kind == ExporterType.MQTT:
        if headers_in:
            errors.add("headers", "Headers are for REST exporters")
        if auth_in:
            errors.add("auth", "MQTT credentials go in config.username and config.password")
        stored = stored_plain("config") if exporter.type == ExporterType.MQTT else {}
        wanted = _merge(stored, config_in) if config_in is not None else stored
        config = _check_mqtt_config(masking.restore_masked("config", wanted, stored), errors)
    elif kind == ExporterType.REST:
        if config_in:
            errors.add("config", "config is for MQTT exporters (topic, qos, username, password)")
        stored_headers = stored_plain("headers")
        if headers_in is not None:
            restored = masking.restore_masked("headers", headers_in, stored_headers, case_insensitive=True)
            headers = _check_headers(restored, errors)
        else:
            headers = stored_headers
        stored_auth = stored_plain("auth")
        if auth_in is None:
            wanted_auth = stored_auth
        elif auth_in and auth_in.get("type", stored_auth.get("type")) == stored_auth.get("type"):
            wanted_auth = _merge(stored_auth, auth_in)
        else:
            wanted_auth = {key: value for key, value in auth_in.items() if value is not None}
        auth = _check_auth(masking.restore_masked("auth", wanted_auth, stored_auth), errors)

    retry = exporter.retry_config or {}
    if retry_in is not None or creating:
        retry = _check_retry_config(_merge(retry, retry_in or {}), errors)
    if "enabled" in data and not isinstance(data["enabled"], bool):
        errors.add("enabled", "true or false")

    if errors:
        raise ApiError(Kind.VALIDATION, "Validation error", field_errors=list(errors))

    for key in ("name", "type", "url", "enabled"):
        if key in data:
            setattr(exporter, key, data[key].strip() if isinstance(data[key], str) else data[key])
    exporter.set_plain("headers", headers)
    exporter.set_plain("auth", auth)
    exporter.set_plain("config", config)
    exporter.retry_config = retry
    if metadata_in is not None:
        exporter.metadata = metadata_in


def create_exporter(data: dict[str, Any]) -> Exporter:
    """Create an exporter from a 003 body; its id is the next free ``exporter-NNN``."""
    exporter = Exporter()
    apply_changes(exporter, data)
    return insert_exporter(exporter)


def insert_exporter(exporter: Exporter) -> Exporter:
    """Save a new, validated exporter under the next free ``exporter-NNN`` id."""
    for _attempt in range(5):
        exporter.id = next_id(Exporter, ID_PREFIX, ID_WIDTH)
        try:
            with transaction.atomic():
                exporter.save(force_insert=True)
        except IntegrityError:  # another request took this id at the same moment
            continue
        return exporter
    raise ApiError(Kind.CONFLICT, "Could not allocate an exporter id; try again")


def update_exporter(exporter: Exporter, data: dict[str, Any]) -> Exporter:
    """Change the fields ``data`` names (see the module docstring for merging and masked secrets).

    A new address is a new peer: the failures counted against the old one no longer hold its circuit open.
    """
    old_url = exporter.url
    apply_changes(exporter, data)
    exporter.save()
    if exporter.url != old_url:
        transaction.on_commit(breaker_for(exporter.pk).reset)
    return exporter


def delete_exporter(exporter: Exporter) -> None:
    """Delete an exporter with its outbox and log; its circuit state and open alert go too."""
    pk = exporter.pk
    exporter.delete()
    alerting.resolve(failing_source(pk), note=f"Exporter {pk} was deleted")
    transaction.on_commit(breaker_for(pk).reset)
