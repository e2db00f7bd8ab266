"""The Counting dashboard page: who may see it, what it shows, and the API calls its script makes with the
page's token (the set-up, the counters, a snapshot to draw on). The API's own rules are in test_setup_api.py
and test_counters_api.py."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from cameras import services
from cameras.models import Camera, Snapshot
from cameras.rtsp_server import RtspTestServer, make_test_clip
from counting.video import storage
from counting.video.runner import IntervalCount
from tests.conftest import signed_in
from tests.factories import SnapshotFactory, role_user

pytestmark = pytest.mark.django_db

PAGE = "/counting/"
LINE_SET_UP = {
    "mode": "line",
    "line": {"x1": 10, "y1": 200, "x2": 620, "y2": 200},
    "in_side": "left",
    "interval": 30,
    "enabled": True,
    "frame": {"width": 640, "height": 360},
}


@pytest.fixture
def admin(admin_user) -> Client:
    return signed_in(admin_user)


@pytest.fixture
def reader() -> Client:
    """Sees counts, may not change cameras."""
    return signed_in(role_user("ROLE-COUNTS-READER", ["counts:read"]))


@pytest.fixture
def camera() -> Camera:
    return services.create_camera(
        {"id": "CAM-21", "name": "Lobby", "location": "Ground floor", "width": 640, "height": 360}
    )


def panels_of(page: str) -> list[dict]:
    return json.loads(page.split('id="counting-panels" type="application/json">')[1].split("</script>")[0])


def page_token(client: Client) -> APIClient:
    """An API client holding the token the page's script gets from the dashboard's token endpoint."""
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {client.get('/accounts/token/').json()['token']}")
    return api


# --- The page ---------------------------------------------------------------------------------------


def test_the_page_is_at_counting_dashboard():
    assert reverse("counting:dashboard") == PAGE


def test_anonymous_users_go_to_the_login_page():
    response = Client().get(PAGE)
    assert response.status_code == 302
    assert "login" in response["Location"]


def test_it_needs_counts_read(viewer_user):
    response = signed_in(viewer_user).get(PAGE)
    assert response.status_code == 403
    assert "counts:read" in response.content.decode()


def test_it_renders_a_tile_per_camera_for_an_admin(admin, camera):
    response = admin.get(PAGE)
    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-camera-id="CAM-21"' in page
    assert "Lobby" in page and "Ground floor" in page
    assert 'id="chart-hourly"' in page and 'id="chart-daily"' in page
    assert 'data-realtime-url="/api/v1/counts/realtime"' in page
    assert 'data-analytics-url="/api/v1/counts/analytics"' in page
    assert 'data-counters-url="/api/v1/counts/counters"' in page
    assert "argus/counting.js" in page


def test_it_is_in_the_navigation(admin):
    assert f'href="{PAGE}"' in admin.get(reverse("home")).content.decode()


@pytest.mark.parametrize("count", [15, 30])
def test_the_page_costs_the_same_queries_for_many_cameras(admin, count, django_assert_max_num_queries):
    from django.utils import timezone

    for number in range(count):
        camera = services.create_camera({"id": f"CAM-{number + 100}", "name": f"Camera {number}"})
        SnapshotFactory(camera=camera, storage_key=f"s/{number}.jpg", width=64, height=36, taken_at=timezone.now())
    with django_assert_max_num_queries(8):
        assert admin.get(PAGE).status_code == 200


def test_a_reader_sees_counts_but_no_set_up(reader, camera):
    response = reader.get(PAGE)
    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-camera-id="CAM-21"' in page
    assert 'details class="setup"' not in page


def test_an_admin_gets_the_set_up_panel_with_the_saved_set_up(admin, camera):
    services.update_camera(camera, {"metadata": {"counting": LINE_SET_UP}})
    page = admin.get(PAGE).content.decode()
    assert 'details class="setup" data-camera-id="CAM-21"' in page
    panels = panels_of(page)
    assert panels[0]["counting"]["line"] == LINE_SET_UP["line"]
    assert panels[0]["setup_url"] == "/api/v1/cameras/CAM-21/counting"
    assert panels[0]["snapshot_url"] == "/api/v1/cameras/CAM-21/snapshot"


def test_a_broken_set_up_is_flagged(admin, camera):
    services.update_camera(camera, {"metadata": {"counting": {"mode": "zone", "zone": {"points": []}}}})
    assert "invalid</span>" in admin.get(PAGE).content.decode()


def test_the_latest_snapshot_is_the_backdrop(admin, camera):
    from django.utils import timezone

    SnapshotFactory(camera=camera, storage_key="snapshots/CAM-21/x.jpg", width=640, height=360,
                            taken_at=timezone.now())  # fmt: skip
    page = admin.get(PAGE).content.decode()
    panels = panels_of(page)
    assert panels[0]["backdrop"]["width"] == 640
    assert "snapshots/CAM-21/x.jpg" in panels[0]["backdrop"]["url"]


# --- What the page's script calls, with the page's token ------------------------------------------------


def test_the_save_button_stores_the_set_up_through_the_api(admin, camera):
    panel = panels_of(admin.get(PAGE).content.decode())[0]

    response = page_token(admin).put(panel["setup_url"], {**LINE_SET_UP, "version": panel["version"]}, format="json")

    assert response.status_code == 200
    camera.refresh_from_db()
    assert camera.metadata["counting"]["line"] == {"x1": 10.0, "y1": 200.0, "x2": 620.0, "y2": 200.0}
    assert response.json()["version"] == camera.version


def test_the_remove_button_takes_the_set_up_out_through_the_api(admin, camera):
    services.update_camera(camera, {"metadata": {"counting": LINE_SET_UP}})
    panel = panels_of(admin.get(PAGE).content.decode())[0]

    response = page_token(admin).delete(f"{panel['setup_url']}?version={panel['version']}")

    assert response.status_code == 200 and response.json()["counting"] is None
    camera.refresh_from_db()
    assert "counting" not in camera.metadata


def test_a_readers_token_cannot_save_a_set_up(reader, camera):
    panel = panels_of(reader.get(PAGE).content.decode())[0]

    response = page_token(reader).put(panel["setup_url"], LINE_SET_UP, format="json")

    assert response.status_code == 403


def test_the_tiles_read_the_counters_in_out_split(reader, camera):
    interval = IntervalCount(start=1_700_000_000.0, end=1_700_000_060.0, entered=4, exited=2)
    storage.update_status("CAM-21", running=True, interval=interval, totals={"in": 9, "out": 5})
    url = re.search(r'data-counters-url="([^"]+)"', reader.get(PAGE).content.decode()).group(1)

    response = page_token(reader).get(url)

    assert response.status_code == 200
    [state] = response.json()
    assert (state["camera_id"], state["last_interval"]["in"], state["last_interval"]["out"]) == ("CAM-21", 4, 2)


def test_the_pages_own_session_endpoints_are_gone(admin, camera):
    assert admin.get("/counting/status/").status_code == 404
    assert admin.post("/counting/CAM-21/setup/").status_code == 404
    assert admin.post("/counting/CAM-21/snapshot/").status_code == 404


# --- Snapshots to draw on ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def test_stream(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    directory = tmp_path_factory.mktemp("counting-snapshot")
    make_test_clip(directory / "pattern.mp4", seconds=3, size=(640, 360))
    with RtspTestServer(directory, log_path=Path(directory) / "server.log") as server:
        yield server.url("pattern.mp4", loop=True)


def test_the_snapshot_button_takes_a_picture_to_draw_on(admin, test_stream):
    services.create_camera({"id": "CAM-23", "name": "Live", "stream_url": test_stream})
    panel = panels_of(admin.get(PAGE).content.decode())[0]

    response = page_token(admin).post(panel["snapshot_url"])

    assert response.status_code == 201
    body = response.json()["data"]
    assert (body["width"], body["height"]) == (640, 360)
    assert body["url"]
    assert Snapshot.objects.filter(camera_id="CAM-23").count() == 1
