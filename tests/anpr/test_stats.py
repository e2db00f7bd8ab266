"""003 ``GET /events/stats``: figures on known data, the timeline for every interval, the event rate."""

from __future__ import annotations

import pytest

from tests.anpr.conftest import assert_003_error, error_fields
from tests.factories import PlateEventFactory

pytestmark = pytest.mark.django_db

STATS_KEYS = {
    "total_events",
    "avg_confidence",
    "min_confidence",
    "max_confidence",
    "unique_plates",
    "event_rate",
    "by_camera",
    "by_zone",
    "timeline",
}


@pytest.fixture
def events():
    """Six events, 2023-12-11 (Monday) to 2023-12-18 (the Monday after): 4 plates, 2 cameras, 2 zones."""
    rows = [
        ("s1", "ABC-123", "2023-12-15T14:00:10+00:00", "cam-001", "zone-entrance", 0.90),
        ("s2", "abc123", "2023-12-15T14:00:50+00:00", "cam-001", "zone-entrance", 0.80),
        ("s3", "XYZ789", "2023-12-15T14:01:30+00:00", "cam-002", "zone-exit", 0.70),
        ("s4", "KLM456", "2023-12-15T15:30:00+00:00", "cam-002", "", 0.60),
        ("s5", "KLM456", "2023-12-11T09:00:00+00:00", "cam-001", "zone-exit", 1.00),
        ("s6", "QRS000", "2023-12-18T09:00:00+00:00", "cam-002", "zone-exit", 0.50),
    ]
    return [
        PlateEventFactory(
            event_id=event_id, plate_text=plate, when=when, camera_id=camera, zone_id=zone, confidence=confidence
        )
        for event_id, plate, when, camera, zone, confidence in rows
    ]


def stats(client, **params) -> dict:
    response = client.get("/events/stats", params)
    assert response.status_code == 200, response.content
    return response.json()


def test_stats_have_the_003_fields(reader_client, events):
    body = stats(reader_client)
    assert set(body) == STATS_KEYS
    assert set(body["event_rate"]) == {"per_second", "per_minute", "per_hour"}


def test_totals_and_confidence_figures(reader_client, events):
    body = stats(reader_client)
    assert body["total_events"] == 6
    assert body["avg_confidence"] == pytest.approx(0.75)
    assert (body["min_confidence"], body["max_confidence"]) == (0.5, 1.0)


def test_unique_plates_count_spellings_of_one_plate_once(reader_client, events):
    assert stats(reader_client)["unique_plates"] == 4  # ABC-123 and abc123 are one plate


def test_figures_per_camera(reader_client, events):
    assert stats(reader_client)["by_camera"] == {
        "cam-001": {"count": 3, "avg_confidence": 0.9},
        "cam-002": {"count": 3, "avg_confidence": 0.6},
    }


def test_figures_per_zone_leave_out_events_without_a_zone(reader_client, events):
    assert stats(reader_client)["by_zone"] == {
        "zone-entrance": {"count": 2, "avg_confidence": 0.85},
        "zone-exit": {"count": 3, "avg_confidence": 0.7333},
    }


def test_timeline_per_minute(reader_client, events):
    body = stats(reader_client, start_date="2023-12-15T14:00:00Z", end_date="2023-12-15T14:59:59Z", interval="minute")
    assert body["timeline"] == [
        {"timestamp": "2023-12-15T14:00:00Z", "count": 2, "avg_confidence": 0.85},
        {"timestamp": "2023-12-15T14:01:00Z", "count": 1, "avg_confidence": 0.7},
    ]


def test_timeline_per_hour_is_the_default(reader_client, events):
    body = stats(reader_client, start_date="2023-12-15", end_date="2023-12-15")
    assert body["timeline"] == [
        {"timestamp": "2023-12-15T14:00:00Z", "count": 3, "avg_confidence": 0.8},
        {"timestamp": "2023-12-15T15:00:00Z", "count": 1, "avg_confidence": 0.6},
    ]


def test_timeline_per_day(reader_client, events):
    assert [(b["timestamp"], b["count"]) for b in stats(reader_client, interval="day")["timeline"]] == [
        ("2023-12-11T00:00:00Z", 1),
        ("2023-12-15T00:00:00Z", 4),
        ("2023-12-18T00:00:00Z", 1),
    ]


def test_timeline_per_week_starts_on_monday(reader_client, events):
    assert [(b["timestamp"], b["count"]) for b in stats(reader_client, interval="week")["timeline"]] == [
        ("2023-12-11T00:00:00Z", 5),
        ("2023-12-18T00:00:00Z", 1),
    ]


def test_event_rate_over_the_requested_range(reader_client, events):
    # 4 events on 2023-12-15 (a whole day: 86400 s).
    rate = stats(reader_client, start_date="2023-12-15", end_date="2023-12-15")["event_rate"]
    assert rate == {"per_second": round(4 / 86400, 6), "per_minute": round(4 / 1440, 4), "per_hour": round(4 / 24, 2)}


def test_event_rate_without_a_range_spans_first_to_last_event(reader_client, events):
    # 2023-12-11T09:00 to 2023-12-18T09:00: 7 days.
    rate = stats(reader_client)["event_rate"]
    assert rate["per_hour"] == round(6 / (7 * 24), 2)
    assert rate["per_second"] == round(6 / (7 * 86400), 6)


def test_event_rate_over_a_range_shorter_than_the_interval_counts_one_interval(reader_client, events):
    body = stats(reader_client, start_date="2023-12-11T09:00:00Z", end_date="2023-12-11T09:30:00Z", interval="hour")
    assert body["total_events"] == 1
    assert body["event_rate"] == {"per_second": round(1 / 3600, 6), "per_minute": round(1 / 60, 4), "per_hour": 1.0}


def test_stats_of_no_events_are_zero_and_empty(reader_client, events):
    body = stats(reader_client, camera_id="cam-404")
    assert body == {
        "total_events": 0,
        "avg_confidence": None,
        "min_confidence": None,
        "max_confidence": None,
        "unique_plates": 0,
        "event_rate": {"per_second": 0.0, "per_minute": 0.0, "per_hour": 0.0},
        "by_camera": {},
        "by_zone": {},
        "timeline": [],
    }


def test_stats_filtered_by_camera(reader_client, events):
    body = stats(reader_client, camera_id="cam-002")
    assert (body["total_events"], body["unique_plates"], list(body["by_camera"])) == (3, 3, ["cam-002"])


def test_stats_filtered_by_zone(reader_client, events):
    body = stats(reader_client, zone_id="zone-entrance")
    assert (body["total_events"], body["unique_plates"], body["avg_confidence"]) == (2, 1, 0.85)


def test_stats_filtered_by_date_range(reader_client, events):
    assert stats(reader_client, start_date="2023-12-15T14:01:00Z", end_date="2023-12-16")["total_events"] == 2


def test_stats_run_a_fixed_number_of_queries(reader_client, events, django_assert_max_num_queries):
    with django_assert_max_num_queries(6):
        stats(reader_client, interval="day")


def test_unknown_interval_is_400(reader_client):
    response = reader_client.get("/events/stats", {"interval": "month"})
    assert_003_error(response, 400, "VALIDATION_ERROR")
    assert error_fields(response) == ["interval"]


def test_bad_date_is_400(reader_client):
    assert error_fields(reader_client.get("/events/stats", {"end_date": "soon"})) == ["end_date"]


def test_stats_without_anpr_read_is_403(viewer_client):
    assert_003_error(viewer_client.get("/events/stats"), 403, "FORBIDDEN")


def test_stats_path_is_not_taken_for_an_event_id(reader_client):
    assert set(stats(reader_client)) == STATS_KEYS
