"""The detection provider's key never follows a changed endpoint (every camera frame would go with it)."""

from __future__ import annotations

import pytest

from recognition.models import DetectionProviderConfig

pytestmark = pytest.mark.django_db

URL = "/api/v1/detections/provider/config"


@pytest.fixture
def provider(admin_client):
    body = {"kind": "http", "endpoint": "http://127.0.0.1:8001/detect", "apiKey": "sk-secret"}
    assert admin_client.put(URL, body, format="json").status_code == 200


@pytest.mark.parametrize("api_key", [{"apiKey": "***"}, {}])
def test_stored_key_does_not_follow_a_new_endpoint_host(admin_client, provider, api_key):
    response = admin_client.put(URL, {"endpoint": "http://attacker.example/detect", **api_key}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["details"]["field"] == "apiKey"
    assert DetectionProviderConfig.load().endpoint == "http://127.0.0.1:8001/detect"


def test_stored_key_stays_for_another_path_on_the_same_endpoint(admin_client, provider):
    response = admin_client.put(URL, {"endpoint": "http://127.0.0.1:8001/v2/detect"}, format="json")

    assert response.status_code == 200
    assert DetectionProviderConfig.load().api_key == "sk-secret"


def test_a_new_endpoint_with_its_key_is_accepted(admin_client, provider):
    body = {"endpoint": "https://provider.example/detect", "apiKey": "sk-new"}

    assert admin_client.put(URL, body, format="json").status_code == 200
    assert DetectionProviderConfig.load().api_key == "sk-new"


# --- Face-service callbacks and videos: only where the site allows, never where a redirect leads ------------


@pytest.fixture
def face_service_client(db):
    from tests.conftest import key_client

    return key_client("face-service")


def test_a_callback_url_on_an_unlisted_host_is_refused_at_session_start(face_service_client, settings):
    from tests.recognition.face_service.conftest import BASE, session_payload

    settings.FACE_SERVICE_CALLBACK_HOSTS = ["attendance.example"]
    body = session_payload({201: [0.01] * 128}, ["rtsp://127.0.0.1:1/x"], "http://attacker.example/steal")

    response = face_service_client.post(f"{BASE}/recognition/process-session", body, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "INVALID_CALLBACK_URL"


def test_a_stored_callback_on_a_host_no_longer_listed_receives_nothing(http_peer, settings):
    from recognition.face_service import callbacks
    from recognition.face_service.choices import DeliveryStatus
    from tests.recognition.face_service.factories import add_results, make_session

    peer = http_peer()
    session = make_session(callback_url=peer.url)
    add_results(session, 1)
    settings.FACE_SERVICE_CALLBACK_HOSTS = ["attendance.example"]
    settings.FACE_SERVICE_CALLBACK_API_KEY = "platform-callback-key"

    [delivery] = callbacks.deliver_pending(str(session.pk))

    assert delivery.status == DeliveryStatus.FAILED
    assert peer.requests == []


def test_a_callback_that_answers_with_a_redirect_is_not_followed(http_peer):
    from recognition.face_service import callbacks
    from recognition.face_service.choices import DeliveryStatus
    from tests.recognition.face_service.factories import add_results, make_session

    peer = http_peer(status=307, fail_first=0)
    session = make_session(callback_url=peer.url, callback_max_attempts=1)
    add_results(session, 1)

    [delivery] = callbacks.deliver_pending(str(session.pk))

    assert delivery.status == DeliveryStatus.FAILED
    assert len(peer.requests) == 1


@pytest.fixture
def redirecting_server():
    """A real HTTP server that answers every GET with a redirect to cloud metadata, counting what it got."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    hits = []

    class Redirect(BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            self.send_response(302)
            self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    server.hits = hits
    yield server
    server.shutdown()
    server.server_close()


def test_a_video_url_that_redirects_is_not_followed(redirecting_server):
    from recognition.face_service import video

    url = f"http://127.0.0.1:{redirecting_server.server_address[1]}/video.mp4"

    with pytest.raises(video.VideoUnreadable, match="redirect"), video.open_video(url):
        pass
    assert redirecting_server.hits == ["/video.mp4"]


def test_a_video_url_on_a_link_local_address_is_never_fetched():
    from recognition.face_service import video

    with pytest.raises(video.VideoUnreadable, match="may not point"), video.open_video("http://169.254.169.254/v.mp4"):
        pass


def test_a_provider_endpoint_on_a_blocked_range_is_refused(admin_client, settings):
    settings.OUTBOUND_BLOCKED_RANGES = ["loopback", "link-local"]
    body = {"kind": "http", "endpoint": "http://127.0.0.1:8001/detect", "apiKey": "k"}

    response = admin_client.put(URL, body, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["details"]["field"] == "endpoint"
