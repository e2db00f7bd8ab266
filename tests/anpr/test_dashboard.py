"""The ANPR events page (/anpr/): search and filters, statistics chart, live stream wiring, watchlists."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from anpr.models import WatchlistEntry
from tests.anpr.conftest import jpeg_bytes, multipart, spec_event
from tests.conftest import signed_in
from tests.factories import PlateEventFactory, WatchlistEntryFactory, role_user

pytestmark = pytest.mark.django_db

PAGE = "/anpr/"


@pytest.fixture
def reader() -> Client:
    return signed_in(role_user("ROLE-ANPR-READER", ["anpr:read"]))


@pytest.fixture
def editor() -> Client:
    return signed_in(role_user("ROLE-ANPR-EDITOR", ["anpr:read", "anpr:write"]))


@pytest.fixture
def events():
    return [
        PlateEventFactory(
            event_id="d1",
            plate_text="ABC-123",
            when="2023-12-15T14:00:00+00:00",
            camera_id="cam-001",
            zone_id="zone-entrance",
        ),
        PlateEventFactory(
            event_id="d2",
            plate_text="XYZ789",
            when="2023-12-15T15:00:00+00:00",
            camera_id="cam-002",
            zone_id="zone-exit",
        ),
    ]


def test_page_needs_sign_in(client):
    response = client.get(PAGE)
    assert response.status_code == 302
    assert "/accounts/login" in response["Location"]


def test_page_needs_anpr_read(db):
    response = signed_in(role_user("ROLE-CAMS-ONLY", ["cameras:read"])).get(PAGE)
    assert response.status_code == 403
    assert "anpr:read" in response.content.decode()


def test_page_renders_events_with_stats_and_the_live_stream(reader, events):
    response = reader.get(PAGE, {"start_date": "2023-12-15"})
    assert response.status_code == 200
    content = response.content.decode()
    assert "ABC-123" in content and "XYZ789" in content
    assert 'data-ws-path="/events/stream"' in content
    assert 'id="anpr-stats"' in content
    assert 'id="anpr-timeline"' in content and "argus/charts.js" in content
    assert "argus/anpr.js" in content


def test_page_is_in_the_navigation(reader):
    assert 'href="/anpr/"' in reader.get(PAGE).content.decode()


def test_plate_search_finds_abc123_typed_plainly(reader, events):
    content = reader.get(PAGE, {"plate_text": "abc123"}).content.decode()
    assert 'data-event-id="d1"' in content
    assert 'data-event-id="d2"' not in content


def test_camera_filter_narrows_the_table_and_the_stream(reader, events):
    content = reader.get(PAGE, {"camera_id": "cam-002"}).content.decode()
    assert 'data-event-id="d2"' in content and 'data-event-id="d1"' not in content
    assert 'data-camera-id="cam-002"' in content


def test_bad_filter_is_shown_not_crashed_on(reader, events):
    response = reader.get(PAGE, {"start_date": "someday"})
    assert response.status_code == 200
    assert "start_date must be an ISO 8601 date" in response.content.decode()


def test_stats_default_to_the_last_day_when_no_range_is_given(reader, events):
    assert "last 24 hours" in reader.get(PAGE).content.decode()


def test_chart_has_a_bar_per_hour_with_empty_hours_filled(reader, events):
    PlateEventFactory(event_id="d3", plate_text="KLM456", when="2023-12-15T17:00:00+00:00")
    content = reader.get(PAGE, {"start_date": "2023-12-15", "end_date": "2023-12-15"}).content.decode()
    chart = json.loads(
        content.split('id="anpr-timeline"')[1].split('type="application/json">')[1].split("</script>")[0]
    )
    assert chart["labels"] == ["2023-12-15 14:00", "2023-12-15 15:00", "2023-12-15 16:00", "2023-12-15 17:00"]
    assert chart["series"][0]["values"] == [1, 1, 0, 1]
    assert (chart["labelTitle"], chart["valueTitle"]) == ("Hour", "Events per hour")


def test_a_daily_chart_is_labelled_by_day(reader, events):
    content = reader.get(PAGE, {"start_date": "2023-12-15", "interval": "day"}).content.decode()
    chart = json.loads(
        content.split('id="anpr-timeline"')[1].split('type="application/json">')[1].split("</script>")[0]
    )
    assert chart["labels"] == ["2023-12-15"] and chart["series"][0]["values"] == [2]


def test_no_events_no_chart(reader):
    content = reader.get(PAGE, {"start_date": "2023-12-15"}).content.decode()
    assert "No events in this range." in content and 'id="anpr-timeline"' not in content


def test_crop_thumbnail_is_a_signed_url(reader, edge_client):
    edge_client.post("/events/ingest", multipart(spec_event(), crop=jpeg_bytes()), format="multipart")
    content = reader.get(PAGE).content.decode()
    assert "/files/anpr-events/evt-20231215-001-cam1/crop.jpg?expires=" in content


def test_reader_sees_no_watchlist_form(reader):
    assert 'name="list_type"' not in reader.get(PAGE).content.decode()


def test_editor_adds_a_plate_to_the_deny_list(editor):
    response = editor.post("/anpr/watchlist/", {"plate_text": "bad 666", "list_type": "deny", "reason": "Stolen"})
    assert response.status_code == 302
    entry = WatchlistEntry.objects.get()
    assert (entry.plate_normalized, entry.list_type, entry.reason) == ("BAD666", "deny", "Stolen")
    assert entry.created_by is not None


def test_editor_removes_a_plate_from_a_list(editor):
    entry = WatchlistEntryFactory(plate_text="BAD666", list_type="deny")
    editor.post(f"/anpr/watchlist/{entry.pk}/remove/")
    assert not WatchlistEntry.objects.exists()


def test_reader_cannot_add_to_a_list(reader):
    assert reader.post("/anpr/watchlist/", {"plate_text": "BAD666", "list_type": "deny"}).status_code == 403
    assert not WatchlistEntry.objects.exists()


def test_listed_plates_are_given_to_the_page_for_live_marking(reader):
    WatchlistEntryFactory(plate_text="BAD-666", list_type="deny")
    assert '"BAD666": "deny"' in reader.get(PAGE).content.decode()


@pytest.mark.parametrize("count", [5, 10])
def test_page_costs_the_same_queries_however_many_events_and_listed_plates(
    editor, admin_user, count, django_assert_max_num_queries
):
    for number in range(count):
        PlateEventFactory(plate_text=f"ABC{number:03d}", when=f"2023-12-15T14:{number:02d}:00+00:00")
        WatchlistEntryFactory(plate_text=f"ABC{number:03d}", created_by=admin_user)

    with django_assert_max_num_queries(10):  # the page, its statistics and the lists, not one per row
        content = editor.get(PAGE, {"start_date": "2023-12-15"}).content.decode()

    assert content.count("data-event-id=") == count and content.count("/remove/") == count
