"""Plate watchlists (beyond 003): a deny-listed plate raises one alert and a notification; an allow-listed
one is marked on the event only; ``/config/watchlists`` manages the lists."""

from __future__ import annotations

import pytest

from accounts.models import Notification
from anpr.models import PlateEvent, WatchlistEntry
from cameras.models import Alert
from tests.anpr.conftest import assert_003_error, spec_event
from tests.factories import CameraFactory, UserFactory, WatchlistEntryFactory, role_user

pytestmark = pytest.mark.django_db

URL = "/events/ingest"


def sight(client, event_id: str, plate: str, **changes) -> PlateEvent:
    response = client.post(URL, spec_event(event_id=event_id, plate_text=plate, **changes), format="json")
    assert response.status_code == 202, response.content
    return PlateEvent.objects.get(pk=event_id)


# --- Sightings ---------------------------------------------------------------------------------------


def test_deny_listed_plate_raises_one_high_alert(edge_client):
    WatchlistEntryFactory(plate_text="ABC-123", list_type="deny", reason="Reported stolen")
    sight(edge_client, "evt-1", "abc 123")
    alert = Alert.objects.get()
    assert alert.level == "high"
    assert alert.title == "Deny-listed plate abc 123 seen at cam-001"
    assert "Reported stolen" in alert.description and "evt-1" in alert.description
    assert "plate:ABC123" in alert.tags


def test_deny_listed_plate_sends_one_notification(edge_client):
    watcher = role_user("ROLE-ANPR-WATCH", ["anpr:read"])  # notifications go to who may see plate events
    WatchlistEntryFactory(plate_text="ABC123", list_type="deny")
    sight(edge_client, "evt-1", "ABC123")
    notification = Notification.objects.get()
    assert notification.user == watcher
    assert notification.level == "critical"
    assert notification.title.startswith("Deny-listed plate ABC123")
    assert notification.link == f"/alerts#{Alert.objects.get().pk}"


def test_deny_hit_is_marked_on_the_event(edge_client):
    entry = WatchlistEntryFactory(plate_text="ABC123", list_type="deny")
    event = sight(edge_client, "evt-1", "ABC-123")
    assert (event.watchlist_match, event.watchlist_entry) == ("deny", entry)


def test_deny_alert_names_the_camera_when_it_is_configured(edge_client):
    camera = CameraFactory(id="cam-001", name="Gate", stream_url="rtsp://127.0.0.1:8554/x", enabled=False)
    WatchlistEntryFactory(plate_text="ABC123", list_type="deny")
    sight(edge_client, "evt-1", "ABC123")
    assert Alert.objects.get().camera == camera


def test_allow_listed_plate_is_marked_and_raises_nothing(edge_client):
    entry = WatchlistEntryFactory(plate_text="ABC123", list_type="allow", reason="Staff car")
    event = sight(edge_client, "evt-1", "abc123")
    assert (event.watchlist_match, event.watchlist_entry) == ("allow", entry)
    assert not Alert.objects.exists()
    assert not Notification.objects.exists()


def test_unlisted_plate_is_not_marked(edge_client):
    WatchlistEntryFactory(plate_text="ABC123", list_type="deny")
    event = sight(edge_client, "evt-1", "ABC124")
    assert event.watchlist_match == ""
    assert not Alert.objects.exists()


def test_plate_on_both_lists_counts_as_denied(edge_client):
    WatchlistEntryFactory(plate_text="ABC123", list_type="allow")
    WatchlistEntryFactory(plate_text="ABC-123", list_type="deny")
    assert sight(edge_client, "evt-1", "ABC123").watchlist_match == "deny"
    assert Alert.objects.count() == 1


def test_inactive_entry_is_ignored(edge_client):
    WatchlistEntryFactory(plate_text="ABC123", list_type="deny", active=False)
    assert sight(edge_client, "evt-1", "ABC123").watchlist_match == ""
    assert not Alert.objects.exists()


def test_repeated_sightings_within_the_cooldown_raise_one_alert(edge_client):
    role_user("ROLE-ANPR-WATCH", ["anpr:read"])
    WatchlistEntryFactory(plate_text="ABC123", list_type="deny")
    sight(edge_client, "evt-1", "ABC123")
    second = sight(edge_client, "evt-2", "ABC123")
    assert second.watchlist_match == "deny"
    assert Alert.objects.count() == 1
    assert Notification.objects.count() == 1


def test_a_sighting_after_the_cooldown_raises_a_new_alert(edge_client, settings):
    settings.ANPR_WATCHLIST_ALERT_COOLDOWN = 0
    WatchlistEntryFactory(plate_text="ABC123", list_type="deny")
    sight(edge_client, "evt-1", "ABC123")
    sight(edge_client, "evt-2", "ABC123")
    assert Alert.objects.count() == 2


def test_duplicate_of_a_deny_listed_event_raises_no_second_alert(edge_client, settings):
    settings.ANPR_WATCHLIST_ALERT_COOLDOWN = 0
    WatchlistEntryFactory(plate_text="ABC123", list_type="deny")
    sight(edge_client, "evt-1", "ABC123")
    assert edge_client.post(URL, spec_event(event_id="evt-1", plate_text="ABC123"), format="json").status_code == 409
    assert Alert.objects.count() == 1


def test_other_ocr_candidates_do_not_trigger_the_list(edge_client):
    WatchlistEntryFactory(plate_text="ABC123", list_type="deny")
    candidates = [{"text": "ABC123", "confidence": 0.4, "model": "tesseract"}]
    sight(edge_client, "evt-1", "ABC128", raw_candidates=candidates)
    assert not Alert.objects.exists()


# --- /config/watchlists ----------------------------------------------------------------------------


def test_create_entry_answers_201_with_the_normalised_plate(editor_client):
    response = editor_client.post(
        "/config/watchlists", {"plate_text": "abc-123", "list_type": "deny", "reason": "Stolen"}, format="json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["plate_text"], body["plate_normalized"], body["list_type"], body["active"]) == (
        "abc-123",
        "ABC123",
        "deny",
        True,
    )
    assert body["created_by"].endswith("@example.com")


def test_same_plate_spelled_otherwise_on_the_same_list_is_409(editor_client):
    WatchlistEntryFactory(plate_text="ABC123", list_type="deny")
    response = editor_client.post("/config/watchlists", {"plate_text": "abc 123", "list_type": "deny"}, format="json")
    assert_003_error(response, 409, "DUPLICATE_RESOURCE")


def test_entry_without_letters_or_digits_is_400(editor_client):
    response = editor_client.post("/config/watchlists", {"plate_text": "--", "list_type": "deny"}, format="json")
    assert_003_error(response, 400, "VALIDATION_ERROR")


def test_entry_with_an_unknown_list_is_400(editor_client):
    response = editor_client.post("/config/watchlists", {"plate_text": "ABC1", "list_type": "grey"}, format="json")
    assert_003_error(response, 400, "VALIDATION_ERROR")


def test_list_entries_filtered_by_list_and_plate(reader_client):
    WatchlistEntryFactory(plate_text="ABC123", list_type="deny")
    WatchlistEntryFactory(plate_text="XYZ789", list_type="allow")
    body = reader_client.get("/config/watchlists", {"list_type": "allow", "plate_text": "xyz"}).json()
    assert [entry["plate_text"] for entry in body["items"]] == ["XYZ789"]


@pytest.mark.parametrize("count", [5, 10])
def test_listing_entries_costs_the_same_queries_however_many(reader_client, count, django_assert_max_num_queries):
    for number in range(count):
        WatchlistEntryFactory(plate_text=f"ABC{number:03d}", created_by=UserFactory())

    with django_assert_max_num_queries(4):  # the user and its last-active stamp, the total, the page
        body = reader_client.get("/config/watchlists").json()

    assert body["total"] == count and all(entry["created_by"] for entry in body["items"])


def test_update_entry_deactivates_it(editor_client):
    entry = WatchlistEntryFactory(plate_text="ABC123", list_type="deny")
    response = editor_client.put(f"/config/watchlists/{entry.pk}", {"active": False}, format="json")
    assert response.json()["active"] is False


def test_delete_entry(editor_client):
    entry = WatchlistEntryFactory(plate_text="ABC123", list_type="deny")
    assert editor_client.delete(f"/config/watchlists/{entry.pk}").status_code == 204
    assert not WatchlistEntry.objects.exists()


def test_unknown_entry_is_404(reader_client):
    assert_003_error(reader_client.get("/config/watchlists/not-a-number"), 404, "RESOURCE_NOT_FOUND")


def test_creating_an_entry_needs_anpr_write(reader_client):
    response = reader_client.post("/config/watchlists", {"plate_text": "ABC1", "list_type": "deny"}, format="json")
    assert_003_error(response, 403, "FORBIDDEN")
