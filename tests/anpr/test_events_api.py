"""003 ``GET /events`` (every filter alone and combined, sorts, skip/limit) and ``GET /events/{id}``."""

from __future__ import annotations

import pytest

from anpr.search import parse_query, search_events
from tests.anpr.conftest import SPEC_EVENT, assert_003_error, error_fields
from tests.factories import PlateEventFactory

pytestmark = pytest.mark.django_db

EVENT_KEYS = {
    "id",
    "event_id",
    "timestamp",
    "camera_id",
    "zone_id",
    "plate_text",
    "confidence",
    "raw_candidates",
    "frame_url",
    "crop_url",
    "vehicle_info",
    "tpms_status",
    "metadata",
    "created_at",
}


@pytest.fixture
def events():
    """Five events: two cameras, two zones, three plates spelled in different ways, over two days."""
    return [
        PlateEventFactory(
            event_id="e1",
            plate_text="ABC-123",
            when="2023-12-15T08:00:00+00:00",
            camera_id="cam-001",
            zone_id="zone-entrance",
            confidence=0.95,
        ),
        PlateEventFactory(
            event_id="e2",
            plate_text="abc 124",
            when="2023-12-15T09:30:00+00:00",
            camera_id="cam-002",
            zone_id="zone-exit",
            confidence=0.70,
        ),
        PlateEventFactory(
            event_id="e3",
            plate_text="XYZ.789",
            when="2023-12-15T23:59:59+00:00",
            camera_id="cam-001",
            zone_id="zone-exit",
            confidence=0.85,
        ),
        PlateEventFactory(
            event_id="e4",
            plate_text="KLM456",
            when="2023-12-16T00:00:00+00:00",
            camera_id="cam-002",
            zone_id="",
            confidence=0.60,
        ),
        PlateEventFactory(
            event_id="e5",
            plate_text="ABC123",
            when="2023-12-16T12:00:00+00:00",
            camera_id="cam-001",
            zone_id="zone-entrance",
            confidence=0.99,
        ),
    ]


def ids(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["items"]]


# --- The list -----------------------------------------------------------------------------------------


def test_list_is_newest_first_with_skip_limit_total(reader_client, events):
    body = reader_client.get("/events").json()
    assert [item["id"] for item in body["items"]] == ["e5", "e4", "e3", "e2", "e1"]
    assert (body["total"], body["skip"], body["limit"]) == (5, 0, 100)


def test_list_items_have_the_003_event_fields(reader_client, events):
    item = reader_client.get("/events").json()["items"][0]
    assert set(item) == EVENT_KEYS
    assert item["id"] == item["event_id"] == "e5"
    assert item["timestamp"] == "2023-12-16T12:00:00Z"
    assert item["frame_url"] is None and item["crop_url"] is None


def test_skip_and_limit_page_through(reader_client, events):
    body = reader_client.get("/events", {"skip": 1, "limit": 2}).json()
    assert [item["id"] for item in body["items"]] == ["e4", "e3"]
    assert (body["total"], body["skip"], body["limit"]) == (5, 1, 2)


def test_list_runs_a_fixed_number_of_queries(reader_client, events, django_assert_max_num_queries):
    for number in range(30):
        PlateEventFactory(event_id=f"more-{number}", plate_text=f"QQ{number}", when="2023-12-17T00:00:00+00:00")
    with django_assert_max_num_queries(4):
        response = reader_client.get("/events", {"limit": 1000})
    assert len(response.json()["items"]) == 35


def test_filtered_list_runs_a_fixed_number_of_queries(reader_client, events, django_assert_max_num_queries):
    with django_assert_max_num_queries(4):
        reader_client.get("/events", {"plate_text": "abc", "camera_id": "cam-001", "min_confidence": "0.5"})


# --- Filters, each alone ----------------------------------------------------------------------------


def test_filter_by_camera(reader_client, events):
    assert ids(reader_client.get("/events", {"camera_id": "cam-002"})) == ["e4", "e2"]


def test_filter_by_zone(reader_client, events):
    assert ids(reader_client.get("/events", {"zone_id": "zone-exit"})) == ["e3", "e2"]


def test_partial_plate_match_ignores_case_spaces_dashes_and_dots(reader_client, events):
    assert ids(reader_client.get("/events", {"plate_text": "abc123"})) == ["e5", "e1"]


def test_partial_plate_match_finds_a_plate_typed_with_separators(reader_client, events):
    assert ids(reader_client.get("/events", {"plate_text": "xyz-78"})) == ["e3"]


def test_partial_plate_match_in_the_middle_of_a_plate(reader_client, events):
    assert ids(reader_client.get("/events", {"plate_text": "C12"})) == ["e5", "e2", "e1"]


def test_partial_plate_match_of_two_characters(reader_client, events):
    assert ids(reader_client.get("/events", {"plate_text": "lm"})) == ["e4"]


def test_partial_plate_match_needs_the_characters_in_order(reader_client, events):
    assert ids(reader_client.get("/events", {"plate_text": "321CBA"})) == []


def test_filter_from_a_start_date(reader_client, events):
    assert ids(reader_client.get("/events", {"start_date": "2023-12-16T00:00:00Z"})) == ["e5", "e4"]


def test_filter_until_an_end_date_is_inclusive(reader_client, events):
    assert ids(reader_client.get("/events", {"end_date": "2023-12-15T09:30:00Z"})) == ["e2", "e1"]


def test_end_date_without_a_time_includes_that_whole_day(reader_client, events):
    assert ids(reader_client.get("/events", {"end_date": "2023-12-15"})) == ["e3", "e2", "e1"]


def test_dates_with_an_offset_are_compared_in_utc(reader_client, events):
    # 10:00 at +02:00 is 08:00Z: e1 and later.
    assert ids(reader_client.get("/events", {"start_date": "2023-12-15T10:00:00+02:00", "end_date": "2023-12-15"})) == [
        "e3",
        "e2",
        "e1",
    ]


def test_an_unencoded_plus_offset_in_the_query_string_is_understood(reader_client, events):
    assert ids(reader_client.get("/events?start_date=2023-12-16T01:00:00+01:00")) == ["e5", "e4"]


def test_filter_by_minimum_confidence(reader_client, events):
    assert ids(reader_client.get("/events", {"min_confidence": "0.85"})) == ["e5", "e3", "e1"]


# --- Filters combined -------------------------------------------------------------------------------


def test_camera_and_plate_filters_combine(reader_client, events):
    assert ids(reader_client.get("/events", {"camera_id": "cam-001", "plate_text": "abc"})) == ["e5", "e1"]


def test_every_filter_at_once(reader_client, events):
    params = {
        "camera_id": "cam-001",
        "zone_id": "zone-entrance",
        "plate_text": "abc-123",
        "start_date": "2023-12-15",
        "end_date": "2023-12-15",
        "min_confidence": "0.9",
    }
    assert ids(reader_client.get("/events", params)) == ["e1"]


def test_filters_that_exclude_each_other_find_nothing(reader_client, events):
    body = reader_client.get("/events", {"camera_id": "cam-002", "zone_id": "zone-entrance"}).json()
    assert (body["items"], body["total"]) == ([], 0)


def test_total_counts_the_filtered_events_not_the_page(reader_client, events):
    body = reader_client.get("/events", {"camera_id": "cam-001", "limit": 1}).json()
    assert (len(body["items"]), body["total"]) == (1, 3)


# --- Sorting ----------------------------------------------------------------------------------------


def test_sort_by_timestamp_ascending(reader_client, events):
    assert ids(reader_client.get("/events", {"sort_order": "asc"})) == ["e1", "e2", "e3", "e4", "e5"]


def test_sort_by_confidence_descending(reader_client, events):
    assert ids(reader_client.get("/events", {"sort_by": "confidence"})) == ["e5", "e1", "e3", "e2", "e4"]


def test_sort_by_confidence_ascending(reader_client, events):
    assert ids(reader_client.get("/events", {"sort_by": "confidence", "sort_order": "asc"})) == [
        "e4",
        "e2",
        "e3",
        "e1",
        "e5",
    ]


def test_sort_by_plate_text_uses_the_normalised_plate(reader_client, events):
    # ABC123 (e1 "ABC-123", e5 "ABC123"), ABC124, KLM456, XYZ789; ties newest first when descending.
    assert ids(reader_client.get("/events", {"sort_by": "plate_text", "sort_order": "asc"})) == [
        "e1",
        "e5",
        "e2",
        "e4",
        "e3",
    ]


def test_sort_order_is_case_insensitive(reader_client, events):
    assert ids(reader_client.get("/events", {"sort_order": "ASC"}))[0] == "e1"


# --- Refusals -----------------------------------------------------------------------------------------


def test_limit_over_1000_is_400(reader_client, events):
    response = reader_client.get("/events", {"limit": 1001})
    assert_003_error(response, 400, "VALIDATION_ERROR")
    assert error_fields(response) == ["limit"]


def test_negative_skip_is_400(reader_client):
    assert error_fields(reader_client.get("/events", {"skip": -1})) == ["skip"]


def test_bad_start_date_is_400(reader_client):
    response = reader_client.get("/events", {"start_date": "15/12/2023"})
    assert_003_error(response, 400, "VALIDATION_ERROR")
    assert error_fields(response) == ["start_date"]


def test_end_date_before_start_date_is_400(reader_client):
    response = reader_client.get("/events", {"start_date": "2023-12-16", "end_date": "2023-12-15T12:00:00Z"})
    assert error_fields(response) == ["end_date"]


def test_min_confidence_out_of_range_is_400(reader_client):
    assert error_fields(reader_client.get("/events", {"min_confidence": "1.2"})) == ["min_confidence"]


def test_min_confidence_that_is_not_a_number_is_400(reader_client):
    assert error_fields(reader_client.get("/events", {"min_confidence": "high"})) == ["min_confidence"]


def test_unknown_sort_field_is_400(reader_client):
    assert error_fields(reader_client.get("/events", {"sort_by": "camera_id"})) == ["sort_by"]


def test_unknown_sort_order_is_400(reader_client):
    assert error_fields(reader_client.get("/events", {"sort_order": "up"})) == ["sort_order"]


def test_plate_filter_without_letters_or_digits_is_400(reader_client):
    assert error_fields(reader_client.get("/events", {"plate_text": "--"})) == ["plate_text"]


def test_every_bad_parameter_is_listed_at_once(reader_client):
    response = reader_client.get("/events", {"start_date": "x", "min_confidence": "2", "sort_by": "y"})
    assert error_fields(response) == ["start_date", "min_confidence", "sort_by"]


def test_list_without_credentials_is_401_not_authenticated(api_client):
    body = assert_003_error(api_client.get("/events"), 401, "AUTHENTICATION_FAILED")
    assert body["detail"] == "Not authenticated"


def test_list_without_anpr_read_is_403(viewer_client):
    assert_003_error(viewer_client.get("/events"), 403, "FORBIDDEN")


def test_ingest_only_key_cannot_read_events(edge_client):
    assert_003_error(edge_client.get("/events"), 403, "FORBIDDEN")


def test_api_key_with_anpr_read_may_list(read_key_client, events):
    assert read_key_client.get("/events").status_code == 200


# --- One event ----------------------------------------------------------------------------------------


def test_get_event_by_id_answers_it_as_ingested(reader_client, edge_client):
    edge_client.post("/events/ingest", SPEC_EVENT, format="json")
    body = reader_client.get(f"/events/{SPEC_EVENT['event_id']}").json()
    assert set(body) == EVENT_KEYS
    expected = dict(SPEC_EVENT)
    assert {key: body[key] for key in expected} == expected
    assert body["id"] == SPEC_EVENT["event_id"]
    assert body["created_at"].endswith("Z")


def test_unknown_event_is_404_event_not_found(reader_client):
    body = assert_003_error(reader_client.get("/events/evt-missing"), 404, "RESOURCE_NOT_FOUND")
    assert body["detail"] == "Event not found"


def test_get_event_without_anpr_read_is_403(viewer_client, events):
    assert_003_error(viewer_client.get("/events/e1"), 403, "FORBIDDEN")


# --- The service ----------------------------------------------------------------------------------------


def test_partial_plate_search_uses_the_trigram_index(events):
    sql = str(search_events(parse_query({"plate_text": "abc123"})).query)
    assert "plate_trigrams" in sql and "@>" in sql
