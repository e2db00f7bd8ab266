"""Prometheus metrics: HTTP requests, Celery task outcomes, ingested events and recognitions; ``/metrics``.

Single process (``make run``, tests): the metrics live in this process and ``/metrics`` shows them.

Several processes (production): set ``PROMETHEUS_MULTIPROC_DIR`` to a directory every Argus process can
write (compose.yml shares one volume between web, worker and beat). ``prometheus_client`` then keeps each
process's values in its own memory-mapped file there, and ``/metrics`` adds up all the files, so one
scrape of the web service covers the Celery workers' task outcomes too; workers need no HTTP port. The
files are named by host name and pid, so containers sharing the volume never write the same file. A
process that exits is marked dead (live gauges dropped; counters and histograms keep counting, as
Prometheus expects). Empty the directory when the whole deployment restarts (compose's ``migrate`` step
does), or old processes' files are summed forever.

Access: with ``ARGUS_METRICS_TOKEN`` set, a scraper sends ``Authorization: Bearer <token>``. Without it,
``/metrics`` answers only requests made directly from the loopback interface (no proxy headers), so a
development machine can look while a public deployment without a token shows nothing.
"""

from __future__ import annotations

import atexit
import functools
import hmac
import ipaddress
import os
import re
import socket
import time

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
    values,
)

MULTIPROC_DIR = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")


def process_identifier() -> str:
    """``<host>-<pid>``: distinct across containers that share the metrics directory (pids repeat there)."""
    return f"{socket.gethostname().replace('_', '-')}-{os.getpid()}"


# Set before the first metric below is created: each metric picks its value class then.
if MULTIPROC_DIR:
    os.makedirs(MULTIPROC_DIR, exist_ok=True)
    values.ValueClass = values.MultiProcessValue(process_identifier=process_identifier)
else:
    # prometheus_client switches to files on the variable's mere presence; empty would mean the cwd.
    values.ValueClass = values.MutexValue

HTTP_REQUESTS = Counter(
    "argus_http_requests_total",
    "HTTP requests served, by method, route pattern and status",
    ["method", "route", "status"],
)
HTTP_LATENCY = Histogram(
    "argus_http_request_duration_seconds",
    "Time to answer an HTTP request, by method and route pattern",
    ["method", "route"],
)
CELERY_TASKS = Counter("argus_celery_tasks_total", "Celery task runs, by task name and outcome", ["task", "outcome"])
INGESTED_EVENTS = Counter("argus_ingested_events_total", "Events ingested from edge devices, by kind", ["kind"])
RECOGNITIONS = Counter("argus_recognitions_total", "Face recognition results, by result", ["result"])

KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED_ROUTE = "<unmatched>"
_NAMED_GROUP = re.compile(r"\(\?P<(\w+)>[^()]*\)")


def count_ingest(kind: str, n: int = 1) -> None:
    """Count ``n`` ingested events of ``kind`` (``plate``, ``count``...); for the anpr and counting apps."""
    INGESTED_EVENTS.labels(kind=kind).inc(n)


def count_recognition(result: str, n: int = 1) -> None:
    """Count ``n`` recognition results (``recognized``, ``unknown``...); for the recognition app."""
    RECOGNITIONS.labels(result=result).inc(n)


def route_of(request: HttpRequest) -> str:
    """The URL pattern that served ``request`` (``/api/v1/users/<pk>``), never the raw path: one series per
    route however many ids are requested. Unresolved requests (404s, static files) share one label."""
    match = getattr(request, "resolver_match", None)
    if match is None or not match.route:
        return UNMATCHED_ROUTE
    return _route_label(match.route)


@functools.lru_cache(maxsize=4096)  # one entry per URL pattern: a bounded set, fixed by the code
def _route_label(pattern: str) -> str:
    route = _NAMED_GROUP.sub(r"<\1>", pattern).replace("^", "").replace("$", "").replace("\\", "")
    return "/" + route.lstrip("/")


class RequestMetricsMiddleware:
    """Counts every response and times it, labelled by method, route pattern and status."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        method = request.method if request.method in KNOWN_METHODS else "other"
        route = route_of(request)
        counter, latency = _series(method, route, response.status_code)
        counter.inc()
        latency.observe(time.perf_counter() - started)
        return response


@functools.lru_cache(maxsize=8192)  # methods x routes x statuses: bounded (unknown methods and paths share one)
def _series(method: str, route: str, status: int):
    """The request counter and latency histogram of one label set (``labels()`` checks its arguments on every
    call; the children it returns never change)."""
    return (
        HTTP_REQUESTS.labels(method=method, route=route, status=str(status)),
        HTTP_LATENCY.labels(method=method, route=route),
    )


# --- Celery ------------------------------------------------------------------------------------------


def _task_name(sender) -> str:
    return getattr(sender, "name", None) or str(sender)


def _on_success(sender=None, **kwargs) -> None:
    CELERY_TASKS.labels(task=_task_name(sender), outcome="success").inc()


def _on_failure(sender=None, **kwargs) -> None:
    CELERY_TASKS.labels(task=_task_name(sender), outcome="failure").inc()


def _on_retry(sender=None, **kwargs) -> None:
    CELERY_TASKS.labels(task=_task_name(sender), outcome="retry").inc()


def mark_this_process_dead(*args, **kwargs) -> None:
    """Drop this process's live gauges from the shared directory (a no-op in single-process mode)."""
    if MULTIPROC_DIR:
        multiprocess.mark_process_dead(process_identifier(), MULTIPROC_DIR)


def install_celery_signals() -> None:
    """Count task outcomes where tasks run (the worker); idempotent (signals dedupe by dispatch_uid)."""
    from celery import signals

    signals.task_success.connect(_on_success, weak=False, dispatch_uid="argus-metrics-success")
    signals.task_failure.connect(_on_failure, weak=False, dispatch_uid="argus-metrics-failure")
    signals.task_retry.connect(_on_retry, weak=False, dispatch_uid="argus-metrics-retry")
    # A prefork pool's children exit on their own: each marks itself dead.
    signals.worker_process_shutdown.connect(mark_this_process_dead, weak=False, dispatch_uid="argus-metrics-dead")


install_celery_signals()
atexit.register(mark_this_process_dead)


# --- /metrics ------------------------------------------------------------------------------------------

_PROXY_HEADERS = ("HTTP_X_FORWARDED_FOR", "HTTP_FORWARDED", "HTTP_X_REAL_IP")


def _is_direct_loopback(request: HttpRequest) -> bool:
    # A reverse proxy on the same machine connects from 127.0.0.1 too: a request it forwarded carries its
    # headers and is not local.
    if any(header in request.META for header in _PROXY_HEADERS):
        return False
    try:
        return ipaddress.ip_address(request.META.get("REMOTE_ADDR", "")).is_loopback
    except ValueError:
        return False


def exposition_registry() -> CollectorRegistry:
    """Every process's metrics in multiprocess mode, else this process's registry."""
    if not MULTIPROC_DIR:
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=MULTIPROC_DIR)
    return registry


def metrics_view(request: HttpRequest) -> HttpResponse:
    """``GET /metrics`` in the Prometheus text format (see the module's docstring for who may read it)."""
    token = settings.METRICS_TOKEN
    if token:
        sent = request.headers.get("Authorization", "")
        if not hmac.compare_digest(sent.encode(), f"Bearer {token}".encode()):
            response = HttpResponse("Unauthorized\n", status=401, content_type="text/plain")
            response["WWW-Authenticate"] = 'Bearer realm="metrics"'
            return response
    elif not _is_direct_loopback(request):
        return HttpResponse(
            "Forbidden: set ARGUS_METRICS_TOKEN to scrape from another host\n", status=403, content_type="text/plain"
        )
    return HttpResponse(generate_latest(exposition_registry()), content_type=CONTENT_TYPE_LATEST)
