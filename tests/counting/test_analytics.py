"""GET /api/v1/counts/analytics: rollup figures equal a brute-force computation over the same counts."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import pytest

from config import retention
from counting import analytics
from counting.ingest import record_counts
from counting.models import CountHourly, CountRecord

URL = "/api/v1/counts/analytics"
BASE = datetime(2024, 3, 1, tzinfo=UTC)
# A range starting and ending inside hours and days: widened to [05:00 day 1, 18:00 day 4).
START = "2024-03-01T05:30:00Z"
END = "2024-03-04T17:10:00Z"
EFFECTIVE = (datetime(2024, 3, 1, 5, tzinfo=UTC), datetime(2024, 3, 4, 18, tzinfo=UTC))


def _figures(rows: list[tuple[int, float]]) -> dict:
    counts = [n for n, _ in rows]
    return {
        "total_records": len(rows),
        "total_count": sum(counts),
        "avg_count": pytest.approx(sum(counts) / len(rows)),
        "min_count": min(counts),
        "max_count": max(counts),
        "avg_confidence": pytest.approx(sum(c for _, c in rows) / len(rows)),
    }


def _totals(rows: list[tuple[int, float]]) -> dict:
    """Figures over the whole range carry 000's ``overall_avg`` and ``peak_count`` too."""
    figures = _figures(rows)
    return {**figures, "overall_avg": figures["avg_count"], "peak_count": figures["max_count"]}


def brute_force(data: dict[str, list[tuple[datetime, int, float]]], start: datetime, end: datetime, cameras=None):
    """The analytics answer computed in Python from the counts themselves."""
    chosen = {cam: rows for cam, rows in data.items() if cameras is None or cam in cameras}
    inside = {cam: [(t, n, c) for t, n, c in rows if start <= t < end] for cam, rows in chosen.items()}
    everything = [(n, c) for rows in inside.values() for _, n, c in rows]
    days: dict[str, list] = defaultdict(list)
    hours: dict[str, list] = defaultdict(list)
    for rows in inside.values():
        for t, n, c in rows:
            days[t.date().isoformat()].append((n, c))
            hours[t.replace(minute=0, second=0, microsecond=0).isoformat().replace("+00:00", "Z")].append((n, c))
    return {
        "summary": _totals(everything),
        "cameras": [
            {"camera_id": cam, **_totals([(n, c) for _, n, c in rows])} for cam, rows in sorted(inside.items()) if rows
        ],
        "daily": [{"date": day, **_figures(days[day])} for day in sorted(days)],
        "hourly": [{"hour": hour, **_figures(hours[hour])} for hour in sorted(hours)],
    }


@pytest.fixture
def counted(camera, other_camera) -> dict[str, list[tuple[datetime, int, float]]]:
    """Five days of random counts on two cameras, stored in several batches through the ingest service."""
    rng = random.Random(20240301)
    data: dict[str, list[tuple[datetime, int, float]]] = {}
    for cam in (camera, other_camera):
        rows = [
            (BASE + timedelta(seconds=rng.randrange(0, 5 * 86400)), rng.randrange(0, 60), round(rng.random(), 3))
            for _ in range(400)
        ]
        for offset in range(0, len(rows), 37):
            record_counts(
                cam, [{"count": n, "timestamp": t, "confidence": c} for t, n, c in rows[offset : offset + 37]]
            )
        data[cam.pk] = rows
    return data


def approx(value):
    """Floats compared approximately at any depth (sums of confidences depend on the order of addition)."""
    if isinstance(value, float):
        return pytest.approx(value)
    if isinstance(value, dict):
        return {key: approx(item) for key, item in value.items()}
    if isinstance(value, list):
        return [approx(item) for item in value]
    return value


def _without_names(body: dict) -> dict:
    return {
        "summary": body["summary"],
        "cameras": [{k: v for k, v in item.items() if k != "camera_name"} for item in body["cameras"]],
        "daily": body["daily"],
        "hourly": body["hourly"],
    }


@pytest.mark.django_db
def test_analytics_equal_a_brute_force_computation(admin_client, counted):
    response = admin_client.get(URL, {"start_date": START, "end_date": END})

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["start_date"], body["end_date"]) == ("2024-03-01T05:00:00Z", "2024-03-04T18:00:00Z")
    assert body["granularity"] == "hour"
    assert body["camera_id"] is None
    assert _without_names(body) == brute_force(counted, *EFFECTIVE)
    assert [item["camera_name"] for item in body["cameras"]] == ["Main entrance", "Back door"]


@pytest.mark.django_db
def test_analytics_of_one_camera_equal_a_brute_force_computation(reader_client, counted):
    response = reader_client.get(URL, {"camera_id": "cam-002", "start_date": START, "end_date": END})

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["camera_id"] == "cam-002"
    assert _without_names(body) == brute_force(counted, *EFFECTIVE, cameras={"cam-002"})


@pytest.mark.django_db
def test_analytics_within_one_day_come_from_hours(admin_client, counted):
    response = admin_client.get(URL, {"start_date": "2024-03-02T03:00:00Z", "end_date": "2024-03-02T09:00:00Z"})

    start, end = datetime(2024, 3, 2, 3, tzinfo=UTC), datetime(2024, 3, 2, 9, tzinfo=UTC)
    assert _without_names(response.json()) == brute_force(counted, start, end)


@pytest.mark.django_db
def test_analytics_end_date_as_a_date_includes_that_day(admin_client, counted):
    response = admin_client.get(URL, {"start_date": "2024-03-02", "end_date": "2024-03-03"})

    body = response.json()
    assert (body["start_date"], body["end_date"]) == ("2024-03-02T00:00:00Z", "2024-03-04T00:00:00Z")
    assert _without_names(body) == brute_force(counted, BASE + timedelta(days=1), BASE + timedelta(days=3))


@pytest.mark.django_db
def test_rollup_analytics_equal_raw_table_analytics(counted):
    start, end = datetime(2024, 3, 1, 7, 20, tzinfo=UTC), datetime(2024, 3, 5, 2, tzinfo=UTC)

    from_rollups = analytics.analytics(start, end)
    from_hours_only = analytics.analytics(start, end, use_daily_rollup=False)
    from_raw = analytics.raw_analytics(start, end)

    assert from_rollups == approx(from_hours_only)
    assert from_rollups == approx(from_raw)


@pytest.mark.django_db
def test_pruning_raw_rows_keeps_analytics_identical(admin_client, counted):
    before = admin_client.get(URL, {"start_date": START, "end_date": END}).json()
    rule = next(rule for rule in retention.rules() if rule.name == "counts")

    removed = retention.apply_rule(rule, now=BASE + timedelta(days=400))  # every row is past its 90 days

    assert removed == 800
    assert not CountRecord.objects.exists()
    assert CountHourly.objects.exists()
    after = admin_client.get(URL, {"start_date": START, "end_date": END}).json()
    assert after == before


@pytest.mark.django_db
def test_retention_keeps_recent_raw_rows(camera, settings):
    settings.RETENTION_COUNTS_DAYS = 30
    record_counts(camera, [{"count": 1, "timestamp": BASE, "confidence": 1}])
    record_counts(camera, [{"count": 2, "timestamp": BASE + timedelta(days=40), "confidence": 1}])
    rule = next(rule for rule in retention.rules() if rule.name == "counts")

    retention.apply_rule(rule, now=BASE + timedelta(days=45))

    assert list(CountRecord.objects.values_list("count", flat=True)) == [2]


@pytest.mark.django_db
def test_long_ranges_leave_hourly_buckets_out(admin_client, counted):
    response = admin_client.get(URL, {"start_date": "2024-01-01", "end_date": "2024-06-30"})

    body = response.json()
    assert body["hourly"] is None
    assert body["summary"]["total_records"] == 800
    assert sum(day["total_records"] for day in body["daily"]) == 800


@pytest.mark.django_db
def test_range_without_counts_has_empty_figures(admin_client, counted):
    body = admin_client.get(URL, {"start_date": "2023-01-01", "end_date": "2023-01-02"}).json()

    assert body["summary"] == {
        "total_records": 0,
        "total_count": 0,
        "avg_count": None,
        "min_count": None,
        "max_count": None,
        "avg_confidence": None,
        "overall_avg": None,
        "peak_count": None,
    }
    assert body["cameras"] == body["daily"] == body["hourly"] == []


@pytest.mark.django_db
def test_analytics_take_a_fixed_number_of_queries(admin_client, counted, django_assert_max_num_queries):
    with django_assert_max_num_queries(5):  # user, rollups (camera and day), hourly, camera names
        admin_client.get(URL, {"start_date": START, "end_date": END})


@pytest.mark.django_db
def test_analytics_of_an_unknown_camera_is_a_404(admin_client, db):
    response = admin_client.get(URL, {"camera_id": "cam-nope"})

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "CAMERA_NOT_FOUND"


@pytest.mark.django_db
def test_analytics_with_an_unreadable_date_is_a_422(admin_client, db):
    response = admin_client.get(URL, {"start_date": "last tuesday"})

    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["loc"] == ["query", "start_date"]


@pytest.mark.django_db
def test_analytics_with_end_before_start_is_a_422(admin_client, db):
    response = admin_client.get(URL, {"start_date": "2024-03-05T00:00:00Z", "end_date": "2024-03-01T00:00:00Z"})

    assert response.status_code == 422


@pytest.mark.django_db
def test_analytics_need_counts_read(viewer_client, db):
    response = viewer_client.get(URL)

    assert response.status_code == 403


@pytest.mark.django_db
def test_analytics_need_credentials(api_client, db):
    response = api_client.get(URL)

    assert response.status_code == 401
