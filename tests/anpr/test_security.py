"""ANPR inputs that would cost the server: a PNG decompression bomb is refused from its header; control
characters in plates; one plate on the allow and the deny list at once."""

from __future__ import annotations

import struct
import zlib

import pytest

from anpr.models import PlateEvent, WatchlistEntry
from tests.anpr.conftest import assert_003_error, multipart, spec_event

pytestmark = pytest.mark.django_db

URL = "/events/ingest"


def png_bomb(width: int = 32768, height: int = 32768) -> bytes:
    """A valid PNG declaring ``width`` x ``height`` RGB pixels, all black: about 1 MB on the wire, 3 GB decoded."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row = b"\x00" + b"\x00" * (width * 3)
    compressor = zlib.compressobj(9)
    pixels = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


@pytest.fixture(scope="module")
def bomb() -> bytes:
    return png_bomb()


def test_a_png_decompression_bomb_is_refused_before_decoding(edge_client, bomb, monkeypatch):
    import cv2

    decoded = []
    real = cv2.imdecode
    monkeypatch.setattr(cv2, "imdecode", lambda *args: decoded.append(args) or real(*args))

    response = edge_client.post(URL, multipart(spec_event(event_id="evt-bomb"), frame=bomb), format="multipart")

    assert len(bomb) < 4 * 1024 * 1024
    body = assert_003_error(response, 422, "VALIDATION_ERROR") if response.status_code == 422 else None
    if body is None:
        body = assert_003_error(response, 400, "VALIDATION_ERROR")
    assert "pixels" in str(body["errors"])
    assert decoded == []
    assert not PlateEvent.objects.filter(pk="evt-bomb").exists()


def test_the_pixel_limit_is_a_setting(edge_client, settings):
    settings.ANPR_MAX_IMAGE_PIXELS = 100
    small = png_bomb(20, 20)

    response = edge_client.post(URL, multipart(spec_event(event_id="evt-small"), frame=small), format="multipart")

    assert response.status_code in (400, 422)


def test_a_plate_with_control_characters_is_refused(edge_client):
    response = edge_client.post(URL, spec_event(event_id="evt-ctl", plate_text="AB\x1b[2J123"), format="json")

    assert response.status_code in (400, 422)
    assert not PlateEvent.objects.filter(pk="evt-ctl").exists()


def test_a_plate_on_the_allow_list_cannot_join_the_deny_list(admin_client):
    first = admin_client.post("/config/watchlists", {"plate_text": "ABC123", "list_type": "allow"}, format="json")
    assert first.status_code == 201, first.content

    response = admin_client.post("/config/watchlists", {"plate_text": "abc-123", "list_type": "deny"}, format="json")

    assert response.status_code == 409
    assert "allow" in response.json()["detail"]
    assert WatchlistEntry.objects.count() == 1


def test_a_watchlist_plate_with_control_characters_is_refused(admin_client):
    response = admin_client.post("/config/watchlists", {"plate_text": "ABC\x00123", "list_type": "deny"}, format="json")

    assert response.status_code in (400, 422)
    assert WatchlistEntry.objects.count() == 0


def test_a_deny_list_alert_reaches_plate_readers_not_camera_viewers(edge_client, viewer_user):
    from accounts.models import Notification
    from tests.factories import WatchlistEntryFactory, role_user

    reader = role_user("ROLE-PLATES", ["anpr:read"])
    WatchlistEntryFactory(plate_text="BAD666", list_type="deny")

    edge_client.post(URL, spec_event(event_id="evt-deny", plate_text="BAD666"), format="json")

    assert list(Notification.objects.values_list("user", flat=True)) == [reader.pk]
    from tests.conftest import client_for

    seen = client_for(viewer_user).get("/api/v1/notifications").json()["data"]
    assert seen == []
    assert len(client_for(reader).get("/api/v1/notifications").json()["data"]) == 1
