"""The rule for a time a client stamps on what it sends, shared by the ANPR and counting ingest."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from config.api.contracts import FieldError
from config.api.timestamps import client_timestamp

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def check(value):
    errors: list[FieldError] = []
    return client_timestamp(value, errors, NOW, example="2024-01-01T12:00:00Z"), [e.message for e in errors]


def test_it_takes_iso_8601_with_z():
    assert check("2024-05-01T10:30:00.250Z") == (datetime(2024, 5, 1, 10, 30, 0, 250000, tzinfo=UTC), [])


def test_it_takes_an_offset_and_keeps_the_moment():
    moment, errors = check(" 2024-05-01T17:00:00+07:00 ")
    assert errors == [] and moment == datetime(2024, 5, 1, 10, 0, tzinfo=UTC)


def test_it_takes_an_aware_datetime():
    assert check(NOW - timedelta(hours=1)) == (NOW - timedelta(hours=1), [])


def test_it_refuses_text_that_is_no_date_time_with_the_example():
    assert check("yesterday") == (None, ["timestamp must be an ISO 8601 date and time, e.g. 2024-01-01T12:00:00Z"])


def test_it_refuses_a_number():
    assert check(1714564800)[0] is None


def test_it_refuses_a_time_without_a_zone():
    assert check("2024-05-01T10:30:00") == (None, ["timestamp must include a time zone (Z or +HH:MM)"])


def test_it_refuses_a_time_more_than_a_day_ahead():
    assert check(NOW + timedelta(days=1, seconds=1)) == (None, ["timestamp is more than a day in the future"])


def test_it_allows_a_clock_up_to_a_day_ahead():
    assert check(NOW + timedelta(days=1))[1] == []


def test_it_names_the_field_it_checks():
    errors: list[FieldError] = []
    client_timestamp("soon", errors, NOW, example="2024-01-01T12:00:00Z", field="seen_at")
    assert [(e.field, e.message.split(" ")[0]) for e in errors] == [("seen_at", "seen_at")]
