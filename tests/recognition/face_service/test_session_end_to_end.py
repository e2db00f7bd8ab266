"""A whole session, end to end, with real parts: the API starts it, a real vision worker watches a real RTSP
stream of a video made from face photographs (two enrolled students and a visitor), matches the faces
against the students sent in the request and reports them at the scanInterval; a real Celery worker posts
the recognitions to a local HTTP peer that fails the first two attempts; the retries with exponential
backoff get the batch through, and stop-session sums up. And counting and a session on one camera: one
decoder."""

from __future__ import annotations

import itertools
import time
from datetime import datetime

import psutil
import pytest

from cameras import services
from cameras.vision import health
from counting.video import live as counting_live
from counting.video import storage
from counting.video.synthetic import short_scene
from recognition.choices import FACE_MODELS
from recognition.face_service.choices import DeliveryStatus
from recognition.models import CallbackDelivery, SessionCamera
from tests.integrations.peers import HttpPeer
from tests.recognition.face_service.conftest import CLASSROOM, session_payload

BACKOFF_MS = 200


def wait_for(condition, timeout: float = 120.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"not reached within {timeout:g} s")


@pytest.fixture
def flaky_backend():
    peer = HttpPeer(fail_first=2, failure_status=503)
    yield peer
    peer.stop()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_session_scans_a_real_stream_and_delivers_through_a_flaky_callback(
    celery_worker_process,
    vision_worker_processes,
    post,
    settings,
    classroom_stream,
    dead_stream,
    student_embeddings,
    flaky_backend,
):
    settings.FACE_SERVICE_CALLBACK_BACKOFF_MS = BACKOFF_MS
    body = session_payload(
        student_embeddings, [classroom_stream, dead_stream], flaky_backend.url, similarityThreshold=0.85
    )
    started = post("recognition/process-session", body)
    assert started.status_code == 200, started.content
    assert (started.json()["data"]["activeCameras"], started.json()["data"]["failedCameras"]) == (1, 1)
    vision_worker_processes("worker-a")

    wait_for(lambda: flaky_backend.accepted)
    # The first two attempts were refused (503); the third, after the backoff, was taken.
    assert [r.status for r in flaky_backend.requests] == [503, 503, 200]
    assert len({r.body for r in flaky_backend.requests}) == 1
    batch = flaky_backend.accepted[0].json
    assert sorted(item["userId"] for item in batch["recognitions"]) == [201, 202]  # not 203, nor the visitor
    assert all(item["confidence"] >= 1 - FACE_MODELS["Dlib"].threshold for item in batch["recognitions"])

    delivery = wait_for(lambda: CallbackDelivery.objects.filter(status=DeliveryStatus.DELIVERED).first())
    assert delivery.attempts == 3
    moments = [datetime.fromisoformat(entry["at"].replace("Z", "+00:00")) for entry in delivery.attempt_log]
    gaps = [round((b - a).total_seconds(), 3) for a, b in itertools.pairwise(moments)]
    print(f"\ncallback attempts {[e['status'] for e in delivery.attempt_log]}, gaps between them {gaps} s")
    # The backoff doubles: at least 0.2 s before the second attempt and 0.4 s before the third.
    assert gaps[0] >= BACKOFF_MS / 1000 and gaps[1] >= 2 * BACKOFF_MS / 1000

    # The worker goes on watching the live camera, reporting once a second, with no second delivery of anyone.
    camera = SessionCamera.objects.get(camera_id=1)
    wait_for(lambda: SessionCamera.objects.get(pk=camera.pk).scans >= camera.scans + 3)
    camera.refresh_from_db()
    print(f"scans {camera.scans}, faces {camera.faces_detected}, matched {camera.faces_matched}")
    assert camera.faces_matched < camera.faces_detected
    assert len(flaky_backend.accepted) == 1

    stopped = post("recognition/stop-session", {"slotId": 1})
    assert stopped.status_code == 200
    assert stopped.json()["data"]["totalRecognitions"] == 2


def ffmpeg_children(worker) -> list[psutil.Process]:
    try:
        return [child for child in psutil.Process(worker.pid).children(recursive=True) if "ffmpeg" in child.name()]
    except psutil.NoSuchProcess:
        return []


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_counting_and_a_session_on_one_camera_share_one_decoder(
    celery_worker_process, vision_worker_processes, post, classroom_stream, student_embeddings, http_peer
):
    set_up = {"enabled": True, "mode": "line", "line": {"x1": 0, "y1": 180, "x2": 960, "y2": 180},
              "in_side": "right", "frame": {"width": 960, "height": 360}, "interval": 10}  # fmt: skip
    services.create_camera(
        {"id": "CAM-A101", "name": "A101", "stream_url": classroom_stream, "metadata": {"counting": set_up}}
    )
    backend = http_peer()
    started = post("recognition/process-session", session_payload(student_embeddings, [classroom_stream], backend.url))
    assert started.status_code == 200, started.content

    worker = vision_worker_processes("worker-a")

    wait_for(lambda: backend.accepted)
    assert sorted(item["userId"] for item in backend.accepted[0].json["recognitions"]) == [201, 202]
    state = wait_for(lambda: [s for s in counting_live.counter_states(["CAM-A101"]) if s["counting"]])[0]
    assert state["running"]
    assert health.watched(["CAM-A101"]) == {"CAM-A101"}
    (decoder,) = ffmpeg_children(worker)  # one decoder for the camera, its counting and the session
    assert "fps=25," in " ".join(decoder.cmdline())  # at the highest rate asked: counting's


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_counting_counts_every_crossing_while_a_session_watches_the_same_camera(
    celery_worker_process, vision_worker_processes, post, videos, classroom_stream, student_embeddings, http_peer
):
    walkway = videos["rtsp_folder"] / "walkway.mp4"
    if not walkway.exists():
        short_scene(lead_in=4.0).render(walkway)  # 2 in, 1 out; played once per connection
    url = classroom_stream.split(CLASSROOM)[0] + walkway.name
    set_up = {"enabled": True, "mode": "line", "line": {"x1": 40, "y1": 180, "x2": 600, "y2": 180},
              "in_side": "right", "frame": {"width": 640, "height": 360}, "interval": 10}  # fmt: skip
    services.create_camera({"id": "CAM-W", "name": "Walkway", "stream_url": url, "metadata": {"counting": set_up}})
    started = post("recognition/process-session", session_payload(student_embeddings, [url], http_peer().url))
    assert started.status_code == 200, started.content

    vision_worker_processes("worker-a")

    run = wait_for(lambda: storage.read_status(["CAM-W"]).get("CAM-W", {}).get("last_run"))
    assert (run["in"], run["out"]) == (2, 1)
    camera = wait_for(lambda: SessionCamera.objects.filter(camera_id=1, scans__gt=0).first())
    assert camera.frames_processed > 0  # the session searched the moving frames of the same decoder
