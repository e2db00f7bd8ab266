"""Counting a camera's live stream: the generated video served over real RTSP on loopback, counted by the
task (called directly and run by a real Celery worker), the dispatcher, and the per-camera lock."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.db.models import Sum

from cameras import services
from cameras.models import Camera
from cameras.rtsp_server import RtspTestServer, free_port
from counting.models import CountRecord
from counting.tasks import count_camera_stream, run_counting
from counting.video import live, locks, storage
from counting.video.synthetic import short_scene

CLIP = "walkway.mp4"
SET_UP = {
    "enabled": True,
    "mode": "line",
    "line": {"x1": 40, "y1": 180, "x2": 600, "y2": 180},
    "in_side": "right",
    "frame": {"width": 640, "height": 360},
    "interval": 10,
}


@dataclass(frozen=True)
class Served:
    server: RtspTestServer

    def url(self, loop: bool = False) -> str:
        return self.server.url(CLIP, loop=loop)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The short scene (2 in, 1 out over 10 s) as H.264, on an RTSP server on a free local port."""
    directory = tmp_path_factory.mktemp("counting-rtsp")
    short_scene().render(directory / CLIP)
    with RtspTestServer(directory, log_path=Path(directory) / "server.log") as server:
        yield Served(server)


def counting_camera(camera_id: str, url: str, **set_up) -> Camera:
    return services.create_camera(
        {
            "id": camera_id,
            "name": f"Walkway {camera_id}",
            "stream_url": url,
            "metadata": {"counting": {**SET_UP, **set_up}},
        }
    )


def stored_total(camera_id: str) -> int:
    return CountRecord.objects.filter(camera_id=camera_id).aggregate(total=Sum("count"))["total"] or 0


@pytest.mark.django_db
def test_the_task_counts_a_real_rtsp_stream_exactly(served):
    counting_camera("CAM-41", served.url())
    result = count_camera_stream("CAM-41", 60)
    assert (result["status"], result["in"], result["out"]) == ("done", 2, 1)
    assert result["stopped"] == "end of stream"
    assert result["frames"] >= 240  # 250 frames sent; a frame or two may be lost while ffmpeg joins
    records = CountRecord.objects.filter(camera_id="CAM-41")
    assert stored_total("CAM-41") == 3
    assert {r.source for r in records} == {"video"} and {r.zone_id for r in records} == {"line"}
    assert records.count() == result["intervals"] >= 1


@pytest.mark.django_db
def test_the_run_leaves_its_in_out_split_for_the_dashboard(served):
    counting_camera("CAM-42", served.url())
    count_camera_stream("CAM-42", 60)
    status = storage.read_status(["CAM-42"])["CAM-42"]
    assert status["running"] is False
    assert status["run_totals"] == {"in": 2, "out": 1}
    assert sum(entry["in"] for entry in status["recent"]) == 2
    assert locks.owner("CAM-42") is None  # released


@pytest.mark.django_db
def test_a_run_stops_at_its_time_limit(served):
    counting_camera("CAM-43", served.url(loop=True))
    started = time.monotonic()
    result = count_camera_stream("CAM-43", 4)
    assert result["stopped"] == "time limit"
    assert time.monotonic() - started < 20
    assert result["frames"] > 0


@pytest.mark.django_db
def test_a_dead_stream_fails_within_its_time(served):
    counting_camera("CAM-44", f"rtsp://127.0.0.1:{free_port()}/none.mp4")
    started = time.monotonic()
    result = count_camera_stream("CAM-44", 5)
    assert result["status"] == "failed" and result["frames"] == 0
    assert result["error"]
    assert time.monotonic() - started < 20
    assert CountRecord.objects.filter(camera_id="CAM-44").count() == 0


@pytest.mark.django_db
def test_a_camera_being_counted_is_not_counted_twice(served):
    counting_camera("CAM-45", served.url())
    token = locks.acquire("CAM-45", 60)
    try:
        result = count_camera_stream("CAM-45", 30)
    finally:
        locks.release("CAM-45", token)
    assert (result["status"], result["stopped"]) == ("skipped", "already being counted")


@pytest.mark.django_db
def test_a_camera_without_a_set_up_is_skipped():
    services.create_camera({"id": "CAM-46", "name": "Plain", "stream_url": "rtsp://127.0.0.1:9/x"})
    assert count_camera_stream("CAM-46", 5)["stopped"] == "no counting set-up"
    assert count_camera_stream("CAM-99", 5)["stopped"] == "no such camera"


@pytest.fixture
def queued(monkeypatch) -> list[tuple]:
    """Runs the dispatcher queues, as (args, kwargs, options), instead of sending them to a broker."""
    calls: list[tuple] = []

    def record(args, kwargs, **options):
        calls.append((args, kwargs, options))

    monkeypatch.setattr(count_camera_stream, "apply_async", record)
    return calls


@pytest.mark.django_db
def test_the_dispatcher_starts_one_run_per_camera_marked_for_counting(queued):
    counting_camera("CAM-51", "rtsp://127.0.0.1:9/a")
    counting_camera("CAM-52", "rtsp://127.0.0.1:9/b", enabled=False)
    services.create_camera({"id": "CAM-53", "name": "Off", "stream_url": "rtsp://127.0.0.1:9/c", "enabled": False,
                            "metadata": {"counting": SET_UP}})  # fmt: skip
    counting_camera("CAM-54", "")
    services.create_camera({"id": "CAM-55", "name": "Broken", "stream_url": "rtsp://127.0.0.1:9/e",
                            "metadata": {"counting": {**SET_UP, "line": {"x1": 1}}}})  # fmt: skip
    answer = live.dispatch(120)
    assert answer["started"] == ["CAM-51"]
    assert answer["skipped"]["CAM-54"] == "no stream URL"
    assert answer["skipped"]["CAM-55"].startswith("invalid set-up")
    ((args, kwargs, options),) = queued
    assert args == ("CAM-51", 120.0)
    assert kwargs["lock_token"] == locks.owner("CAM-51")
    assert options == {}  # the default queue


@pytest.mark.django_db
def test_runs_can_have_a_queue_of_their_own(queued, settings):
    settings.COUNTING_VIDEO_QUEUE = "counting"
    counting_camera("CAM-59", "rtsp://127.0.0.1:9/a")
    live.dispatch(60)
    assert queued[0][2] == {"queue": "counting"}


@pytest.mark.django_db
def test_the_dispatcher_skips_cameras_already_being_counted(queued):
    counting_camera("CAM-56", "rtsp://127.0.0.1:9/a")
    assert live.dispatch(60)["started"] == ["CAM-56"]
    assert live.dispatch(60) == {"started": [], "skipped": {"CAM-56": "already being counted"}}
    assert len(queued) == 1


def test_locks_belong_to_their_owner():
    token = locks.acquire("CAM-57", 30)
    assert token and locks.acquire("CAM-57", 30) is None
    assert not locks.release("CAM-57", "someone-else")
    assert locks.extend("CAM-57", token, 60)
    assert locks.release("CAM-57", token)
    assert locks.owner("CAM-57") is None


def test_a_lock_expires_on_its_own():
    assert locks.acquire("CAM-58", 1.0)
    time.sleep(1.2)
    assert locks.acquire("CAM-58", 1.0) is not None


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_real_worker_counts_a_camera_started_by_the_dispatcher(celery_worker_process, served):
    counting_camera("CAM-61", served.url())
    run_counting.delay(60)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if stored_total("CAM-61") == 3 and locks.owner("CAM-61") is None:
            break
        time.sleep(0.5)
    assert stored_total("CAM-61") == 3
    assert locks.owner("CAM-61") is None
    assert storage.read_status(["CAM-61"])["CAM-61"]["run_totals"] == {"in": 2, "out": 1}


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_real_worker_returns_the_runs_figures(celery_worker_process, served):
    counting_camera("CAM-62", served.url())
    result = count_camera_stream.delay("CAM-62", 60).get(timeout=120)
    assert (result["status"], result["in"], result["out"]) == ("done", 2, 1)
    assert stored_total("CAM-62") == 3


@pytest.mark.django_db
def test_beat_dispatches_counting_runs_every_minute():
    from django_celery_beat.models import PeriodicTask

    schedule = PeriodicTask.objects.select_related("interval").get(name="Count people from video")
    assert schedule.task == "counting.run_counting"
    assert schedule.enabled
    assert (schedule.interval.every, schedule.interval.period) == (60, "seconds")
