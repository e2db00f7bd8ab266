"""Fixtures shared by every test: real PostgreSQL (pytest-django's test database on the embedded or
configured server), real Redis (keys under this run's own prefix, removed after each test), API
clients signed in as each role, and a real Celery worker process."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from rest_framework.test import APIClient

from accounts.tokens import issue_tokens
from config.redis import get_redis
from tests.documented import DocumentedResponses
from tests.factories import ApiKeyFactory, UserFactory, role_user
from tests.integrations.peers import HttpPeer, free_port

BASE_DIR = Path(__file__).resolve().parent.parent
SHARED_DATA = BASE_DIR.parent / "shared" / "data"


def pytest_addoption(parser):
    # On by default, so the document cannot drift from what the suite sees the server send (issue 17).
    parser.addoption(
        "--documented",
        action="store_true",
        default=os.environ.get("ARGUS_CHECK_DOCUMENTED", "1") != "0",
        help="Hold every answer the test clients receive against the OpenAPI document: a test whose answers the "
        "document does not describe fails. The default; --no-documented (or ARGUS_CHECK_DOCUMENTED=0) turns it off.",
    )
    parser.addoption("--no-documented", action="store_false", dest="documented", help="Skip the guard above.")


_guard_cost = {"answers": 0, "seconds": 0.0}


def pytest_terminal_summary(terminalreporter, config):
    if config.getoption("--documented") and _guard_cost["answers"]:
        from tests.documented import BUILD_SECONDS

        terminalreporter.write_line(
            f"--documented: {_guard_cost['answers']} answers checked in {_guard_cost['seconds']:.2f} s, "
            f"the document built in {sum(BUILD_SECONDS):.2f} s"
        )


@pytest.fixture
def documented_responses() -> Iterator[DocumentedResponses]:
    """Every answer a Django test client receives in the test, held against the OpenAPI document: what the
    document does not say is in ``.problems``."""
    with DocumentedResponses().watching() as ledger:
        yield ledger


@pytest.fixture(autouse=True)
def _every_response_documented(request):
    """With ``--documented``, each test's answers must be what the document says."""
    if (
        not request.config.getoption("--documented")
        or "documented_responses" in request.fixturenames
        or request.node.get_closest_marker("undocumented")
    ):
        yield
        return
    with DocumentedResponses().watching() as ledger:
        yield
    _guard_cost["answers"] += ledger.checked
    _guard_cost["seconds"] += ledger.seconds
    if ledger.problems and os.environ.get("ARGUS_DOCUMENTED_LOG"):  # a whole run's mismatches, in one file
        with open(os.environ["ARGUS_DOCUMENTED_LOG"], "a", encoding="utf-8") as log:
            log.writelines(f"{request.node.nodeid}\t{problem}\n" for problem in dict.fromkeys(ledger.problems))
    assert not ledger.problems, "answers the OpenAPI document does not describe:\n" + "\n".join(
        dict.fromkeys(ledger.problems)
    )


def _delete_run_keys() -> None:
    client = get_redis()
    for prefix in (f"{settings.REDIS_PREFIX}*", f":1:{settings.REDIS_PREFIX}*", f"*{settings.REDIS_PREFIX}*"):
        keys = list(client.scan_iter(match=prefix, count=1000))
        if keys:
            client.delete(*keys)


@pytest.fixture(autouse=True)
def _isolated_redis():
    """Each test starts with no rate-limit buckets, lockouts or cache entries of earlier tests."""
    _delete_run_keys()
    yield
    _delete_run_keys()


@pytest.fixture(autouse=True)
def _fresh_public_health():
    """Anonymous health answers are cached for a few seconds per process: each test checks afresh."""
    from config.api import health_views

    health_views._public_cache.clear()
    yield


@pytest.fixture(autouse=True)
def _fresh_process_copies():
    """Each test reads afresh what processes keep between requests (config.stamps copies, the live detections):
    the test database is rolled back and Redis emptied without anyone announcing it."""
    from accounts import authentication
    from config import stamps

    stamps.forget_all()
    authentication._validated_tokens.clear()
    yield


@pytest.fixture(autouse=True)
def _fresh_channel_layer():
    """Each test gets its own channel layer. channels_redis's layer holds asyncio locks that bind to the event
    loop that first waits on them; pytest-asyncio gives every async test a new loop, so a layer kept from an
    earlier test can fail ("bound to a different event loop") whenever a lock happened to be contended."""
    yield
    from channels.layers import channel_layers

    channel_layers.backends.clear()


@pytest.fixture(autouse=True)
def _media_root(tmp_path, settings):
    from django.core.files.storage import default_storage

    settings.MEDIA_ROOT = str(tmp_path / "media")
    default_storage.location = settings.MEDIA_ROOT
    default_storage.base_location = settings.MEDIA_ROOT
    yield


@pytest.fixture
def admin_user(db):
    return UserFactory(
        role_id="ROLE-ADMIN", email="admin@example.com", name="Ada Admin", is_staff=True, is_superuser=True
    )


@pytest.fixture
def operator_user(db):
    return UserFactory(role_id="ROLE-OPERATOR", email="operator@example.com", name="Otto Operator")


@pytest.fixture
def viewer_user(db):
    return UserFactory(role_id="ROLE-VIEWER", email="viewer@example.com", name="Vera Viewer")


@pytest.fixture
def api_client():
    return APIClient()


def client_for(user) -> APIClient:
    client = APIClient()
    pair = issue_tokens(user)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {pair.access}")
    client.tokens = pair
    return client


def role_client(role_id: str, permissions: list[str]) -> APIClient:
    """An API client signed in as someone whose role (created unless it exists) holds ``permissions``."""
    return client_for(role_user(role_id, permissions))


def key_client(*scopes: str, tier: str = "premium") -> APIClient:
    """A machine client: a new API key with ``scopes`` and ``tier`` (on ``client.key``)."""
    key = ApiKeyFactory(scopes=list(scopes), tier=tier)
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=key.raw)
    client.key = key
    return client


def bump_from_another_process(stamp: str) -> None:
    """What another process (a vision worker, Celery) does once its change commits: INCR the stamp in Redis,
    here from a process of its own, so that nothing of this process's memory is touched."""
    from django.core.cache import cache

    key = cache.make_and_validate_key(f"stamp:{stamp}")
    script = "import redis, sys; redis.Redis.from_url(sys.argv[1]).incr(sys.argv[2])"
    subprocess.run([sys.executable, "-c", script, settings.REDIS_URL, key], check=True, timeout=60)


def signed_in(user) -> Client:
    """A browser with ``user``'s dashboard session."""
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def admin_client(admin_user):
    return client_for(admin_user)


@pytest.fixture
def operator_client(operator_user):
    return client_for(operator_user)


@pytest.fixture
def viewer_client(viewer_user):
    return client_for(viewer_user)


@pytest.fixture
def api_key(db):
    return ApiKeyFactory()


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"{SHARED_DATA} is absent (a clone without ../shared); CI always has it")
    return SHARED_DATA


@pytest.fixture(scope="session")
def celery_worker_process(django_db_setup, django_db_blocker):
    """A real ``celery worker`` process on this run's queue, using the test database."""
    db = settings.DATABASES["default"]
    database_url = f"postgresql://{db['USER']}:{db.get('PASSWORD') or ''}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": settings.REDIS_URL,
        "ARGUS_TESTING": "1",
        "ARGUS_REDIS_PREFIX": settings.REDIS_PREFIX,
        "CELERY_TASK_DEFAULT_QUEUE": settings.CELERY_TASK_DEFAULT_QUEUE,
        "ARGUS_MEDIA_ROOT": str(BASE_DIR / "var" / "test-media"),
    }
    node = f"{settings.REDIS_PREFIX}@localhost"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool",
            "solo",
            "-l",
            "warning",
            "-n",
            node,
            "-Q",
            settings.CELERY_TASK_DEFAULT_QUEUE,
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=BASE_DIR,
        env=env,
    )
    from config.celery import app

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"celery worker exited with {process.returncode}")
        replies = app.control.ping(destination=[node], timeout=1.0)
        if replies:
            break
    else:
        process.terminate()
        raise RuntimeError("celery worker did not answer a ping within 60 s")
    yield process
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()


def test_database_url() -> str:
    """The URL of this run's test database, for processes the tests start."""
    db = settings.DATABASES["default"]
    return f"postgresql://{db['USER']}:{db.get('PASSWORD') or ''}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


def server_environment(**extra: str) -> dict[str, str]:
    """The environment a server the tests start needs (with ``config.webtier.serve_locally``) to use this run's
    database and Redis prefix; ``extra`` adds to it."""
    return {
        "DATABASE_URL": test_database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "ARGUS_TESTING": "1",
        "ARGUS_REDIS_PREFIX": settings.REDIS_PREFIX,
        **extra,
    }


def vision_worker_environment(**extra: str) -> dict[str, str]:
    """The environment of a ``manage.py run_vision`` the tests start: this run's database, Redis prefix and
    media, and a worker that looks for camera changes every second; ``extra`` adds to it."""
    return {
        **os.environ,
        **server_environment(ARGUS_MEDIA_ROOT=str(settings.MEDIA_ROOT), ARGUS_VISION_POLL_SECONDS="1"),
        **extra,
    }


@pytest.fixture
def vision_worker_processes(transactional_db) -> Iterator[Callable[..., subprocess.Popen]]:
    """Start real ``manage.py run_vision`` processes on this run's database and Redis prefix:
    ``start("worker-a")``. Each is stopped (SIGTERM, then killed) after the test."""
    started: list[subprocess.Popen] = []

    def start(worker_id: str, *extra: str) -> subprocess.Popen:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "run_vision", "--worker-id", worker_id, *extra],
            cwd=BASE_DIR,
            env=vision_worker_environment(),
        )
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.terminate()
    for process in started:
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    """A test database of this run's own, so test runs side by side on one server do not collide."""
    from django.db import connections

    for alias in connections:
        test_settings = connections[alias].settings_dict.setdefault("TEST", {})
        test_settings["NAME"] = f"test_{connections[alias].settings_dict['NAME']}_{os.getpid()}"


@pytest.fixture(autouse=True)
def _seeded_roles_in_transactional_tests(request):
    """A transactional test starts with the roles the migrations seed. The serialized restore brings them back
    after an earlier test's flush, but not after every kind of test (the browser tests' live server holds its own
    connections to the database): insert whichever is missing, so no test depends on the order it runs in."""
    marker = request.node.get_closest_marker("django_db")
    transactional = "transactional_db" in request.fixturenames or (
        marker is not None and (marker.kwargs.get("transaction") or (marker.args and marker.args[0]))
    )
    if not transactional:
        yield
        return
    request.getfixturevalue("transactional_db")
    from accounts.models import Role
    from accounts.permissions_catalogue import SEEDED_ROLES

    present = set(Role.objects.values_list("id", flat=True))
    for role in SEEDED_ROLES:
        if role["id"] not in present:
            Role.objects.create(**role)
    yield


@pytest.fixture(autouse=True)
def django_db_serialized_rollback():
    """Every transactional test restores the migrated data (seeded roles, Beat schedules) when it ends.

    Mixing transactional tests with and without serialized rollback breaks: a plain one's flush
    recreates content types, and the next serialized restore then inserts them a second time.
    """


@pytest.fixture
def closed_url() -> str:
    """An address on loopback where nothing listens."""
    return f"http://127.0.0.1:{free_port()}/events/ingest"


@pytest.fixture
def http_peer() -> Iterator[Callable[..., HttpPeer]]:
    """Start local HTTP peers: ``http_peer(fail_first=2)``; all are stopped after the test."""
    started: list[HttpPeer] = []

    def start(**options: Any) -> HttpPeer:
        peer = HttpPeer(**options)
        started.append(peer)
        return peer

    yield start
    for peer in started:
        peer.stop()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_teardown(item, nextitem):
    """After the last test, before the test database is dropped: the web application's request threads (tests
    that call ``config.asgi.application`` over HTTP) close the connections they keep, or the drop is refused
    ("being accessed by other users") and the database stays behind on the server."""
    if nextitem is None and "config.asgi" in sys.modules:
        sys.modules["config.asgi"].django_asgi_app.close_connections()
