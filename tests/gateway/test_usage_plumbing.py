"""The usage fold's Beat schedule and Celery task, retention of usage rows, and the read-only admin."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django_celery_beat.models import PeriodicTask

from config import retention
from config.api import usage
from config.models import UsageMinute
from config.tasks import fold_api_usage

pytestmark = pytest.mark.django_db


def test_fold_runs_every_minute_from_beat():
    task = PeriodicTask.objects.get(name="Fold API usage")

    assert task.task == "config.fold_api_usage"
    assert (task.interval.every, task.interval.period) == (60, "seconds")


def test_fold_task_folds_closed_minutes():
    usage.record("key:7", "GET", "/api/v1/health", 200, 1500, now=datetime.now(UTC).timestamp() - 600)

    assert fold_api_usage() == 1
    row = UsageMinute.objects.get()
    assert (row.client_id, row.requests, row.errors, row.total_us) == ("key:7", 1, 0, 1500)


def test_usage_rows_are_pruned_by_retention(settings):
    settings.RETENTION_API_USAGE_DAYS = 10
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    for age in (1, 20):
        UsageMinute.objects.create(
            minute=now - timedelta(days=age), client_id="key:1", method="GET", path="/x", requests=1
        )
    rule = next(rule for rule in retention.rules() if rule.name == "api_usage")

    assert retention.apply_rule(rule) == 1
    assert UsageMinute.objects.count() == 1


def test_usage_admin_is_read_only(client, admin_user):
    client.force_login(admin_user)
    row = UsageMinute.objects.create(
        minute=datetime(2024, 1, 1, tzinfo=UTC), client_id="key:1", method="GET", path="/x", requests=2, total_us=3000
    )

    assert client.get("/admin/config/usageminute/").status_code == 200
    assert client.get("/admin/config/usageminute/add/").status_code == 403
    assert client.get(f"/admin/config/usageminute/{row.pk}/delete/").status_code == 403
