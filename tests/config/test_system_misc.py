"""GET /api/v1/system/summary, /system/uptime, /system/version and /services/banner-messages."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta

import celery
import django
import pytest
from django.conf import settings
from django.utils import timezone

from cameras.choices import CameraStatus
from config.models import BannerMessage
from tests.factories import CameraFactory

pytestmark = pytest.mark.django_db

SUMMARY_URL = "/api/v1/system/summary"
UPTIME_URL = "/api/v1/system/uptime"
VERSION_URL = "/api/v1/system/version"
BANNERS_URL = "/api/v1/services/banner-messages"


def error_code(response) -> str:
    return response.json()["error"]["code"]


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


# --- Summary --------------------------------------------------------------------------------------


def test_summary_answers_the_keys_of_001(viewer_client):
    response = viewer_client.get(SUMMARY_URL)

    assert response.status_code == 200
    assert set(response.json()["data"]) == {
        "activeCameras",
        "registeredPeople",
        "peopleDetectedToday",
        "unknownFaceAlerts",
        "manualOverrides",
        "attendanceCompletion",
        "lastSync",
    }


def test_active_cameras_counts_enabled_online_cameras_only(viewer_client):
    CameraFactory(id="CAM-01", status=CameraStatus.ONLINE)
    CameraFactory(id="CAM-02", status=CameraStatus.OFFLINE)
    CameraFactory(id="CAM-03", status=CameraStatus.ONLINE, enabled=False)
    CameraFactory(id="CAM-04", status=CameraStatus.MAINTENANCE)

    data = viewer_client.get(SUMMARY_URL).json()["data"]

    assert data["activeCameras"] == 1


def test_people_figures_count_profiles_and_todays_detections(viewer_client):
    from recognition.models import Detection, FaceProfile

    camera = CameraFactory(id="CAM-01", status=CameraStatus.ONLINE)
    ana = FaceProfile.objects.create(employee_id="EMP-1", name="Ana", status="active")
    FaceProfile.objects.create(employee_id="EMP-2", name="Ben", status="pending")
    FaceProfile.objects.create(employee_id="EMP-3", name="Old", status="archived")
    now = timezone.now()
    for person, status in ((ana, "authorized"), (ana, "authorized"), (None, "unknown"), (None, "unknown")):
        Detection.objects.create(
            camera=camera, profile=person, person_id=person.employee_id if person else "",
            confidence=90, timestamp=now, status=status,
        )  # fmt: skip
    Detection.objects.create(camera=camera, confidence=90, timestamp=now - timedelta(days=2), status="unknown")

    data = viewer_client.get(SUMMARY_URL).json()["data"]

    assert data["registeredPeople"] == 2  # archived people are not registered any more
    assert data["peopleDetectedToday"] == 1  # Ana, twice
    assert data["unknownFaceAlerts"] == 2  # today's only


def test_attendance_figures_count_todays_logs_and_the_last_odoo_sync(viewer_client):
    from attendance.models import AttendanceLog
    from integrations.models import OdooConfig

    today = timezone.localdate()
    for number, (status, manual) in enumerate(
        (("present", True), ("late", False), ("missed", False), ("present", False))
    ):
        AttendanceLog.objects.create(
            id=f"ATT-T-{number}", employee_id=f"EMP-{number}", name="N", date=today, status=status,
            manual_override=manual,
        )  # fmt: skip
    synced = timezone.now().replace(microsecond=0)
    config = OdooConfig.load()
    config.last_sync = synced
    config.save()

    data = viewer_client.get(SUMMARY_URL).json()["data"]

    assert data["manualOverrides"] == 1
    assert data["attendanceCompletion"] == 75.0  # present or late, out of every log of the day
    assert datetime.fromisoformat(data["lastSync"].replace("Z", "+00:00")) == synced


def test_operator_without_system_read_cannot_read_the_summary(operator_client):
    assert operator_client.get(SUMMARY_URL).status_code == 403


# --- Uptime and version ---------------------------------------------------------------------------


def test_uptime_answers_boot_time_and_platform_start(viewer_client):
    response = viewer_client.get(UPTIME_URL)

    assert response.status_code == 200
    data = response.json()["data"]
    assert set(data) == {"systemBootTime", "systemUptimeSeconds", "platformStartedAt", "platformUptimeSeconds"}
    now = datetime.now(UTC)
    boot = parse_time(data["systemBootTime"])
    started = parse_time(data["platformStartedAt"])
    assert boot <= started <= now
    assert data["systemUptimeSeconds"] == pytest.approx(time.time() - boot.timestamp(), abs=5)
    assert 0 <= data["platformUptimeSeconds"] <= data["systemUptimeSeconds"]


def test_version_names_the_platform_and_its_components(viewer_client):
    response = viewer_client.get(VERSION_URL)

    assert response.status_code == 200
    data = response.json()["data"]
    assert set(data) == {"version", "python", "django", "postgres", "redis", "celery", "build"}
    assert data["version"] == settings.ARGUS_VERSION
    assert data["django"] == django.get_version()
    assert data["celery"] == celery.__version__
    assert re.fullmatch(r"\d+(\.\d+)+", data["postgres"])
    assert re.fullmatch(r"\d+(\.\d+)+", data["redis"])
    assert data["build"] is None or re.fullmatch(r"[0-9a-f]{4,40}", data["build"])


def test_operator_without_system_read_cannot_read_the_version(operator_client):
    assert operator_client.get(VERSION_URL).status_code == 403


# --- Banner messages ------------------------------------------------------------------------------


def test_posted_banner_is_listed(admin_client, admin_user, viewer_client):
    expires = timezone.now() + timedelta(hours=2)

    response = admin_client.post(
        BANNERS_URL,
        {"message": "Maintenance at 22:00", "level": "warning", "expiresAt": expires.isoformat()},
        format="json",
    )

    assert response.status_code == 201
    banner = response.json()["data"]
    assert set(banner) == {"id", "message", "level", "startsAt", "expiresAt", "createdBy", "createdAt"}
    assert banner["message"] == "Maintenance at 22:00"
    assert banner["level"] == "warning"
    assert banner["createdBy"] == admin_user.email
    assert parse_time(banner["expiresAt"]) == expires
    listed = viewer_client.get(BANNERS_URL).json()["data"]
    assert [item["id"] for item in listed] == [banner["id"]]


def test_banner_without_expiry_stays_listed(admin_client):
    response = admin_client.post(BANNERS_URL, {"message": "Welcome", "level": "info"}, format="json")

    assert response.status_code == 201
    assert response.json()["data"]["expiresAt"] is None
    assert len(admin_client.get(BANNERS_URL).json()["data"]) == 1


def test_expired_banner_is_hidden(viewer_client):
    BannerMessage.objects.create(message="Old news", expires_at=timezone.now() - timedelta(minutes=1))

    assert viewer_client.get(BANNERS_URL).json()["data"] == []


def test_banner_not_yet_started_is_hidden(viewer_client):
    BannerMessage.objects.create(message="Tomorrow", starts_at=timezone.now() + timedelta(days=1))

    assert viewer_client.get(BANNERS_URL).json()["data"] == []


def test_deactivated_banner_is_hidden(viewer_client):
    BannerMessage.objects.create(message="Withdrawn", active=False)

    assert viewer_client.get(BANNERS_URL).json()["data"] == []


def test_banner_with_an_unknown_level_is_refused(admin_client):
    response = admin_client.post(BANNERS_URL, {"message": "Hello", "level": "shouting"}, format="json")

    assert response.status_code == 400
    assert error_code(response) == "VALIDATION_ERROR"
    assert response.json()["error"]["details"]["field"] == "level"


def test_banner_expiring_in_the_past_is_refused(admin_client):
    past = timezone.now() - timedelta(minutes=5)

    response = admin_client.post(
        BANNERS_URL, {"message": "Hello", "level": "info", "expiresAt": past.isoformat()}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["error"]["details"]["field"] == "expiresAt"


def test_banner_with_an_empty_message_is_refused(admin_client):
    response = admin_client.post(BANNERS_URL, {"message": "   ", "level": "info"}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["details"]["field"] == "message"


def test_banner_over_1000_characters_is_refused(admin_client):
    response = admin_client.post(BANNERS_URL, {"message": "x" * 1001, "level": "info"}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["details"]["field"] == "message"


def test_refused_banner_is_not_stored(admin_client):
    admin_client.post(BANNERS_URL, {"message": "Hello", "level": "shouting"}, format="json")

    assert not BannerMessage.objects.exists()


def test_viewer_cannot_post_a_banner(viewer_client):
    response = viewer_client.post(BANNERS_URL, {"message": "Hello", "level": "info"}, format="json")

    assert response.status_code == 403
    assert error_code(response) == "AUTH_003"
    assert not BannerMessage.objects.exists()


def test_anonymous_caller_cannot_list_banners(api_client):
    response = api_client.get(BANNERS_URL)

    assert response.status_code == 401
