"""The platform's services and their liveness (001 ``system_services``), checked for real: this web process,
the Celery workers over Celery's control channel, beat through django-celery-beat's schedule table, and
PostgreSQL, Redis and storage through :func:`config.health.check_platform`; and the one restart the platform
can perform (the worker pool)."""

from __future__ import annotations

import logging
import platform
import socket
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import celery
import django
import django_celery_beat
import psutil
from django.conf import settings
from django.core.files.storage import storages
from django.dispatch import Signal
from django.utils import timezone

from config.api.contracts import ApiError, Kind
from config.health import STARTED_AT, check_platform
from config.models import SystemService
from config.system.about import guarded, humanize_seconds, postgres_facts, redis_facts
from config.system.choices import ServiceStatus

logger = logging.getLogger(__name__)

#: Every attempt to restart a service, refused or carried out: sent with ``user``, ``service_id``, ``outcome``
#: (:data:`RESTART_OUTCOMES`), ``message`` and ``context``. The audit trail (``accounts``) subscribes.
service_restart_attempted = Signal()
RESTART_OUTCOMES = ("restarted", "unknown", "not_supported", "unavailable", "disabled", "failed")

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
HEARTBEAT_TASK = "config.collect_system_metrics"
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
    status: str  # a ServiceStatus
    version: str = ""
    uptime: str = ""
    detail: str = ""


def _check_web() -> ServiceCheck:
    process = psutil.Process()
    return ServiceCheck(
        status=ServiceStatus.RUNNING,
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
        return ServiceCheck(ServiceStatus.STOPPED, version, detail=f"Cannot reach the Celery broker: {exc}")
    if current_node and current_node not in ours:
        ours = sorted([*ours, current_node])
        others = [node for node in others if node != current_node]
    if not ours:
        extra = f" ({len(others)} other worker(s) on the broker serve other queues)" if others else ""
        return ServiceCheck(
            ServiceStatus.STOPPED,
            version,
            detail=f"No Celery worker consuming queue {queue!r} answered within 1 s{extra}",
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
            ServiceStatus.DEGRADED,
            version,
            uptime,
            f"{len(ours)} worker(s) on queue {queue!r}; not answering stats: {', '.join(silent)}",
        )
    return ServiceCheck(
        ServiceStatus.RUNNING, version, uptime, f"{len(ours)} worker(s) on queue {queue!r}: {', '.join(ours)}"
    )


def _check_beat() -> ServiceCheck:
    from django_celery_beat.models import PeriodicTask

    version = f"django-celery-beat {django_celery_beat.__version__}"
    task = PeriodicTask.objects.filter(task=HEARTBEAT_TASK).select_related("interval").order_by("-last_run_at").first()
    if task is None:
        return ServiceCheck(
            ServiceStatus.STOPPED, version, detail=f"No schedule runs {HEARTBEAT_TASK}; beat cannot be judged"
        )
    if not task.enabled:
        return ServiceCheck(
            ServiceStatus.DEGRADED, version, detail=f"The schedule {task.name!r} is disabled; beat cannot be judged"
        )
    if task.last_run_at is None:
        return ServiceCheck(ServiceStatus.STOPPED, version, detail=f"Beat has never dispatched {task.name!r}")
    every = task.interval.schedule.run_every.total_seconds() if task.interval else 60.0
    fresh = timedelta(seconds=max(every + BEAT_SYNC_SECONDS + BEAT_GRACE_SECONDS, 180))
    age = timezone.now() - task.last_run_at
    ago = humanize_seconds(age.total_seconds())
    if age <= fresh:
        return ServiceCheck(ServiceStatus.RUNNING, version, detail=f"Beat dispatched {task.name!r} {ago} ago")
    if age <= fresh * 3:
        return ServiceCheck(
            ServiceStatus.DEGRADED, version, detail=f"Beat dispatched {task.name!r} {ago} ago: later than expected"
        )
    return ServiceCheck(
        ServiceStatus.STOPPED,
        version,
        detail=f"Beat last dispatched {task.name!r} {ago} ago (expected every {int(every)} s)",
    )


def _component_status(component) -> str:
    if not component.healthy:
        return ServiceStatus.STOPPED
    return ServiceStatus.DEGRADED if component.response_time_ms > SLOW_COMPONENT_MS else "running"


# The health checks' facts in words for the System health page (the API keeps the raw keys).
_FACTS = {
    "connections_active": "{} connections open",
    "connections_max": "{} allowed",
    "memory_used_mb": "{} MB used",
    "memory_max_mb": "{} MB at most",
    "keys_count": "{} keys",
    "bucket": "bucket {}",
}


def _fact(key: str, value: Any) -> str:
    if key == "accessible":
        return "" if value else "not readable"
    return _FACTS.get(key, key.replace("_", " ") + " {}").format(value)


def _component_detail(component) -> str:
    if component.error:
        return f"Check failed after {component.response_time_ms} ms: {component.error}"
    facts = [_fact(key, value) for key, value in component.details.items() if value is not None]
    shown = ", ".join(fact for fact in facts if fact)
    return f"Answered in {component.response_time_ms} ms" + (f"; {shown}" if shown else "")


def _platform_checks() -> dict[str, ServiceCheck]:
    health = check_platform()
    database, cache_component, storage = (health.components[name] for name in ("database", "cache", "storage"))
    db_version, db_uptime = guarded(postgres_facts) if database.healthy else ("", "")
    redis_version, redis_uptime = guarded(redis_facts) if cache_component.healthy else ("", "")
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


def _announce_restart(by_user, service_id: str, outcome: str, message: str, **context) -> None:
    service_restart_attempted.send(
        sender=SystemService, user=by_user, service_id=service_id, outcome=outcome, message=message, context=context
    )


def restart_service(service_id: str, by_user) -> dict[str, Any]:
    """Restart a service where the platform can do it for real, and audit every attempt.

    Only the Celery worker can be restarted: its pool is recycled through Celery's ``pool_restart``
    control command, sent to the workers consuming the platform's queue. The workers must run with
    ``CELERY_WORKER_POOL_RESTARTS = True``. Every other service is refused with 409
    ``RESTART_NOT_SUPPORTED`` and the reason.
    """
    if service_id not in SERVICES:
        _announce_restart(by_user, service_id, "unknown", f"Restart refused: no service {service_id!r}")
        raise ApiError(Kind.NOT_FOUND, f"No service {service_id!r}; known: {', '.join(SERVICES)}")
    if service_id in RESTART_REFUSALS:
        reason = RESTART_REFUSALS[service_id]
        _announce_restart(by_user, service_id, "not_supported", f"Restart refused: {reason}")
        raise ApiError(Kind.CONFLICT, reason, code="RESTART_NOT_SUPPORTED", details={"service": service_id})

    try:
        nodes, _others = platform_workers()
    except Exception as exc:  # the broker is down: no worker can be told anything
        _announce_restart(by_user, service_id, "unavailable", f"Restart refused: broker unreachable: {exc}")
        raise ApiError(Kind.UNAVAILABLE, f"Cannot reach the Celery broker: {exc}", code="WORKER_UNAVAILABLE")
    if not nodes:
        message = (
            f"No Celery worker consuming queue {settings.CELERY_TASK_DEFAULT_QUEUE!r} answered; nothing to restart"
        )
        _announce_restart(by_user, service_id, "unavailable", f"Restart refused: {message}")
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
            _announce_restart(by_user, service_id, "disabled", f"Restart refused: {message}")
            raise ApiError(Kind.CONFLICT, message, code="POOL_RESTARTS_DISABLED", details={"workers": results})
        message = f"No worker confirmed the restart ({errors})"
        _announce_restart(by_user, service_id, "failed", f"Restart failed: {message}")
        raise ApiError(Kind.UNAVAILABLE, message, code="WORKER_UNAVAILABLE", details={"workers": results})

    now = timezone.now()
    SystemService.objects.update_or_create(
        id=service_id,
        defaults={"last_restart": now},
        create_defaults={"name": SERVICES[service_id], "last_restart": now},
    )
    message = f"Pool restart started on {len(restarted)} worker(s): {', '.join(restarted)}"
    _announce_restart(by_user, service_id, "restarted", message, workers=results)
    return {
        "id": service_id,
        "name": SERVICES[service_id],
        "status": "restarting",
        "message": message,
        "workers": results,
        "last_restart": now,
    }
