"""Django Admin for counts: raw rows viewable and deletable (rollups follow), rollups read-only."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from counting import analytics
from counting.ingest import record_counts
from counting.models import CountDaily, CountHourly, CountRecord

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def recent(camera):
    """Three counts in one recent hour (well inside the retention period)."""
    hour = (timezone.now() - timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
    return record_counts(
        camera,
        [{"count": n, "timestamp": hour + timedelta(minutes=n), "confidence": 0.5} for n in (3, 9, 5)],
    )


@pytest.mark.parametrize(
    "path",
    ["/admin/counting/countrecord/", "/admin/counting/counthourly/", "/admin/counting/countdaily/"],
)
def test_changelists_load(admin, recent, path):
    assert admin.get(path).status_code == 200


def test_count_record_cannot_be_added_or_changed(admin, recent):
    assert admin.get("/admin/counting/countrecord/add/").status_code == 403
    response = admin.post(f"/admin/counting/countrecord/{recent[0].pk}/change/", {"count": 100})
    assert response.status_code == 403
    assert CountRecord.objects.get(pk=recent[0].pk).count == 3


def test_rollups_cannot_be_deleted(admin, recent):
    row = CountHourly.objects.get()

    assert admin.get(f"/admin/counting/counthourly/{row.pk}/delete/").status_code == 403


def test_deleting_a_count_corrects_its_rollups(admin, recent):
    hour = recent[1].timestamp.replace(minute=0)

    response = admin.post(f"/admin/counting/countrecord/{recent[1].pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    hourly = CountHourly.objects.get(hour=hour)
    assert (hourly.records, hourly.total, hourly.min_count, hourly.max_count) == (2, 8, 3, 5)
    assert CountDaily.objects.get().records == 2
    figures = analytics.analytics(hour, hour + timedelta(hours=1))["summary"]
    assert figures["max_count"] == 5


def test_counts_near_the_retention_period_cannot_be_deleted(admin, camera, settings):
    settings.RETENTION_COUNTS_DAYS = 3
    old = record_counts(
        camera, [{"count": 4, "timestamp": timezone.now() - timedelta(days=3, minutes=-30), "confidence": 1}]
    )

    admin.post(f"/admin/counting/countrecord/{old[0].pk}/delete/", {"post": "yes"})

    assert CountRecord.objects.filter(pk=old[0].pk).exists()
    assert CountHourly.objects.get().records == 1
