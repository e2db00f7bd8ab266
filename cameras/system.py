"""System health of the platform: resource metrics, service liveness, uptime, version, summary, banners.

Everything here reads the real machine and the real components: psutil for the host, Celery's
control channel for workers, django-celery-beat's schedule table for beat, and
:func:`config.health.check_platform` for PostgreSQL, Redis and storage. The API views and the
Celery tasks are thin callers of these functions.
"""

from __future__ import annotations

import functools
import logging
import os
import platform
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import celery
import django
import django_celery_beat
import psutil
from django.apps import apps as django_apps
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import FieldError
from django.core.files.storage import storages
from django.db import connection
from django.db.models import Model, Q
from django.utils import timezone

from cameras.choices import CameraStatus
from cameras.models import BannerMessage, Camera, SystemMetric, SystemService
from config.api.contracts import ApiError, Kind
from config.api.contracts import FieldError as ApiFieldError
from config.health import STARTED_AT, check_platform
from config.redis import get_redis

logger = logging.getLogger(__name__)

# --- Metrics --------------------------------------------------------------------------------------

METRIC_CATEGORIES = ("cpu", "gpu", "memory", "disk", "network")
LATEST_METRICS_KEY = "cameras:system:metrics:latest"
NETWORK_SNAPSHOT_KEY = "cameras:system:network:latest"
NETWORK_COUNTERS_KEY = "cameras:system:network:counters"
# The latest set outlives a few missed collections; past that, reads fall back to the database.
LATEST_TTL_SECONDS = 600
# A rate over a longer gap (worker down for hours) would be an average nobody asked for.
MAX_RATE_GAP_SECONDS = 600
# Long enough for a meaningful CPU figure, short enough for a task that runs every minute. The same
# window measures network rates when there is no recent previous sample.
SAMPLE_WINDOW_SECONDS = 0.5
NVIDIA_SMI_TIMEOUT_SECONDS = 3
HISTORY_MAX_POINTS = 1440  # a day of one-minute samples
GIB = 1024**3
KIB = 1024


@dataclass(frozen=True)
class _Counters:
    """Network counters of every interface at one moment."""

    at: float
    nics: dict[str, dict[str, int]]


def _read_counters() -> _Counters:
    nics = {name: c._asdict() for name, c in psutil.net_io_counters(pernic=True).items()}
    return _Counters(at=time.time(), nics=nics)


def _is_loopback(name: str, stats: Any) -> bool:
    flags = getattr(stats, "flags", "") if stats is not None else ""
    if flags:
        return "loopback" in flags.split(",")
    return name == "lo" or name.startswith("lo")


def _network_snapshot(previous: _Counters, current: _Counters) -> dict[str, Any]:
    """Per-interface throughput between two counter readings, with totals over real (non-loopback) links.

    Loopback is listed but left out of the totals: it is local services talking to each other, not
    traffic on the machine's network.
    """
    interval = max(current.at - previous.at, 1e-6)
    if_stats = psutil.net_if_stats()
    interfaces = []
    totals = dict.fromkeys(
        ("bytes_sent_per_sec", "bytes_recv_per_sec", "errors_in", "errors_out", "drops_in", "drops_out"), 0.0
    )
    link_speed_mbps = 0
    for name in sorted(current.nics):
        now = current.nics[name]
        before = previous.nics.get(name)
        stats = if_stats.get(name)
        # A counter that went backwards was reset (interface re-created): no rate for this window.
        sent = max(now["bytes_sent"] - before["bytes_sent"], 0) / interval if before else 0.0
        recv = max(now["bytes_recv"] - before["bytes_recv"], 0) / interval if before else 0.0
        loopback = _is_loopback(name, stats)
        row = {
            "name": name,
            "is_up": bool(stats.isup) if stats else None,
            "is_loopback": loopback,
            "speed_mbps": (stats.speed or None) if stats else None,
            "bytes_sent_per_sec": round(sent, 2),
            "bytes_recv_per_sec": round(recv, 2),
            "bytes_sent": now["bytes_sent"],
            "bytes_recv": now["bytes_recv"],
            "packets_sent": now["packets_sent"],
            "packets_recv": now["packets_recv"],
            "errors_in": now["errin"],
            "errors_out": now["errout"],
            "drops_in": now["dropin"],
            "drops_out": now["dropout"],
        }
        interfaces.append(row)
        if loopback:
            continue
        totals["bytes_sent_per_sec"] += sent
        totals["bytes_recv_per_sec"] += recv
        for key in ("errors_in", "errors_out", "drops_in", "drops_out"):
            totals[key] += row[key]
        if stats and stats.isup:
            link_speed_mbps += stats.speed or 0
    totals = {key: round(value, 2) if key.endswith("_per_sec") else int(value) for key, value in totals.items()}
    totals["link_speed_mbps"] = link_speed_mbps or None
    return {
        "timestamp": datetime.fromtimestamp(current.at, tz=UTC),
        "interval_seconds": round(interval, 3),
        "interfaces": interfaces,
        "totals": totals,
    }


def network_counters_key() -> str:
    """Counters are per host: a rate between two machines' counters would mean nothing."""
    return f"{NETWORK_COUNTERS_KEY}:{socket.gethostname()}"


def _previous_counters() -> _Counters | None:
    cached = cache.get(network_counters_key())
    if not cached or time.time() - cached["at"] > MAX_RATE_GAP_SECONDS:
        return None
    return _Counters(at=cached["at"], nics=cached["nics"])


def _mountpoint(path: Path) -> str:
    """The mount point of the filesystem holding ``path`` (or its nearest existing parent)."""
    path = path.resolve()
    while not path.exists():
        path = path.parent
    while not os.path.ismount(path) and path != path.parent:
        path = path.parent
    return str(path)


def _gpu_readings() -> list[tuple[int, float, float, float]]:
    """(index, utilisation %, memory used MiB, memory total MiB) per NVIDIA GPU; none without nvidia-smi."""
    binary = shutil.which("nvidia-smi")
    if not binary:
        return []
    try:
        result = subprocess.run(
            [binary, "--query-gpu=utilization.gpu,memory.used,memory.total", "--format=csv,noheader,nounits"],
            capture_output=True,
            text=True,
            timeout=NVIDIA_SMI_TIMEOUT_SECONDS,
            check=True,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        # A driver that hangs or fails must not stop the CPU/memory/disk figures from being recorded.
        logger.warning("nvidia-smi failed: %s", exc)
        return []
    readings = []
    for index, line in enumerate(result.stdout.strip().splitlines()):
        try:
            utilisation, used, total = (float(part.strip()) for part in line.split(","))
        except ValueError:
            logger.warning("unreadable nvidia-smi line %r", line)
            continue
        readings.append((index, utilisation, used, total))
    return readings


def _metric(category: str, label: str, value: float, unit: str, limit: float | None, at: datetime) -> SystemMetric:
    return SystemMetric(
        category=category, label=label, value=round(float(value), 2), unit=unit, limit_value=limit, timestamp=at
    )


def metric_dict(metric: SystemMetric) -> dict[str, Any]:
    """The API shape of one metric sample."""
    return {
        "id": str(metric.id),
        "category": metric.category,
        "label": metric.label,
        "value": metric.value,
        "unit": metric.unit,
        "limit": metric.limit_value,
        "timestamp": metric.timestamp,
    }


def collect_metrics() -> list[SystemMetric]:
    """Sample the host now, store one row per figure, and cache the set for fast reads.

    Figures: CPU usage, core count and load averages; memory and swap; disk usage of the data
    volume (``settings.VAR_DIR``) and of ``/``; network send/receive rates over non-loopback
    interfaces, measured since the previous sample (its counters are kept in the cache, so any
    worker can take the next sample); NVIDIA GPUs where ``nvidia-smi`` answers.
    """
    previous = _previous_counters()
    window_start = _read_counters()
    cpu_percent = psutil.cpu_percent(interval=SAMPLE_WINDOW_SECONDS)
    counters = _read_counters()
    at = timezone.now()
    cores = psutil.cpu_count(logical=True) or 1

    rows = [
        _metric("cpu", "CPU usage", cpu_percent, "%", 100.0, at),
        _metric("cpu", "CPU cores", cores, "cores", None, at),
    ]
    # Load above the core count means runnable work is waiting for a CPU.
    for minutes, load in zip((1, 5, 15), psutil.getloadavg(), strict=True):
        rows.append(_metric("cpu", f"Load average ({minutes} min)", load, "", float(cores), at))

    memory = psutil.virtual_memory()
    rows.append(_metric("memory", "Memory usage", memory.percent, "%", 100.0, at))
    rows.append(_metric("memory", "Memory used", memory.used / GIB, "GB", round(memory.total / GIB, 2), at))
    swap = psutil.swap_memory()
    if swap.total:  # without swap configured, a "0 %" row would read as idle swap
        rows.append(_metric("memory", "Swap usage", swap.percent, "%", 100.0, at))
        rows.append(_metric("memory", "Swap used", swap.used / GIB, "GB", round(swap.total / GIB, 2), at))

    for mount in dict.fromkeys([_mountpoint(Path(settings.VAR_DIR)), "/"]):
        usage = psutil.disk_usage(mount)
        rows.append(_metric("disk", f"Disk usage {mount}", usage.percent, "%", 100.0, at))
        rows.append(_metric("disk", f"Disk used {mount}", usage.used / GIB, "GB", round(usage.total / GIB, 2), at))

    snapshot = _network_snapshot(previous or window_start, counters)
    totals = snapshot["totals"]
    link_kib = round(totals["link_speed_mbps"] * 1_000_000 / 8 / KIB, 2) if totals["link_speed_mbps"] else None
    rows.append(_metric("network", "Network sent", totals["bytes_sent_per_sec"] / KIB, "KB/s", link_kib, at))
    rows.append(_metric("network", "Network received", totals["bytes_recv_per_sec"] / KIB, "KB/s", link_kib, at))

    for index, utilisation, used, total in _gpu_readings():
        rows.append(_metric("gpu", f"GPU {index} usage", utilisation, "%", 100.0, at))
        rows.append(_metric("gpu", f"GPU {index} memory", used, "MB", total, at))

    SystemMetric.objects.bulk_create(rows)
    cache.set(network_counters_key(), {"at": counters.at, "nics": counters.nics}, timeout=MAX_RATE_GAP_SECONDS * 2)
    cache.set(NETWORK_SNAPSHOT_KEY, snapshot, timeout=LATEST_TTL_SECONDS)
    cache.set(LATEST_METRICS_KEY, [metric_dict(row) for row in rows], timeout=LATEST_TTL_SECONDS)
    return rows


def _check_category(category: str | None) -> None:
    if category and category not in METRIC_CATEGORIES:
        raise ApiError(
            Kind.VALIDATION,
            f"category must be one of {', '.join(METRIC_CATEGORIES)}",
            field_errors=[ApiFieldError("category", f"Unknown category {category!r}")],
        )


def latest_metrics(category: str | None = None) -> list[dict[str, Any]]:
    """The latest sample of each label, from the cache when a collection is recent, else from the database."""
    _check_category(category)
    items = cache.get(LATEST_METRICS_KEY)
    if items is None:
        queryset = SystemMetric.objects.order_by("label", "-timestamp").distinct("label")
        items = [metric_dict(metric) for metric in queryset]
    items = [item for item in items if not category or item["category"] == category]
    return sorted(items, key=lambda item: (METRIC_CATEGORIES.index(item["category"]), item["label"]))


def metric_history(
    label: str, since: datetime | None = None, until: datetime | None = None, category: str | None = None
) -> list[dict[str, Any]]:
    """The samples of one label between ``since`` and ``until`` (default: the last 24 hours), oldest first.

    At most :data:`HISTORY_MAX_POINTS` samples: the most recent ones of the window.
    """
    _check_category(category)
    until = until or timezone.now()
    since = since or until - timedelta(days=1)
    if since > until:
        raise ApiError(
            Kind.VALIDATION, "from must be before to", field_errors=[ApiFieldError("from", "Must be before to")]
        )
    queryset = SystemMetric.objects.filter(label=label, timestamp__gte=since, timestamp__lte=until)
    if category:
        queryset = queryset.filter(category=category)
    newest = list(queryset.order_by("-timestamp")[:HISTORY_MAX_POINTS])
    return [metric_dict(metric) for metric in reversed(newest)]


def network_metrics() -> dict[str, Any]:
    """Per-interface throughput, counters, errors and drops, with totals over non-loopback interfaces.

    Answers the snapshot of the last collection; before any collection (or when it is stale) it
    measures now over a short window, without storing rows or touching the collector's counters.
    """
    snapshot = cache.get(NETWORK_SNAPSHOT_KEY)
    if snapshot is None:
        before = _read_counters()
        time.sleep(SAMPLE_WINDOW_SECONDS)
        snapshot = _network_snapshot(before, _read_counters())
    return snapshot


# --- Services -------------------------------------------------------------------------------------

SERVICES: dict[str, str] = {
    "web": "Web (API and dashboard)",
    "worker": "Celery worker",
    "beat": "Celery beat",
    "database": "PostgreSQL",
    "redis": "Redis",
    "storage": "Object storage",
}
# Why a service cannot be restarted from the API (every one but the worker).
RESTART_REFUSALS: dict[str, str] = {
    "web": "The web process cannot restart itself safely: it would drop the request asking for it. "
    "Restart it with the process manager (systemd, Docker, Kubernetes).",
    "beat": "Celery beat runs as its own process with no remote control channel. "
    "Restart it with the process manager (systemd, Docker, Kubernetes).",
    "database": "PostgreSQL is an external service; restart it where it is hosted.",
    "redis": "Redis is an external service; restart it where it is hosted.",
    "storage": "Object storage is an external service; restart it where it is hosted.",
}
HEARTBEAT_TASK = "cameras.collect_system_metrics"
# django-celery-beat writes ``last_run_at`` on its periodic sync (every 3 minutes by default), so
# the stored value lags the real dispatch by up to that much.
BEAT_SYNC_SECONDS = 180
BEAT_GRACE_SECONDS = 60
CONTROL_TIMEOUT_SECONDS = 1.0
RESTART_TIMEOUT_SECONDS = 5.0
SLOW_COMPONENT_MS = 1000.0
SERVICE_FRESH_SECONDS = 90  # the beat task re-checks every 60 s; leave it slack


@dataclass
class ServiceCheck:
    status: str  # running, degraded, stopped
    version: str = ""
    uptime: str = ""
    detail: str = ""


def humanize_seconds(seconds: float) -> str:
    """``3d 4h 12m``; under a minute, ``45s``."""
    seconds = int(max(seconds, 0))
    if seconds < 60:
        return f"{seconds}s"
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    parts = [f"{days}d"] if days else []
    if days or hours:
        parts.append(f"{hours}h")
    parts.append(f"{minutes}m")
    return " ".join(parts)


def _check_web() -> ServiceCheck:
    process = psutil.Process()
    return ServiceCheck(
        status="running",
        version=f"Argus {settings.ARGUS_VERSION}",
        uptime=humanize_seconds(time.time() - STARTED_AT),
        detail=f"pid {process.pid} on {socket.gethostname()}, Django {django.get_version()}, "
        f"Python {platform.python_version()}",
    )


def _celery_app():
    from config.celery import app

    return app


def platform_workers() -> tuple[list[str], list[str]]:
    """(workers consuming the platform's task queue, other workers that answered a ping).

    A worker on the same broker that does not consume ``CELERY_TASK_DEFAULT_QUEUE`` never runs this
    platform's tasks, so it does not count as ours.
    """
    app = _celery_app()
    answered = sorted(node for reply in app.control.ping(timeout=CONTROL_TIMEOUT_SECONDS) or [] for node in reply)
    if not answered:
        return [], []
    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    inspector = app.control.inspect(destination=answered, timeout=CONTROL_TIMEOUT_SECONDS, limit=len(answered))
    queues = inspector.active_queues() or {}
    ours = sorted(node for node, items in queues.items() if any(item.get("name") == queue for item in items or []))
    return ours, [node for node in answered if node not in ours]


def _check_worker(current_node: str | None = None) -> ServiceCheck:
    """``current_node``: the worker running this check, when a task runs it. A worker with the solo
    pool cannot answer control commands while it runs a task, yet it is plainly alive."""
    version = f"Celery {celery.__version__}"
    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    try:
        ours, others = platform_workers()
    except Exception as exc:  # the broker itself is down: no worker can be reached
        return ServiceCheck("stopped", version, detail=f"Cannot reach the Celery broker: {exc}")
    if current_node and current_node not in ours:
        ours = sorted([*ours, current_node])
        others = [node for node in others if node != current_node]
    if not ours:
        extra = f" ({len(others)} other worker(s) on the broker serve other queues)" if others else ""
        return ServiceCheck(
            "stopped", version, detail=f"No Celery worker consuming queue {queue!r} answered within 1 s{extra}"
        )
    others_of_ours = [node for node in ours if node != current_node]
    stats = {}
    if others_of_ours:
        inspector = _celery_app().control.inspect(
            destination=others_of_ours, timeout=CONTROL_TIMEOUT_SECONDS, limit=len(others_of_ours)
        )
        stats = inspector.stats() or {}
    uptimes = [info.get("uptime", 0) for info in stats.values()]
    if current_node:
        uptimes.append(time.time() - STARTED_AT)  # STARTED_AT is this worker process's start
    uptime = humanize_seconds(max(uptimes)) if uptimes else ""
    silent = [node for node in others_of_ours if node not in stats]
    if silent:
        # They answered a ping but not a stats request: overloaded or blocked.
        return ServiceCheck(
            "degraded",
            version,
            uptime,
            f"{len(ours)} worker(s) on queue {queue!r}; not answering stats: {', '.join(silent)}",
        )
    return ServiceCheck("running", version, uptime, f"{len(ours)} worker(s) on queue {queue!r}: {', '.join(ours)}")


def _check_beat() -> ServiceCheck:
    from django_celery_beat.models import PeriodicTask

    version = f"django-celery-beat {django_celery_beat.__version__}"
    task = PeriodicTask.objects.filter(task=HEARTBEAT_TASK).select_related("interval").order_by("-last_run_at").first()
    if task is None:
        return ServiceCheck("stopped", version, detail=f"No schedule runs {HEARTBEAT_TASK}; beat cannot be judged")
    if not task.enabled:
        return ServiceCheck(
            "degraded", version, detail=f"The schedule {task.name!r} is disabled; beat cannot be judged"
        )
    if task.last_run_at is None:
        return ServiceCheck("stopped", version, detail=f"Beat has never dispatched {task.name!r}")
    every = task.interval.schedule.run_every.total_seconds() if task.interval else 60.0
    fresh = timedelta(seconds=max(every + BEAT_SYNC_SECONDS + BEAT_GRACE_SECONDS, 180))
    age = timezone.now() - task.last_run_at
    ago = humanize_seconds(age.total_seconds())
    if age <= fresh:
        return ServiceCheck("running", version, detail=f"Beat dispatched {task.name!r} {ago} ago")
    if age <= fresh * 3:
        return ServiceCheck("degraded", version, detail=f"Beat dispatched {task.name!r} {ago} ago: later than expected")
    return ServiceCheck(
        "stopped", version, detail=f"Beat last dispatched {task.name!r} {ago} ago (expected every {int(every)} s)"
    )


def _component_status(component) -> str:
    if not component.healthy:
        return "stopped"
    return "degraded" if component.response_time_ms > SLOW_COMPONENT_MS else "running"


def _component_detail(component) -> str:
    if component.error:
        return f"Check failed after {component.response_time_ms} ms: {component.error}"
    facts = ", ".join(f"{key} {value}" for key, value in component.details.items() if value is not None)
    return f"Answered in {component.response_time_ms} ms" + (f"; {facts}" if facts else "")


def _postgres_facts() -> tuple[str, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('server_version'), now() - pg_postmaster_start_time()")
        version, uptime = cursor.fetchone()
    return f"PostgreSQL {version.split()[0]}", humanize_seconds(uptime.total_seconds())


def _redis_facts() -> tuple[str, str]:
    info = get_redis().info("server")
    return f"Redis {info['redis_version']}", humanize_seconds(info.get("uptime_in_seconds", 0))


def _guarded(read: Callable[[], tuple[str, str]]) -> tuple[str, str]:
    try:
        return read()
    except Exception:  # a component that is down has no version to tell; its check says why
        return "", ""


def _platform_checks() -> dict[str, ServiceCheck]:
    health = check_platform()
    database, cache_component, storage = (health.components[name] for name in ("database", "cache", "storage"))
    db_version, db_uptime = _guarded(_postgres_facts) if database.healthy else ("", "")
    redis_version, redis_uptime = _guarded(_redis_facts) if cache_component.healthy else ("", "")
    return {
        "database": ServiceCheck(_component_status(database), db_version, db_uptime, _component_detail(database)),
        "redis": ServiceCheck(
            _component_status(cache_component), redis_version, redis_uptime, _component_detail(cache_component)
        ),
        "storage": ServiceCheck(
            _component_status(storage), type(storages["default"]).__name__, "", _component_detail(storage)
        ),
    }


def check_services(only: Iterable[str] | None = None, current_worker: str | None = None) -> list[SystemService]:
    """Check each service for real now, store what was found, and return the stored rows.

    ``only`` limits the checks (ids of :data:`SERVICES`). The Celery task leaves ``web`` out (in a
    worker, "this process" is the worker, not the web server) and names itself as
    ``current_worker``, which counts as alive.
    """
    wanted = [service_id for service_id in SERVICES if only is None or service_id in set(only)]
    checks: dict[str, ServiceCheck] = {}
    if "web" in wanted:
        checks["web"] = _check_web()
    if "worker" in wanted:
        checks["worker"] = _check_worker(current_worker)
    if "beat" in wanted:
        checks["beat"] = _check_beat()
    if {"database", "redis", "storage"} & set(wanted):
        checks.update({k: v for k, v in _platform_checks().items() if k in wanted})
    now = timezone.now()
    rows = []
    for service_id in wanted:
        check = checks[service_id]
        fields = {
            "name": SERVICES[service_id],
            "status": check.status,
            "version": check.version[:50],
            "uptime": check.uptime[:100],
            "detail": check.detail,
            "last_checked": now,
        }
        row, _ = SystemService.objects.update_or_create(id=service_id, defaults=fields)
        rows.append(row)
    return rows


def services_status(max_age_seconds: int = SERVICE_FRESH_SECONDS) -> list[SystemService]:
    """Every service: ``web`` checked now (it is this process, and cheap), the others re-checked only
    when their stored result is older than ``max_age_seconds`` (the beat task keeps them fresh)."""
    threshold = timezone.now() - timedelta(seconds=max_age_seconds)
    fresh = set(
        SystemService.objects.filter(id__in=SERVICES, last_checked__gte=threshold)
        .exclude(id="web")
        .values_list("id", flat=True)
    )
    check_services(only=[service_id for service_id in SERVICES if service_id not in fresh])
    rows = {row.id: row for row in SystemService.objects.filter(id__in=SERVICES)}
    return [rows[service_id] for service_id in SERVICES]


def service_dict(service: SystemService) -> dict[str, Any]:
    """The API shape of one service."""
    return {
        "id": service.id,
        "name": service.name,
        "status": service.status,
        "version": service.version,
        "uptime": service.uptime,
        "last_restart": service.last_restart,
        "last_checked": service.last_checked,
        "detail": service.detail,
    }


def _audit_restart(by_user, service_id: str, outcome: str, message: str, severity: str, **context) -> None:
    from accounts.audit import record

    record(
        actor=getattr(by_user, "email", None) or str(by_user),
        actor_role=getattr(by_user, "role_id", "") or "",
        action="system_service.restart",
        resource_type="system_service",
        resource_id=service_id,
        message=message,
        severity=severity,
        context={"outcome": outcome, **context},
    )


def restart_service(service_id: str, by_user) -> dict[str, Any]:
    """Restart a service where the platform can do it for real, and audit every attempt.

    Only the Celery worker can be restarted: its pool is recycled through Celery's ``pool_restart``
    control command, sent to the workers consuming the platform's queue. The workers must run with
    ``CELERY_WORKER_POOL_RESTARTS = True``. Every other service is refused with 409
    ``RESTART_NOT_SUPPORTED`` and the reason.
    """
    from accounts.choices import Severity

    if service_id not in SERVICES:
        _audit_restart(by_user, service_id, "unknown", f"Restart refused: no service {service_id!r}", Severity.WARNING)
        raise ApiError(Kind.NOT_FOUND, f"No service {service_id!r}; known: {', '.join(SERVICES)}")
    if service_id in RESTART_REFUSALS:
        reason = RESTART_REFUSALS[service_id]
        _audit_restart(by_user, service_id, "not_supported", f"Restart refused: {reason}", Severity.WARNING)
        raise ApiError(Kind.CONFLICT, reason, code="RESTART_NOT_SUPPORTED", details={"service": service_id})

    try:
        nodes, _others = platform_workers()
    except Exception as exc:  # the broker is down: no worker can be told anything
        _audit_restart(
            by_user, service_id, "unavailable", f"Restart refused: broker unreachable: {exc}", Severity.WARNING
        )
        raise ApiError(Kind.UNAVAILABLE, f"Cannot reach the Celery broker: {exc}", code="WORKER_UNAVAILABLE")
    if not nodes:
        message = (
            f"No Celery worker consuming queue {settings.CELERY_TASK_DEFAULT_QUEUE!r} answered; nothing to restart"
        )
        _audit_restart(by_user, service_id, "unavailable", f"Restart refused: {message}", Severity.WARNING)
        raise ApiError(Kind.UNAVAILABLE, message, code="WORKER_UNAVAILABLE")

    replies = _celery_app().control.pool_restart(
        reload=False, destination=nodes, reply=True, timeout=RESTART_TIMEOUT_SECONDS, limit=len(nodes)
    )
    results = []
    for reply in replies or []:
        for node, answer in reply.items():
            ok = "ok" in answer
            results.append({"node": node, "ok": ok, "message": answer.get("ok") or answer.get("error") or ""})
    restarted = [item["node"] for item in results if item["ok"]]
    if not restarted:
        errors = "; ".join(f"{item['node']}: {item['message']}" for item in results) or "no reply"
        if any("not enabled" in item["message"] for item in results):
            message = f"The workers refuse pool restarts ({errors}); run them with CELERY_WORKER_POOL_RESTARTS = True"
            _audit_restart(by_user, service_id, "disabled", f"Restart refused: {message}", Severity.WARNING)
            raise ApiError(Kind.CONFLICT, message, code="POOL_RESTARTS_DISABLED", details={"workers": results})
        message = f"No worker confirmed the restart ({errors})"
        _audit_restart(by_user, service_id, "failed", f"Restart failed: {message}", Severity.CRITICAL)
        raise ApiError(Kind.UNAVAILABLE, message, code="WORKER_UNAVAILABLE", details={"workers": results})

    now = timezone.now()
    SystemService.objects.update_or_create(
        id=service_id,
        defaults={"last_restart": now},
        create_defaults={"name": SERVICES[service_id], "last_restart": now},
    )
    message = f"Pool restart started on {len(restarted)} worker(s): {', '.join(restarted)}"
    _audit_restart(by_user, service_id, "restarted", message, Severity.INFO, workers=results)
    return {
        "id": service_id,
        "name": SERVICES[service_id],
        "status": "restarting",
        "message": message,
        "workers": results,
        "last_restart": now,
    }


# --- Uptime, version, summary ---------------------------------------------------------------------


def uptime() -> dict[str, Any]:
    """When the machine booted and when this platform process started, with both durations in seconds."""
    now = time.time()
    boot = psutil.boot_time()
    return {
        "system_boot_time": datetime.fromtimestamp(boot, tz=UTC),
        "system_uptime_seconds": int(now - boot),
        "platform_started_at": datetime.fromtimestamp(STARTED_AT, tz=UTC),
        "platform_uptime_seconds": int(now - STARTED_AT),
    }


@functools.cache
def _build() -> str | None:
    """The commit this checkout runs, when it is a git checkout with git installed; else None.

    Cached per process: the code a process runs does not change under it.
    """
    git = shutil.which("git")
    if not git:
        return None
    try:
        result = subprocess.run(
            [git, "rev-parse", "--short", "HEAD"],
            cwd=settings.BASE_DIR,
            capture_output=True,
            text=True,
            timeout=2,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip() or None


def version() -> dict[str, Any]:
    """The platform version and those of its runtime and components (None where one cannot be read)."""
    postgres = _guarded(_postgres_facts)[0].removeprefix("PostgreSQL ") or None
    redis_version = _guarded(_redis_facts)[0].removeprefix("Redis ") or None
    return {
        "version": settings.ARGUS_VERSION,
        "python": platform.python_version(),
        "django": django.get_version(),
        "postgres": postgres,
        "redis": redis_version,
        "celery": celery.__version__,
        "build": _build(),
    }


def _figure(app_label: str, model_name: str, compute: Callable[[type[Model]], Any]) -> Any:
    """A figure computed from another app's model, or None while that app or model does not exist."""
    if not django_apps.is_installed(app_label):
        return None
    try:
        model = django_apps.get_model(app_label, model_name)
    except LookupError:
        return None
    try:
        return compute(model)
    except FieldError as exc:
        # The model exists but not with the fields assumed here (001's columns): say so, answer null.
        logger.warning("summary figure from %s.%s unavailable: %s", app_label, model_name, exc)
        return None


def _attendance_completion(model: type[Model], today) -> float | None:
    logs = model.objects.filter(date=today)
    total = logs.count()
    if not total:
        return None
    done = logs.filter(status__in=("present", "late")).count()
    return round(done * 100 / total, 1)


def summary() -> dict[str, Any]:
    """001 ``GET /system/summary``.

    ``active_cameras`` counts enabled cameras that are online. The other figures come from apps
    that may not have their models yet, looked up by name (001's tables): ``registered_people``
    (recognition ``FaceProfile`` not archived), ``people_detected_today`` and ``unknown_face_alerts``
    (recognition ``Detection`` today: distinct known persons / detections with status unknown),
    ``manual_overrides`` and ``attendance_completion`` (attendance ``AttendanceLog`` today: rows
    flagged ``manual_override`` / present or late out of all), ``last_sync`` (integrations
    ``OdooConfig``). Each is None, not a made-up number, while its model is absent.
    """
    today = timezone.localdate()
    day_start = timezone.make_aware(datetime.combine(today, datetime.min.time()))
    return {
        "active_cameras": Camera.objects.filter(enabled=True, status=CameraStatus.ONLINE).count(),
        "registered_people": _figure(
            "recognition", "FaceProfile", lambda m: m.objects.exclude(status="archived").count()
        ),
        "people_detected_today": _figure(
            "recognition",
            "Detection",
            lambda m: (
                m.objects.filter(timestamp__gte=day_start)
                .exclude(Q(person_id__isnull=True) | Q(person_id=""))
                .values("person_id")
                .distinct()
                .count()
            ),
        ),
        "unknown_face_alerts": _figure(
            "recognition", "Detection", lambda m: m.objects.filter(timestamp__gte=day_start, status="unknown").count()
        ),
        "manual_overrides": _figure(
            "attendance", "AttendanceLog", lambda m: m.objects.filter(date=today, manual_override=True).count()
        ),
        "attendance_completion": _figure("attendance", "AttendanceLog", lambda m: _attendance_completion(m, today)),
        "last_sync": _figure(
            "integrations", "OdooConfig", lambda m: m.objects.values_list("last_sync", flat=True).first()
        ),
    }


# --- Banner messages ------------------------------------------------------------------------------

BANNER_LEVELS = ("info", "warning", "critical")
BANNER_MAX_LENGTH = 1000


def active_banners() -> list[BannerMessage]:
    """Banners to show now: active, started, and not expired."""
    now = timezone.now()
    return list(
        BannerMessage.objects.filter(active=True, starts_at__lte=now)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .order_by("-created_at")
    )


def post_banner(message: str, level: str = "info", expires_at: datetime | None = None, by=None) -> BannerMessage:
    """Publish a banner shown from now until ``expires_at`` (or until an admin deactivates it).

    Refused (400) when the message is empty or over 1000 characters, the level is not one of
    info/warning/critical, or the expiry is not in the future.
    """
    message = (message or "").strip()
    errors = []
    if not message:
        errors.append(ApiFieldError("message", "Message must not be empty"))
    elif len(message) > BANNER_MAX_LENGTH:
        errors.append(ApiFieldError("message", f"Message must be at most {BANNER_MAX_LENGTH} characters"))
    if level not in BANNER_LEVELS:
        errors.append(ApiFieldError("level", f"Level must be one of {', '.join(BANNER_LEVELS)}"))
    now = timezone.now()
    if expires_at is not None:
        if timezone.is_naive(expires_at):
            expires_at = timezone.make_aware(expires_at)
        if expires_at <= now:
            errors.append(ApiFieldError("expires_at", "Expiry must be in the future"))
    if errors:
        raise ApiError(Kind.VALIDATION, errors[0].message, field_errors=errors)
    author = (getattr(by, "email", None) or str(by)) if by is not None else ""
    return BannerMessage.objects.create(
        message=message, level=level, starts_at=now, expires_at=expires_at, created_by=author[:255]
    )


def banner_dict(banner: BannerMessage) -> dict[str, Any]:
    """The API shape of one banner."""
    return {
        "id": str(banner.id),
        "message": banner.message,
        "level": banner.level,
        "starts_at": banner.starts_at,
        "expires_at": banner.expires_at,
        "created_by": banner.created_by,
        "created_at": banner.created_at,
    }
