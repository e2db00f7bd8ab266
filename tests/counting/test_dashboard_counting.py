"""The Counting dashboard page: who may see it, what it shows, and saving a camera's set-up (validated)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from cameras import services
from cameras.models import Camera, Snapshot
from cameras.rtsp_server import RtspTestServer, free_port, make_test_clip
from counting.video import locks, storage
from counting.video.runner import IntervalCount
from tests.conftest import signed_in
from tests.factories import CameraFactory, SnapshotFactory, role_user

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


def setup_url(camera_id: str = "CAM-21") -> str:
    return reverse("counting:setup", args=[camera_id])


def save(client: Client, body, camera_id: str = "CAM-21"):
    return client.post(setup_url(camera_id), data=json.dumps(body), content_type="application/json")


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


@pytest.mark.parametrize("count", [5, 10])
def test_the_status_costs_the_same_queries_for_many_cameras(admin, count, django_assert_max_num_queries):
    CameraFactory.create_batch(count)

    with django_assert_max_num_queries(4):
        answer = admin.get(reverse("counting:status")).json()

    assert len(answer) == count


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
    panels = json.loads(page.split('id="counting-panels" type="application/json">')[1].split("</script>")[0])
    assert panels[0]["counting"]["line"] == LINE_SET_UP["line"]
    assert panels[0]["setup_url"] == setup_url()


def test_a_broken_set_up_is_flagged(admin, camera):
    services.update_camera(camera, {"metadata": {"counting": {"mode": "zone", "zone": {"points": []}}}})
    assert "invalid</span>" in admin.get(PAGE).content.decode()


def test_the_latest_snapshot_is_the_backdrop(admin, camera):
    from django.utils import timezone

    SnapshotFactory(camera=camera, storage_key="snapshots/CAM-21/x.jpg", width=640, height=360,
                            taken_at=timezone.now())  # fmt: skip
    page = admin.get(PAGE).content.decode()
    panels = json.loads(page.split('id="counting-panels" type="application/json">')[1].split("</script>")[0])
    assert panels[0]["backdrop"]["width"] == 640
    assert "snapshots/CAM-21/x.jpg" in panels[0]["backdrop"]["url"]


# --- Status for the tiles -----------------------------------------------------------------------------------


def test_status_gives_the_in_out_split_of_the_last_interval(admin, camera):
    interval = IntervalCount(start=1_700_000_000.0, end=1_700_000_060.0, entered=4, exited=2)
    storage.update_status("CAM-21", running=True, interval=interval, totals={"in": 9, "out": 5})
    token = locks.acquire("CAM-21", 30)
    try:
        answer = admin.get(reverse("counting:status")).json()
    finally:
        locks.release("CAM-21", token)
    state = answer["CAM-21"]
    assert state["running"] and state["counting"]
    assert (state["last_interval"]["in"], state["last_interval"]["out"]) == (4, 2)
    assert state["run_totals"] == {"in": 9, "out": 5}


def test_status_of_a_camera_never_counted(admin, camera):
    state = admin.get(reverse("counting:status")).json()["CAM-21"]
    assert state == {"counting": False, "running": False, "last_interval": None, "run_totals": None, "updated": None,
                     "stopped": "", "error": ""}  # fmt: skip


def test_status_answers_json_refusals():
    assert Client().get(reverse("counting:status")).status_code == 401


def test_status_needs_counts_read(viewer_user):
    response = signed_in(viewer_user).get(reverse("counting:status"))
    assert response.status_code == 403 and "counts:read" in response.json()["error"]


# --- Saving the set-up ------------------------------------------------------------------------------------


def test_a_valid_line_is_saved_into_the_cameras_metadata(admin, camera):
    response = save(admin, {**LINE_SET_UP, "version": camera.version})
    assert response.status_code == 200
    camera.refresh_from_db()
    assert camera.metadata["counting"] == {**LINE_SET_UP, "line": {"x1": 10.0, "y1": 200.0, "x2": 620.0, "y2": 200.0}}
    assert response.json()["version"] == camera.version


def test_other_metadata_is_kept(admin):
    services.create_camera({"id": "CAM-22", "name": "Gate", "metadata": {"owner": "facilities"}})
    assert save(admin, LINE_SET_UP, "CAM-22").status_code == 200
    assert Camera.objects.get(pk="CAM-22").metadata["owner"] == "facilities"


def test_a_valid_zone_is_saved(admin, camera):
    zone = {"type": "polygon", "points": [{"x": 10, "y": 10}, {"x": 200, "y": 10}, {"x": 200, "y": 150}]}
    response = save(admin, {"mode": "zone", "zone": zone, "frame": {"width": 640, "height": 360}})
    assert response.status_code == 200
    camera.refresh_from_db()
    assert camera.metadata["counting"]["mode"] == "zone"
    assert len(camera.metadata["counting"]["zone"]["points"]) == 3


def test_a_line_needs_two_points(admin, camera):
    response = save(admin, {**LINE_SET_UP, "line": {"x1": 10, "y1": 20, "x2": None, "y2": None}})
    assert response.status_code == 400
    assert "2 points" in response.json()["errors"]["line"]
    camera.refresh_from_db()
    assert "counting" not in camera.metadata


def test_a_line_point_outside_the_frame_is_refused(admin, camera):
    response = save(admin, {**LINE_SET_UP, "line": {"x1": 10, "y1": 20, "x2": 700, "y2": 20}})
    assert response.status_code == 400
    assert "inside the 640x360 frame" in response.json()["errors"]["line"]


def test_without_a_frame_in_the_body_the_cameras_size_applies(admin, camera):
    body = {key: value for key, value in LINE_SET_UP.items() if key != "frame"}
    response = save(admin, {**body, "line": {"x1": 10, "y1": 20, "x2": 1000, "y2": 20}})
    assert response.status_code == 400 and "640x360" in response.json()["errors"]["line"]


def test_a_zone_needs_three_points(admin, camera):
    response = save(admin, {"mode": "zone", "zone": {"points": [{"x": 1, "y": 1}, {"x": 50, "y": 50}]}})
    assert response.status_code == 400
    assert "at least 3 points" in response.json()["errors"]["zone"]


def test_every_problem_is_listed(admin, camera):
    response = save(admin, {"mode": "line", "line": {"x1": 1}, "interval": 1, "in_side": "up"})
    assert set(response.json()["errors"]) == {"line", "interval", "in_side"}


def test_a_stale_version_is_refused(admin, camera):
    services.update_camera(camera, {"name": "Lobby (renamed)"})
    response = save(admin, {**LINE_SET_UP, "version": camera.version})
    assert response.status_code == 409


def test_a_body_that_is_not_json_is_refused(admin, camera):
    response = admin.post(setup_url(), data="x=1", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400


def test_the_set_up_can_be_removed(admin, camera):
    save(admin, LINE_SET_UP)
    assert save(admin, {"remove": True}).json() == {"counting": None, "version": camera.version + 2}
    camera.refresh_from_db()
    assert "counting" not in camera.metadata


def test_saving_needs_cameras_write(reader, camera):
    response = save(reader, LINE_SET_UP)
    assert response.status_code == 403
    assert "cameras:write" in response.json()["error"]


def test_saving_needs_a_signed_in_user(camera):
    assert save(Client(), LINE_SET_UP).status_code == 401


def test_saving_needs_the_csrf_token(admin_user, camera):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    assert save(client, LINE_SET_UP).status_code == 403


def test_saving_is_a_post(admin, camera):
    assert admin.get(setup_url()).status_code == 405


def test_an_unknown_camera_is_404(admin):
    assert save(admin, LINE_SET_UP, "CAM-404").status_code == 404


# --- Snapshots to draw on ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def test_stream(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    directory = tmp_path_factory.mktemp("counting-snapshot")
    make_test_clip(directory / "pattern.mp4", seconds=3, size=(640, 360))
    with RtspTestServer(directory, log_path=Path(directory) / "server.log") as server:
        yield server.url("pattern.mp4", loop=True)


def test_a_snapshot_is_taken_to_draw_on(admin, test_stream):
    services.create_camera({"id": "CAM-23", "name": "Live", "stream_url": test_stream})
    response = admin.post(reverse("counting:snapshot", args=["CAM-23"]))
    assert response.status_code == 200
    body = response.json()
    assert (body["width"], body["height"]) == (640, 360)
    assert body["url"]
    assert Snapshot.objects.filter(camera_id="CAM-23").count() == 1


def test_a_dead_stream_gives_no_snapshot(admin):
    services.create_camera({"id": "CAM-24", "name": "Dead", "stream_url": f"rtsp://127.0.0.1:{free_port()}/x"})
    response = admin.post(reverse("counting:snapshot", args=["CAM-24"]))
    assert response.status_code == 502
    assert "Could not grab a frame" in response.json()["error"]


def test_snapshots_need_cameras_write(reader, camera):
    assert reader.post(reverse("counting:snapshot", args=["CAM-21"])).status_code == 403
