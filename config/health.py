"""Health checks of the platform's components: database, Redis, storage, and the services apps register.

Each check talks to the real component and times it. For 003's ``/healthz`` and 001's readiness any core
component down makes the platform unhealthy (503). 002's ``/api/v1/health`` adds the services the apps
register (:func:`register_service`: ``beAuth`` by accounts, ``beCamera`` by cameras, 002's names) and tells
critical parts from the rest: a critical one down is ``unhealthy`` (503), only others down is ``degraded`` (200).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import psutil
import redis
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection

from config.api.contracts import utc_iso

# Uptime counts from the start of this server process, not from the first health check.
STARTED_AT = psutil.Process().create_time()


@dataclass
class ComponentHealth:
    healthy: bool
    response_time_ms: float
    error: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def status(self) -> str:
        return "healthy" if self.healthy else "unhealthy"


def _timed(check) -> ComponentHealth:
    started = time.perf_counter()
    try:
        details = check()
        return ComponentHealth(True, round((time.perf_counter() - started) * 1000, 2), details=details)
    except Exception as exc:  # a check reports any failure; it never raises
        return ComponentHealth(
            False, round((time.perf_counter() - started) * 1000, 2), error=str(exc) or type(exc).__name__
        )


def _database() -> dict[str, Any]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()")
        active = cursor.fetchone()[0]
        cursor.execute("SHOW max_connections")
        maximum = int(cursor.fetchone()[0])
    return {"connections_active": active, "connections_max": maximum}


def _cache() -> dict[str, Any]:
    client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2)
    try:
        client.ping()
        memory = client.info("memory")
        keys = client.dbsize()
    finally:
        client.close()
    max_memory = memory.get("maxmemory") or 0
    return {
        "memory_used_mb": round(memory.get("used_memory", 0) / 1048576, 2),
        "memory_max_mb": round(max_memory / 1048576, 2) if max_memory else None,
        "keys_count": keys,
    }


def _storage() -> dict[str, Any]:
    name = default_storage.save(f"health/{uuid.uuid4().hex}.txt", ContentFile(b"ok"))
    try:
        with default_storage.open(name, "rb") as handle:
            if handle.read() != b"ok":
                raise OSError("storage returned different content")
    finally:
        default_storage.delete(name)
    bucket = getattr(settings, "AWS_STORAGE_BUCKET_NAME", "") or "filesystem"
    return {"bucket": bucket, "accessible": True}


CHECKS = {"database": _database, "cache": _cache, "storage": _storage}
# Without these nothing answers: the data, and Redis (rate limits, sessions' revocation, the broker).
CRITICAL = {"database", "cache"}


@dataclass(frozen=True)
class ServiceCheck:
    check: Callable[[], dict[str, Any]]
    critical: bool


#: Services apps register in ``ready()`` under 002's names (a lower floor cannot import them).
SERVICES: dict[str, ServiceCheck] = {}


def register_service(name: str, check: Callable[[], dict[str, Any]], *, critical: bool) -> None:
    """Add a service to 002's health: ``check`` returns details or raises with what is wrong."""
    SERVICES[name] = ServiceCheck(check, critical)


@dataclass
class PlatformHealth:
    components: dict[str, ComponentHealth]
    checked_at: datetime

    @property
    def healthy(self) -> bool:
        return all(c.healthy for c in self.components.values())

    @property
    def status(self) -> str:
        return "healthy" if self.healthy else "unhealthy"

    @property
    def http_status(self) -> int:
        return 200 if self.healthy else 503

    @property
    def uptime_seconds(self) -> int:
        return int(time.time() - STARTED_AT)

    @property
    def timestamp(self) -> str:
        return utc_iso(self.checked_at)


def check_platform() -> PlatformHealth:
    """Run every component check now."""
    return PlatformHealth({name: _timed(check) for name, check in CHECKS.items()}, datetime.now(UTC))


#: What apps add to 003's ``metrics`` block of ``/healthz/detailed`` (anpr: events_total and the rest).
EDGE_METRICS: list[Callable[[], dict[str, Any]]] = []


def contribute_edge_metrics(compute: Callable[[], dict[str, Any]]) -> None:
    if compute not in EDGE_METRICS:
        EDGE_METRICS.append(compute)


def edge_metrics() -> dict[str, Any]:
    """003's ``metrics`` block, from the apps' contributions."""
    metrics: dict[str, Any] = {}
    for compute in EDGE_METRICS:
        metrics.update(compute())
    return metrics


@dataclass
class GatewayHealth:
    """002's view: every component and registered service, and which of them are critical."""

    components: dict[str, ComponentHealth]
    critical: set[str]
    checked_at: datetime

    @property
    def status(self) -> str:
        down = {name for name, component in self.components.items() if not component.healthy}
        if down & self.critical:
            return "unhealthy"
        return "degraded" if down else "healthy"

    @property
    def http_status(self) -> int:
        return 503 if self.status == "unhealthy" else 200

    @property
    def timestamp(self) -> str:
        return utc_iso(self.checked_at)


def check_gateway() -> GatewayHealth:
    """Run the registered services' checks and the core ones now (002's ``/api/v1/health``)."""
    components = {name: _timed(service.check) for name, service in SERVICES.items()}
    components.update({name: _timed(check) for name, check in CHECKS.items()})
    critical = CRITICAL | {name for name, service in SERVICES.items() if service.critical}
    return GatewayHealth(components, critical, datetime.now(UTC))
