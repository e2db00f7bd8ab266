"""A stored camera password never follows a changed address: ``***`` keeps it only for the same scheme,
host and port."""

from __future__ import annotations

import shutil
import socket
import time

import pytest

from cameras.models import Camera, Snapshot
from cameras.streams import LOCAL_FILE_REFUSED
from cameras.vision.decoder import DecoderSettings, StreamDecoder
from config import outbound

pytestmark = pytest.mark.django_db

CAMERAS = "/api/v1/cameras"
SECRET = "s3cr3t-Pa55"


@pytest.fixture
def camera_id(admin_client) -> str:
    body = {"name": "Gate", "streamType": "RTSP", "streamUrl": f"rtsp://admin:{SECRET}@10.10.1.12:554/s1"}
    response = admin_client.post(CAMERAS, {**body, "enabled": False}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()["data"]["id"]


def patch(client, camera_id: str, url: str):
    return client.patch(f"{CAMERAS}/{camera_id}", {"streamUrl": url}, format="json")


def test_masked_password_pointed_at_another_host_is_refused(admin_client, camera_id):
    response = patch(admin_client, camera_id, "rtsp://admin:***@attacker.example:554/x")

    assert response.status_code == 400
    assert response.json()["error"]["details"]["field"] == "streamUrl"
    camera = Camera.objects.get(pk=camera_id)
    assert (camera.stream_url, camera.stream_password) == ("rtsp://admin@10.10.1.12:554/s1", SECRET)


@pytest.mark.parametrize(
    "url",
    ["rtsp://admin:***@10.10.1.12:8554/s1", "rtsps://admin:***@10.10.1.12:554/s1", "http://admin:***@10.10.1.12/"],
)
def test_masked_password_with_another_port_or_scheme_is_refused(admin_client, camera_id, url):
    stream_type = "HTTP" if url.startswith("http") else "RTSP"
    response = admin_client.patch(
        f"{CAMERAS}/{camera_id}", {"streamUrl": url, "streamType": stream_type}, format="json"
    )

    assert response.status_code == 400
    assert Camera.objects.get(pk=camera_id).stream_url == "rtsp://admin@10.10.1.12:554/s1"


def test_masked_password_is_kept_for_another_path_on_the_same_address(admin_client, camera_id):
    response = patch(admin_client, camera_id, "rtsp://admin:***@10.10.1.12/s2")  # 554 is rtsp's own port

    assert response.status_code == 200, response.json()
    camera = Camera.objects.get(pk=camera_id)
    assert (camera.stream_url, camera.stream_password) == ("rtsp://admin@10.10.1.12/s2", SECRET)


def test_a_new_address_with_its_own_password_is_accepted(admin_client, camera_id):
    response = patch(admin_client, camera_id, "rtsp://admin:other@10.10.1.13:554/s1")

    assert response.status_code == 200
    assert Camera.objects.get(pk=camera_id).stream_password == "other"


def test_the_003_edge_config_refuses_the_masked_password_on_another_host(admin_client, camera_id):
    response = admin_client.put(
        f"/config/cameras/{camera_id}", {"rtsp_url": "rtsp://admin:***@attacker.example/x"}, format="json"
    )

    assert response.status_code in (400, 422)
    assert Camera.objects.get(pk=camera_id).stream_password == SECRET


# --- Local files: confined to the camera files folder, one answer whatever the path -------------------


@pytest.fixture
def camera_files(tmp_path, settings):
    root = tmp_path / "camera-files"
    root.mkdir()
    (root / "lobby.mp4").write_bytes(b"\0")
    settings.CAMERA_FILES_ROOT = root
    return root


def create_local(client, url: str):
    body = {"name": "Lobby", "streamType": "Local File", "streamUrl": url, "enabled": False}
    return client.post(CAMERAS, body, format="json")


def test_a_local_file_inside_the_folder_is_accepted(admin_client, camera_files):
    assert create_local(admin_client, str(camera_files / "lobby.mp4")).status_code == 201


@pytest.mark.parametrize("path", ["/etc/passwd", "/etc/no-such-file", "/etc", "../../etc/passwd"])
def test_paths_outside_the_folder_get_one_generic_answer(admin_client, camera_files, path):
    response = create_local(admin_client, path)

    assert response.status_code == 400
    issue = response.json()["error"]["details"]["issue"]
    assert issue == "Local file must be the full path of a video file in ARGUS_CAMERA_FILES_ROOT"


def test_a_symlink_out_of_the_folder_is_refused(admin_client, camera_files):
    (camera_files / "escape.mp4").symlink_to("/etc/passwd")

    assert create_local(admin_client, str(camera_files / "escape.mp4")).status_code == 400


def test_climbing_out_with_dot_dot_is_refused(admin_client, camera_files):
    assert create_local(admin_client, f"{camera_files}/../../../etc/passwd").status_code == 400


@pytest.fixture
def swapped_link(admin_client, camera_files, stream_clip):
    """A camera saved on a symlink to a video inside the folder, then the symlink swapped for one to a video
    outside it (a real video, which ffmpeg would play if it were opened)."""
    inside = camera_files / "clips" / "inside.mp4"
    inside.parent.mkdir()
    shutil.copyfile(stream_clip.path, inside)
    link = camera_files / "door.mp4"
    link.symlink_to(inside)
    response = create_local(admin_client, str(link))
    assert response.status_code == 201, response.content
    camera_id = response.json()["data"]["id"]
    tested = admin_client.post(f"{CAMERAS}/{camera_id}/test-connection").json()["data"]
    assert tested["success"], tested  # the file plays while the link stays in the folder

    link.unlink()
    link.symlink_to(stream_clip.path)  # outside the folder
    return camera_id, link


def test_a_symlink_swapped_after_saving_is_refused_by_the_probe(admin_client, swapped_link):
    camera_id, _link = swapped_link

    tested = admin_client.post(f"{CAMERAS}/{camera_id}/test-connection").json()["data"]

    assert not tested["success"]
    assert tested["message"] == f"Connection failed: {LOCAL_FILE_REFUSED}"


def test_a_symlink_swapped_after_saving_is_refused_by_the_snapshot(admin_client, swapped_link):
    camera_id, _link = swapped_link

    response = admin_client.post(f"{CAMERAS}/{camera_id}/snapshot")

    assert response.status_code == 503
    assert LOCAL_FILE_REFUSED in response.json()["error"]["message"]
    assert not Snapshot.objects.filter(camera_id=camera_id).exists()


def test_a_symlink_swapped_after_saving_is_refused_by_the_decoder(swapped_link):
    _camera_id, link = swapped_link
    decoder = StreamDecoder(DecoderSettings(url=str(link), stream_type="Local File")).start()
    try:
        deadline = time.monotonic() + 10
        while not decoder.stats.last_error and time.monotonic() < deadline:
            time.sleep(0.05)
        assert decoder.stats.last_error == LOCAL_FILE_REFUSED
        assert decoder.stats.connects == 0  # ffmpeg never started on it
    finally:
        decoder.stop()


# --- Configuration errors are not outages --------------------------------------------------------------


@pytest.fixture
def unconfigured(admin_client) -> str:
    response = admin_client.post(CAMERAS, {"name": "Bare", "streamType": "RTSP", "enabled": False}, format="json")
    assert response.status_code == 201, response.content
    return response.json()["data"]["id"]


@pytest.mark.parametrize("action", ["test-connection", "snapshot"])
def test_a_camera_without_a_stream_url_answers_409_not_503(admin_client, unconfigured, action):
    response = admin_client.post(f"{CAMERAS}/{unconfigured}/{action}")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "CAMERA_NOT_CONFIGURED"


def test_the_003_test_of_a_camera_without_a_stream_url_answers_409(admin_client, unconfigured):
    response = admin_client.post(f"/config/cameras/{unconfigured}/test")

    assert response.status_code == 409
    assert response.json()["error_code"] == "CAMERA_NOT_CONFIGURED"


@pytest.mark.parametrize("field", ["name", "location"])
def test_control_characters_in_names_are_refused(admin_client, field):
    body = {"name": "Gate", "streamType": "RTSP", "enabled": False, field: "Gate\x1b[31m\r\nFAKE LOG LINE"}

    response = admin_client.post(CAMERAS, body, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["details"]["field"] == field
    assert not Camera.objects.exists()


# --- The outbound policy ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    ["rtsp://169.254.169.254/latest", "http://169.254.169.254/latest/meta-data/", "rtsp://[fe80::1]/x"],
)
def test_a_stream_url_on_a_link_local_address_is_refused(admin_client, url):
    stream_type = "HTTP" if url.startswith("http") else "RTSP"
    body = {"name": "Meta", "streamType": stream_type, "streamUrl": url, "enabled": False}

    response = admin_client.post(CAMERAS, body, format="json")

    assert response.status_code == 400
    assert "may not point at this address" in response.json()["error"]["details"]["issue"]


def test_loopback_is_refused_when_the_policy_blocks_it(admin_client, settings):
    settings.OUTBOUND_BLOCKED_RANGES = ["loopback", "link-local"]
    body = {"name": "Self", "streamType": "RTSP", "streamUrl": "rtsp://localhost:8554/x", "enabled": False}

    assert admin_client.post(CAMERAS, body, format="json").status_code == 400


def test_private_addresses_are_allowed_unless_blocked(admin_client, settings):
    body = {"name": "Lan", "streamType": "RTSP", "streamUrl": "rtsp://10.1.2.3/x", "enabled": False}
    assert admin_client.post(CAMERAS, body, format="json").status_code == 201

    settings.OUTBOUND_BLOCKED_RANGES = ["private"]
    assert admin_client.post(CAMERAS, {**body, "streamUrl": "rtsp://10.1.2.4/x"}, format="json").status_code == 400


# --- DNS rebinding: ffmpeg opens an RTSP camera at the address the policy checked ----------------------


class RebindingDns:
    """Answers ``first`` to the first lookup and ``then`` to every later one (a DNS server rebinding)."""

    def __init__(self, first: str, then: str) -> None:
        self.first, self.then = first, then
        self.lookups = 0

    def __call__(self, host, port, *args, **kwargs):
        self.lookups += 1
        address = self.first if self.lookups == 1 else self.then
        return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, port or 0))]


def on_name(url: str, name: str) -> str:
    return url.replace("127.0.0.1", name, 1)


def test_an_rtsp_camera_on_a_name_is_probed_at_the_checked_address(admin_client, rtsp_server, monkeypatch):
    # .test is answered by no real resolver: a frame read means ffmpeg connected to the address checked.
    monkeypatch.setattr(outbound, "resolve", RebindingDns(first="127.0.0.1", then="127.0.0.1"))
    body = {"name": "Named", "streamType": "RTSP", "streamUrl": on_name(rtsp_server.url, "gate.argus.test")}
    camera_id = admin_client.post(CAMERAS, {**body, "enabled": False}, format="json").json()["data"]["id"]

    tested = admin_client.post(f"{CAMERAS}/{camera_id}/test-connection").json()["data"]

    assert tested["success"], tested
    assert tested["resolution"] == f"{rtsp_server.clip.width}x{rtsp_server.clip.height}"


def test_an_rtsp_camera_whose_name_rebinds_to_a_blocked_address_is_not_opened(
    admin_client, rtsp_server, monkeypatch, settings
):
    settings.OUTBOUND_BLOCKED_RANGES = ["link-local"]
    monkeypatch.setattr(outbound, "resolve", RebindingDns(first="127.0.0.1", then="169.254.169.254"))
    body = {"name": "Named", "streamType": "RTSP", "streamUrl": on_name(rtsp_server.url, "gate.argus.test")}
    response = admin_client.post(CAMERAS, {**body, "enabled": False}, format="json")
    assert response.status_code == 201, response.content  # checked at save: the first answer
    camera_id = response.json()["data"]["id"]

    tested = admin_client.post(f"{CAMERAS}/{camera_id}/test-connection").json()["data"]
    snapshot = admin_client.post(f"{CAMERAS}/{camera_id}/snapshot")

    assert not tested["success"] and "may not point at this address" in tested["message"]
    assert snapshot.status_code == 503 and "may not point at this address" in snapshot.json()["error"]["message"]
