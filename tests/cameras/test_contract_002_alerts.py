"""002's alerting rules Argus evaluates itself (Beat, every minute), through the platform's alerts: an API
error rate over 10 %, an average response time over 5 s, an open circuit breaker. Each keeps one alert open
while it holds and resolves it when it no longer does. Usage and circuits are real (Redis)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from cameras import platform_alerts
from cameras.models import Alert
from config.api import usage
from config.resilience import CircuitBreaker

pytestmark = pytest.mark.django_db


def requests(count: int, *, status: int = 200, ms: float = 20.0) -> None:
    for _ in range(count):
        usage.record("key:edge-1", "GET", "/events", status, int(ms * 1000))


def open_alert(source: str) -> Alert | None:
    return Alert.objects.filter(source=source, resolved_at__isnull=True).first()


def test_an_error_rate_over_10_percent_raises_a_critical_alert():
    requests(17)
    requests(3, status=500)  # 15 %

    assert platform_alerts.evaluate()["error_rate"] is True
    alert = open_alert(platform_alerts.ERROR_RATE_SOURCE)
    assert alert.level == "critical"
    assert "3 of 20" in alert.description


def test_an_error_rate_of_10_percent_raises_nothing():
    requests(18)
    requests(2, status=500)

    platform_alerts.evaluate()

    assert open_alert(platform_alerts.ERROR_RATE_SOURCE) is None


def test_a_few_requests_are_not_a_rate():
    requests(3, status=500)

    platform_alerts.evaluate()

    assert open_alert(platform_alerts.ERROR_RATE_SOURCE) is None


def test_the_error_rate_alert_is_raised_once_and_resolved_when_it_passes():
    requests(10)
    requests(10, status=503)
    platform_alerts.evaluate()
    platform_alerts.evaluate()
    assert Alert.objects.filter(source=platform_alerts.ERROR_RATE_SOURCE).count() == 1

    platform_alerts.evaluate(now=timezone.now() + timedelta(minutes=10))  # a quiet window later

    assert open_alert(platform_alerts.ERROR_RATE_SOURCE) is None


def test_an_average_response_time_over_5_s_raises_an_alert():
    requests(2, ms=6000)

    assert platform_alerts.evaluate()["response_time"] is True
    assert open_alert(platform_alerts.RESPONSE_TIME_SOURCE).level == "high"


def test_fast_responses_raise_nothing():
    requests(30, ms=40)

    platform_alerts.evaluate()

    assert open_alert(platform_alerts.RESPONSE_TIME_SOURCE) is None


def test_an_open_circuit_raises_an_alert_until_it_closes():
    breaker = CircuitBreaker("odoo-contract-test", failure_threshold=1)
    breaker.record_failure()

    assert platform_alerts.evaluate()["circuits"] == ["odoo-contract-test"]
    assert open_alert(platform_alerts.CIRCUIT_SOURCE + "odoo-contract-test") is not None

    breaker.reset()
    platform_alerts.evaluate()

    assert open_alert(platform_alerts.CIRCUIT_SOURCE + "odoo-contract-test") is None


def test_the_rules_are_scheduled_every_minute():
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.get(task="cameras.evaluate_platform_alerts")
    assert (task.interval.every, task.interval.period) == (60, "seconds")
