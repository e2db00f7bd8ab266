"""The Odoo configuration (a singleton row) and what it reports: changing it, testing the connection, the
counters of logs pending, failed and synced, and the status that ``GET /odoo/status`` answers.

The sync run itself is :mod:`integrations.odoo.sync`; the JSON-RPC client is :mod:`integrations.odoo.client`.
"""

from __future__ import annotations

import time
from typing import Any

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from attendance.choices import OdooStatus
from attendance.models import AttendanceLog
from config import outbound
from config.api.contracts import ApiError, FieldError, Kind
from config.crypto import MASK
from config.resilience import CircuitBreaker, OutboundError
from integrations.models import OdooConfig, OdooConnectionStatus, OdooSyncLog
from integrations.odoo.client import BREAKER_NAME, NO_RETRY, OdooClient, OdooError, describe_failure

EMPLOYEE = "hr.employee"
CONNECTION_FIELDS = ("base_url", "database", "username", "api_key")


class OdooNotConfigured(ApiError):
    def __init__(self) -> None:
        super().__init__(
            Kind.CONFLICT,
            "Odoo is not configured: set baseUrl, database, username and apiKey first",
            code="ODOO_NOT_CONFIGURED",
        )


def breaker() -> CircuitBreaker:
    return CircuitBreaker(BREAKER_NAME)


def client_for(config: OdooConfig, **options: Any) -> OdooClient:
    """A client for the stored configuration, guarded by the ``odoo`` circuit breaker."""
    options.setdefault("breaker", breaker())
    return OdooClient(config.base_url, config.database, config.username, config.api_key, **options)


# --- Configuration ---------------------------------------------------------------------------------


def update_config(data: dict[str, Any], *, expected_version: int | None = None) -> OdooConfig:
    """Apply validated changes (snake_case keys) to the singleton. ``api_key`` ``"***"`` keeps the stored key.

    Changing where or as whom Odoo is reached resets the connection status (test again) and the circuit.
    """
    with transaction.atomic():
        OdooConfig.load()
        config = OdooConfig.objects.select_for_update().get(pk=OdooConfig.SINGLETON_ID)
        if expected_version is not None and expected_version != config.version:
            raise ApiError(
                Kind.CONFLICT,
                f"The Odoo configuration changed meanwhile (version {config.version}, not {expected_version})",
                details={"currentVersion": config.version},
            )
        if data.get("api_key") == MASK:
            data.pop("api_key")
        _refuse_key_following_a_new_address(config, data)
        if data.get("api_key") is None and "api_key" in data:
            data["api_key"] = ""
        reconnect = any(key in data and data[key] != getattr(config, key) for key in CONNECTION_FIELDS)
        for key, value in data.items():
            setattr(config, key, value)
        if config.auto_sync and not config.is_configured:
            raise ApiError(
                Kind.VALIDATION,
                "Auto-sync needs baseUrl, database, username and apiKey",
                field_errors=[FieldError("auto_sync", "needs baseUrl, database, username and apiKey")],
            )
        if reconnect:
            config.status = OdooConnectionStatus.DISCONNECTED
            config.server_version = ""
            config.last_error = ""
        config.version += 1
        config.save()
    if reconnect:
        breaker().reset()
    return config


def _refuse_key_following_a_new_address(config: OdooConfig, changes: dict[str, Any]) -> None:
    """The stored key stays only while Odoo's scheme, host and port do: another address needs it typed again."""
    try:
        outbound.check_target(changes.get("base_url"), "Odoo's base URL")
    except outbound.BlockedTarget as exc:
        raise ApiError(Kind.VALIDATION, str(exc), field_errors=[FieldError("base_url", str(exc))]) from None
    if "api_key" in changes or not config.api_key or "base_url" not in changes:
        return
    if not outbound.same_destination(config.base_url, changes["base_url"]):
        message = "Odoo's address changed: enter the API key again (*** keeps it only for the same address)"
        raise ApiError(Kind.VALIDATION, message, field_errors=[FieldError("api_key", message)])


def test_connection(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Reach Odoo (``common.version``), authenticate, and count the employees the match field can find.

    ``overrides`` are unsaved form values (``"***"`` or no ``api_key``: the stored key). Testing the stored
    configuration records the outcome on it (status, server version) and, when it works, closes the circuit.
    Never raises for Odoo's answer: the outcome is the report.
    """
    config = OdooConfig.load()
    values = {key: getattr(config, key) for key in (*CONNECTION_FIELDS, "company", "employee_match_field")}
    overrides = {key: value for key, value in (overrides or {}).items() if value is not None}
    if overrides.get("api_key") == MASK:
        overrides.pop("api_key")
    _refuse_key_following_a_new_address(config, overrides)
    stored = all(overrides.get(key, values[key]) == values[key] for key in overrides)
    values.update(overrides)
    if not all(values[key] for key in CONNECTION_FIELDS):
        raise OdooNotConfigured()
    started = time.monotonic()
    report: dict[str, Any] = {"status": OdooConnectionStatus.ERROR, "server_version": None, "uid": None}
    client = OdooClient(values["base_url"], values["database"], values["username"], values["api_key"], policy=NO_RETRY)
    try:
        report["server_version"] = str(client.version().get("server_version") or "")
        report["uid"] = client.authenticate()
        domain = [(values["employee_match_field"], "!=", False), *company_domain(values["company"])]
        report["employee_count"] = client.search_count(EMPLOYEE, domain)
        report["status"] = OdooConnectionStatus.CONNECTED
        report["message"] = (
            f"Connected to Odoo {report['server_version']} as {values['username']} (uid {report['uid']}); "
            f"{report['employee_count']} employees have a {values['employee_match_field']}"
        )
    except (OutboundError, OdooError) as exc:
        report["message"] = client.scrub(describe_failure(exc))
    finally:
        client.close()
        report["latency_ms"] = round((time.monotonic() - started) * 1000)
    if stored:
        fields = {
            "status": report["status"],
            "last_error": "" if report["status"] == "connected" else report["message"],
        }
        if report["server_version"]:
            fields["server_version"] = report["server_version"][:50]
        OdooConfig.objects.filter(pk=config.pk).update(**fields, updated_at=timezone.now())
        if report["status"] == OdooConnectionStatus.CONNECTED:
            breaker().reset()
    return report


# --- Counters and status -----------------------------------------------------------------------------


def counters() -> dict[str, int]:
    """Logs awaiting a sync, refused by Odoo, and synced (logs without a check-in are never sent)."""
    return AttendanceLog.objects.filter(check_in__isnull=False).aggregate(
        pending=Count("pk", filter=Q(odoo_status=OdooStatus.PENDING)),
        failed=Count("pk", filter=Q(odoo_status=OdooStatus.FAILED)),
        synced=Count("pk", filter=Q(odoo_status=OdooStatus.SYNCED)),
    )


def refresh_counters() -> dict[str, int]:
    """Recompute the config's counters from the logs (so they stay true whatever changed the logs)."""
    counts = counters()
    OdooConfig.objects.filter(pk=OdooConfig.SINGLETON_ID).update(
        pending_count=counts["pending"], failure_count=counts["failed"]
    )
    return counts


def status_summary() -> dict[str, Any]:
    """What ``GET /odoo/status`` answers and the dashboard shows (snake_case; the API camel-cases it)."""
    config = OdooConfig.load()
    counts = counters()
    last_run = OdooSyncLog.objects.exclude(run_id="").order_by("-timestamp").values("run_id", "timestamp").first()
    return {
        "configured": config.is_configured,
        "status": config.status,
        "auto_sync": config.auto_sync,
        "last_sync": config.last_sync,
        "last_error": config.last_error,
        "server_version": config.server_version,
        "pending_count": counts["pending"],
        "failure_count": counts["failed"],
        "synced_count": counts["synced"],
        "circuit": str(breaker().state),
        "last_run_id": last_run["run_id"] if last_run else None,
        "last_attempt_at": last_run["timestamp"] if last_run else None,
    }


def company_domain(company: str) -> list[tuple[str, str, str]]:
    """The Odoo domain that keeps to the configured company (none: every company)."""
    return [("company_id.name", "=", company)] if company else []
