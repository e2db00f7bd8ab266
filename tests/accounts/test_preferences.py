"""Settings of 001: languages, time zones, and each user's preferences (API and dashboard page)."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, datetime

import pytest

from accounts import preferences
from accounts.models import UserPreference
from accounts.validators import MAX_EXTRAS_BYTES
from tests.accounts.conftest import error_code

pytestmark = pytest.mark.django_db

PREFS = "/api/v1/settings/preferences"
TIMEZONES = "/api/v1/settings/timezones"
LANGUAGES = "/api/v1/i18n/languages"


def field_errors(response) -> dict:
    return response.json()["error"]["details"]["fields"]


# --- GET /i18n/languages ---------------------------------------------------------------------------------


def test_languages_lists_each_configured_language_with_its_names(api_client):
    response = api_client.get(LANGUAGES)

    assert response.status_code == 200
    data = response.json()["data"]
    assert {"code": "en", "name": "English", "nativeName": "English"} in data
    assert {"code": "vi", "name": "Vietnamese", "nativeName": "Tiếng Việt"} in data


def test_languages_follow_the_languages_setting(api_client, settings):
    settings.LANGUAGES = [("en", "English")]

    assert [item["code"] for item in api_client.get(LANGUAGES).json()["data"]] == ["en"]


# --- GET /settings/timezones --------------------------------------------------------------------------------


def test_timezones_list_every_iana_zone_sorted(viewer_client):
    data = viewer_client.get(TIMEZONES).json()["data"]

    ids = [item["id"] for item in data]
    assert ids == sorted(zoneinfo.available_timezones())
    assert {"Asia/Ho_Chi_Minh", "Europe/London", "UTC", "America/St_Johns"} <= set(ids)


def test_timezones_carry_their_current_offset(viewer_client):
    data = {item["id"]: item for item in viewer_client.get(TIMEZONES).json()["data"]}

    assert data["Asia/Ho_Chi_Minh"]["offset"] == "+07:00"
    assert data["Asia/Ho_Chi_Minh"]["label"] == "(UTC+07:00) Asia/Ho_Chi_Minh"
    assert data["UTC"]["offset"] == "+00:00"
    assert data["Asia/Kolkata"]["offset"] == "+05:30"


def test_timezone_offsets_follow_daylight_saving():
    winter = {z["id"]: z["offset"] for z in preferences.timezones(datetime(2025, 1, 15, tzinfo=UTC))}
    summer = {z["id"]: z["offset"] for z in preferences.timezones(datetime(2025, 7, 15, tzinfo=UTC))}

    assert (winter["Europe/Berlin"], summer["Europe/Berlin"]) == ("+01:00", "+02:00")
    assert (winter["America/St_Johns"], summer["America/St_Johns"]) == ("-03:30", "-02:30")


def test_timezones_need_a_signed_in_caller(api_client):
    response = api_client.get(TIMEZONES)

    assert response.status_code == 401
    assert error_code(response) == "AUTH_001"


# --- GET /settings/preferences -------------------------------------------------------------------------------


def test_preferences_are_the_defaults_until_saved(viewer_client, settings):
    settings.TIME_ZONE = "Asia/Ho_Chi_Minh"

    data = viewer_client.get(PREFS).json()["data"]

    assert data == {
        "theme": "dark",
        "gridMode": "3x3",
        "autoRotate": True,
        "language": "en",
        "timezone": "Asia/Ho_Chi_Minh",
        "preferences": {},
        "updatedAt": None,
    }


def test_reading_the_defaults_saves_nothing(viewer_client):
    viewer_client.get(PREFS)

    assert not UserPreference.objects.exists()


def test_preferences_need_a_signed_in_caller(api_client):
    assert api_client.get(PREFS).status_code == 401


def test_api_keys_have_no_preferences(api_client, api_key):
    response = api_client.get(PREFS, HTTP_X_API_KEY=api_key.raw)

    assert response.status_code == 403
    assert error_code(response) == "AUTH_003"


# --- PUT /settings/preferences -------------------------------------------------------------------------------


def test_put_saves_every_field(viewer_client, viewer_user):
    body = {
        "theme": "light",
        "gridMode": "4x4",
        "autoRotate": False,
        "language": "vi",
        "timezone": "Asia/Ho_Chi_Minh",
        "preferences": {"sidebar": "collapsed"},
    }

    response = viewer_client.put(PREFS, body, format="json")

    assert response.status_code == 200
    data = response.json()["data"]
    assert {key: data[key] for key in body} == body
    assert data["updatedAt"] is not None
    saved = UserPreference.objects.get(user=viewer_user)
    assert (saved.theme, saved.grid_mode, saved.auto_rotate) == ("light", "4x4", False)
    assert (saved.language, saved.timezone, saved.preferences) == ("vi", "Asia/Ho_Chi_Minh", {"sidebar": "collapsed"})


def test_put_is_partial(viewer_client):
    viewer_client.put(PREFS, {"theme": "light"}, format="json")

    data = viewer_client.put(PREFS, {"gridMode": "2x2"}, format="json").json()["data"]

    assert (data["theme"], data["gridMode"], data["autoRotate"]) == ("light", "2x2", True)


def test_put_replaces_the_extras_whole(viewer_client):
    viewer_client.put(PREFS, {"preferences": {"a": 1, "b": 2}}, format="json")

    data = viewer_client.put(PREFS, {"preferences": {"c": 3}}, format="json").json()["data"]

    assert data["preferences"] == {"c": 3}


def test_extras_keep_the_clients_own_key_spelling(viewer_client):
    extras = {"camera_order": ["CAM-01"], "lastTab": "live", "nested": {"snake_key": {"deepKey": 1}}}

    data = viewer_client.put(PREFS, {"preferences": extras}, format="json").json()["data"]

    assert data["preferences"] == extras


def test_preferences_belong_to_each_user(viewer_client, operator_client):
    viewer_client.put(PREFS, {"theme": "light"}, format="json")

    assert operator_client.get(PREFS).json()["data"]["theme"] == "dark"


def test_put_accepts_the_read_only_fields_a_get_returned(viewer_client):
    current = viewer_client.get(PREFS).json()["data"]

    response = viewer_client.put(PREFS, {**current, "theme": "system"}, format="json")

    assert response.status_code == 200
    assert response.json()["data"]["theme"] == "system"


def test_put_changing_preferences_is_audited(viewer_client):
    from accounts.models import AuditLog

    viewer_client.put(PREFS, {"theme": "light"}, format="json")

    entry = AuditLog.objects.get(resource_type="preferences")
    assert entry.actor == "viewer@example.com"


def test_put_refuses_an_unknown_theme(viewer_client):
    response = viewer_client.put(PREFS, {"theme": "neon"}, format="json")

    assert response.status_code == 400
    assert error_code(response) == "VALIDATION_ERROR"
    assert "theme" in field_errors(response)


def test_put_refuses_an_unknown_grid_mode(viewer_client):
    response = viewer_client.put(PREFS, {"gridMode": "5x5"}, format="json")

    assert response.status_code == 400
    assert "gridMode" in field_errors(response)


def test_put_refuses_a_non_boolean_auto_rotate(viewer_client):
    response = viewer_client.put(PREFS, {"autoRotate": "no"}, format="json")

    assert response.status_code == 400
    assert "autoRotate" in field_errors(response)


def test_put_refuses_a_language_the_site_does_not_offer(viewer_client):
    response = viewer_client.put(PREFS, {"language": "fr"}, format="json")

    assert response.status_code == 400
    assert "language" in field_errors(response)


def test_put_refuses_an_unknown_time_zone(viewer_client):
    response = viewer_client.put(PREFS, {"timezone": "Mars/Olympus_Mons"}, format="json")

    assert response.status_code == 400
    assert "timezone" in field_errors(response)


def test_put_refuses_a_utc_offset_for_a_time_zone(viewer_client):
    response = viewer_client.put(PREFS, {"timezone": "+07:00"}, format="json")

    assert response.status_code == 400
    assert "timezone" in field_errors(response)


def test_put_refuses_extras_that_are_not_an_object(viewer_client):
    response = viewer_client.put(PREFS, {"preferences": ["a", "b"]}, format="json")

    assert response.status_code == 400
    assert "preferences" in field_errors(response)


def test_put_refuses_extras_over_16_kb(viewer_client):
    response = viewer_client.put(PREFS, {"preferences": {"blob": "x" * MAX_EXTRAS_BYTES}}, format="json")

    assert response.status_code == 400
    assert "preferences" in field_errors(response)


def test_put_accepts_extras_of_exactly_16_kb(viewer_client):
    padding = MAX_EXTRAS_BYTES - len('{"blob":""}')

    response = viewer_client.put(PREFS, {"preferences": {"blob": "x" * padding}}, format="json")

    assert response.status_code == 200


def test_put_refuses_an_unknown_field(viewer_client):
    response = viewer_client.put(PREFS, {"gridmode": "2x2"}, format="json")

    assert response.status_code == 400
    assert "gridmode" in field_errors(response)


def test_put_reports_every_invalid_field(viewer_client):
    response = viewer_client.put(PREFS, {"theme": "neon", "timezone": "Nowhere"}, format="json")

    assert {"theme", "timezone"} <= set(field_errors(response))


def test_a_refused_put_saves_nothing(viewer_client):
    viewer_client.put(PREFS, {"theme": "light", "timezone": "Nowhere"}, format="json")

    assert not UserPreference.objects.exists()


def test_put_needs_a_signed_in_caller(api_client):
    assert api_client.put(PREFS, {"theme": "light"}, format="json").status_code == 401


def test_deleting_a_user_deletes_their_preferences(viewer_client, viewer_user):
    viewer_client.put(PREFS, {"theme": "light"}, format="json")

    viewer_user.delete()

    assert not UserPreference.objects.exists()


# --- Dashboard page -----------------------------------------------------------------------------------------


def test_preferences_page_shows_the_form(client, viewer_user):
    client.force_login(viewer_user)

    response = client.get("/accounts/preferences/")

    assert response.status_code == 200
    assert b'name="timezone"' in response.content
    assert b'<option value="Asia/Ho_Chi_Minh"' in response.content


def test_preferences_page_saves_and_keeps_the_extras(client, viewer_client, viewer_user):
    viewer_client.put(PREFS, {"preferences": {"kept": True}}, format="json")
    client.force_login(viewer_user)
    form = {"theme": "light", "grid_mode": "2x2", "language": "vi", "timezone": "Asia/Tokyo"}

    response = client.post("/accounts/preferences/", form)

    assert response.status_code == 302
    saved = UserPreference.objects.get(user=viewer_user)
    assert (saved.theme, saved.grid_mode, saved.auto_rotate, saved.timezone) == ("light", "2x2", False, "Asia/Tokyo")
    assert saved.preferences == {"kept": True}


def test_preferences_page_refuses_an_unknown_time_zone(client, viewer_user):
    client.force_login(viewer_user)
    form = {"theme": "light", "grid_mode": "2x2", "language": "en", "timezone": "Nowhere"}

    response = client.post("/accounts/preferences/", form)

    assert response.status_code == 200
    assert b"Select a valid choice" in response.content
    assert not UserPreference.objects.exists()


def test_the_user_menu_links_to_the_preferences_page(client, viewer_user):
    client.force_login(viewer_user)

    assert b'href="/accounts/preferences/"' in client.get("/accounts/preferences/").content
