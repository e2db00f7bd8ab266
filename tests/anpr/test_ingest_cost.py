"""What an ingested event costs (issue 19): one insert in its transaction, the watchlist read from the process's
copy, and that copy following every change of an entry, on this process or another."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from anpr import watchlists
from anpr.models import PlateEvent, WatchlistEntry
from config import stamps
from config.cache import cache_client
from tests.anpr.conftest import spec_event
from tests.factories import WatchlistEntryFactory

pytestmark = pytest.mark.django_db

URL = "/events/ingest"


def sight(client, event_id: str, plate: str) -> PlateEvent:
    response = client.post(URL, spec_event(event_id=event_id, plate_text=plate), format="json")
    assert response.status_code == 202, response.content
    return PlateEvent.objects.get(pk=event_id)


def another_process_changed_the_watchlist() -> None:
    """What another web process's change leaves here: new rows and a moved stamp, nothing in this process."""
    cache_client().incr(cache.make_and_validate_key("stamp:anpr:watchlist"))


def test_an_unlisted_event_costs_its_insert_and_nothing_else(edge_client, django_assert_num_queries):
    sight(edge_client, "evt-warm", "XYZ999")  # the key and the watchlist are read once per process

    # The savepoint around the insert (the test's transaction stands for the request's), the insert, its release.
    with django_assert_num_queries(3):
        response = edge_client.post(URL, spec_event(event_id="evt-1", plate_text="ABC123"), format="json")

    assert response.status_code == 202


def test_only_a_listed_plate_reads_its_entry(edge_client):
    WatchlistEntryFactory(plate_text="ABC123", list_type="allow")
    sight(edge_client, "evt-warm", "XYZ999")

    with CaptureQueriesContext(connection) as unlisted:
        sight(edge_client, "evt-1", "DEF456")
    with CaptureQueriesContext(connection) as listed:
        event = sight(edge_client, "evt-2", "ABC123")

    assert event.watchlist_match == "allow"
    assert [q for q in unlisted.captured_queries if "anpr_watchlistentry" in q["sql"]] == []
    assert len([q for q in listed.captured_queries if 'FROM "anpr_watchlistentry"' in q["sql"]]) == 1


def test_an_entry_listed_after_the_watchlist_was_read_marks_the_next_sighting(edge_client):
    sight(edge_client, "evt-before", "ABC123")
    entry = WatchlistEntryFactory(plate_text="ABC123", list_type="deny")

    event = sight(edge_client, "evt-after", "ABC123")

    assert (event.watchlist_match, event.watchlist_entry) == ("deny", entry)


def test_a_deactivated_entry_marks_no_later_sighting(edge_client):
    entry = WatchlistEntryFactory(plate_text="ABC123", list_type="allow")
    assert sight(edge_client, "evt-before", "ABC123").watchlist_match == "allow"
    entry.active = False
    entry.save()

    assert sight(edge_client, "evt-after", "ABC123").watchlist_match == ""


def test_a_deleted_entry_marks_no_later_sighting(edge_client):
    entry = WatchlistEntryFactory(plate_text="ABC123", list_type="allow")
    assert sight(edge_client, "evt-before", "ABC123").watchlist_match == "allow"
    entry.delete()

    assert sight(edge_client, "evt-after", "ABC123").watchlist_match == ""


def test_an_entry_another_process_listed_marks_the_next_sighting(edge_client):
    sight(edge_client, "evt-before", "ABC123")
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO anpr_watchlistentry (plate_text, plate_normalized, list_type, reason, active, created_at,"
            " updated_at) VALUES ('ABC123', 'ABC123', 'allow', '', true, now(), now())"
        )
    another_process_changed_the_watchlist()

    assert sight(edge_client, "evt-after", "ABC123").watchlist_match == "allow"


def test_an_entry_deleted_without_a_word_fails_no_sighting(edge_client):
    entry = WatchlistEntryFactory(plate_text="ABC123", list_type="allow")
    sight(edge_client, "evt-before", "XYZ999")  # the process now holds ABC123 as listed
    with connection.cursor() as cursor:  # raw SQL: no signal, no stamp; the process still holds the plate
        cursor.execute("DELETE FROM anpr_watchlistentry WHERE id = %s", [entry.pk])

    event = sight(edge_client, "evt-after", "ABC123")

    assert (event.watchlist_match, event.watchlist_entry) == ("", None)
    assert not WatchlistEntry.objects.exists()


def test_a_watchlist_too_large_to_keep_is_asked_per_event(edge_client, monkeypatch):
    monkeypatch.setattr(watchlists, "MAX_KEPT_ENTRIES", 1)
    WatchlistEntryFactory(plate_text="ABC123", list_type="allow")
    WatchlistEntryFactory(plate_text="DEF456", list_type="deny")

    assert sight(edge_client, "evt-1", "ABC123").watchlist_match == "allow"
    assert sight(edge_client, "evt-2", "DEF456").watchlist_match == "deny"


def test_the_stamps_ride_on_the_api_keys_round_trip(edge_client, monkeypatch):
    sight(edge_client, "evt-warm", "XYZ999")  # the process now knows the key
    separate_reads = []
    read = stamps.read_stamps
    monkeypatch.setattr(stamps, "read_stamps", lambda names: separate_reads.append(names) or read(names))

    sight(edge_client, "evt-1", "ABC123")

    assert separate_reads == []
