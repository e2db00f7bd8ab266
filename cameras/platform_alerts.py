"""002's alerting rules that Argus can evaluate itself, raised and resolved through the platform's alerts.

Evaluated by Beat every minute (``cameras.evaluate_platform_alerts``) over the last five minutes of the
gateway's usage statistics (``config.api.usage``) and the circuit breakers' shared state in Redis:

* high error rate: more than 10 % of the API requests failed (status 400 or above, as the usage statistics
  count them), over at least ``MIN_REQUESTS`` requests: critical;
* high response time: the API's average response time over 5 s: high (002's "warning");
* circuit open: an outbound circuit breaker (Odoo, an exporter, the detection provider, a callback host) is
  open or half-open: high, one alert per circuit.

Each rule keeps one alert open while it holds and resolves it when it no longer does.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from cameras import alerting
from cameras.choices import AlertLevel
from cameras.models import Alert
from config.api.usage import usage_stats
from config.redis import get_redis
from config.resilience import CircuitBreaker, CircuitState

WINDOW = timedelta(minutes=5)  # 002: duration 300 s
ERROR_RATE_THRESHOLD = 0.10
RESPONSE_TIME_THRESHOLD_MS = 5000.0
MIN_REQUESTS = 20  # a handful of requests says nothing about a rate
ERROR_RATE_SOURCE = "gateway:error-rate"
RESPONSE_TIME_SOURCE = "gateway:response-time"
CIRCUIT_SOURCE = "gateway:circuit:"


def open_circuits() -> list[str]:
    """Names of the circuit breakers that are open or half-open now (any process's, through Redis)."""
    prefix = f"{settings.REDIS_PREFIX}:circuit:"
    names = []
    for raw in get_redis().scan_iter(match=f"{prefix}*:opened_at", count=500):
        key = raw.decode() if isinstance(raw, bytes) else raw
        name = key[len(prefix) : -len(":opened_at")]
        if CircuitBreaker(name).state != CircuitState.CLOSED:
            names.append(name)
    return sorted(names)


def _hold(source: str, holds: bool, *, title: str, description: str, level: str, note: str) -> bool:
    if holds:
        alerting.raise_once(source=source, title=title, description=description, level=level, tags=["gateway"])
    else:
        alerting.resolve(source, note)
    return holds


def evaluate(now=None) -> dict[str, object]:
    """Apply every rule once; returns which hold (``circuits``: the open ones)."""
    now = now or timezone.now()
    stats = usage_stats(now - WINDOW, now)
    total, failed = stats["totalRequests"], stats["failedRequests"]
    rate = failed / total if total else 0.0
    minutes = int(WINDOW.total_seconds() // 60)
    error_rate = _hold(
        ERROR_RATE_SOURCE,
        total >= MIN_REQUESTS and rate > ERROR_RATE_THRESHOLD,
        title="High API error rate",
        description=f"{failed} of {total} API requests failed in the last {minutes} minutes ({rate:.0%}, over 10 %)",
        level=AlertLevel.CRITICAL,
        note="The API error rate is back under 10 %",
    )
    average = stats["averageResponseTime"]
    response_time = _hold(
        RESPONSE_TIME_SOURCE,
        total > 0 and average > RESPONSE_TIME_THRESHOLD_MS,
        title="Slow API responses",
        description=f"The API answered in {average / 1000:.1f} s on average over the last {minutes} minutes (over 5 s)",
        level=AlertLevel.HIGH,
        note="API response times are back under 5 s",
    )
    circuits = open_circuits()
    for name in circuits:
        _hold(
            CIRCUIT_SOURCE + name,
            True,
            title=f"Circuit open: {name}",
            description=f"Calls to {name} failed repeatedly; the circuit breaker holds them back until it recovers",
            level=AlertLevel.HIGH,
            note="",
        )
    for source in Alert.objects.filter(source__startswith=CIRCUIT_SOURCE, resolved_at__isnull=True).values_list(
        "source", flat=True
    ):
        if source[len(CIRCUIT_SOURCE) :] not in circuits:
            alerting.resolve(source, f"The circuit {source[len(CIRCUIT_SOURCE) :]} closed again")
    return {"error_rate": error_rate, "response_time": response_time, "circuits": circuits}
