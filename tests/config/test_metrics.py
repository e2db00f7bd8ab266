"""Prometheus metrics: request counts by route pattern, latency, Celery outcomes, ingest and recognition
counters, who may read /metrics, and multiprocess mode (files shared by every process)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from prometheus_client import CollectorRegistry, multiprocess

from config import metrics
from config.celery import app

BASE_DIR = Path(__file__).resolve().parents[2]


def sample(name: str, **labels: str) -> float:
    return metrics.REGISTRY.get_sample_value(name, labels) or 0.0


@app.task(name="tests.metrics.succeed")
def succeed() -> int:
    return 1


@app.task(name="tests.metrics.fail")
def fail() -> None:
    raise ValueError("this task always fails")


@app.task(name="tests.metrics.retry_once", bind=True, max_retries=1)
def retry_once(self) -> None:
    raise self.retry(countdown=0)


# --- HTTP requests -------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_requests_are_counted_by_route_pattern_not_path(admin_client, admin_user, viewer_user):
    labels = {"method": "GET", "route": "/api/v1/users/<pk>", "status": "200"}
    before = sample("argus_http_requests_total", **labels)

    admin_client.get(f"/api/v1/users/{admin_user.pk}")
    admin_client.get(f"/api/v1/users/{viewer_user.pk}")

    assert sample("argus_http_requests_total", **labels) == before + 2


def test_no_series_carries_a_raw_id(api_client):
    marker = uuid.uuid4().hex

    api_client.get(f"/api/v1/users/{marker}")

    exposition = metrics.generate_latest(metrics.REGISTRY).decode()
    assert marker not in exposition


def test_a_path_that_matches_no_route_shares_one_label(api_client):
    labels = {"method": "GET", "route": metrics.UNMATCHED_ROUTE, "status": "404"}
    before = sample("argus_http_requests_total", **labels)

    api_client.get(f"/no-such-page-{uuid.uuid4().hex}")

    assert sample("argus_http_requests_total", **labels) == before + 1


def test_the_status_label_is_the_answers_status(api_client):
    labels = {"method": "GET", "route": "/api/v1/auth/me", "status": "401"}
    before = sample("argus_http_requests_total", **labels)

    api_client.get("/api/v1/auth/me")

    assert sample("argus_http_requests_total", **labels) == before + 1


def test_request_latency_is_observed_per_route(api_client):
    labels = {"method": "GET", "route": "/healthz"}
    before = sample("argus_http_request_duration_seconds_count", **labels)

    api_client.get("/healthz")

    assert sample("argus_http_request_duration_seconds_count", **labels) == before + 1


def test_an_unknown_method_is_labelled_other(api_client):
    before = sample("argus_http_requests_total", method="other", route="/healthz", status="405")

    api_client.generic("BREW", "/healthz")

    assert sample("argus_http_requests_total", method="other", route="/healthz", status="405") == before + 1


# --- Celery, ingest, recognition ---------------------------------------------------------------------------------


def test_a_successful_task_is_counted():
    before = sample("argus_celery_tasks_total", task="tests.metrics.succeed", outcome="success")

    succeed.apply()

    assert sample("argus_celery_tasks_total", task="tests.metrics.succeed", outcome="success") == before + 1


def test_a_failed_task_is_counted():
    before = sample("argus_celery_tasks_total", task="tests.metrics.fail", outcome="failure")

    fail.apply()

    assert sample("argus_celery_tasks_total", task="tests.metrics.fail", outcome="failure") == before + 1


def test_a_retried_task_is_counted():
    before = sample("argus_celery_tasks_total", task="tests.metrics.retry_once", outcome="retry")

    retry_once.apply()

    assert sample("argus_celery_tasks_total", task="tests.metrics.retry_once", outcome="retry") == before + 1


def test_ingested_events_are_counted_by_kind():
    before = sample("argus_ingested_events_total", kind="plate")

    metrics.count_ingest("plate")
    metrics.count_ingest("plate", 4)

    assert sample("argus_ingested_events_total", kind="plate") == before + 5


def test_recognitions_are_counted_by_result():
    before = sample("argus_recognitions_total", result="unknown")

    metrics.count_recognition("unknown", 2)

    assert sample("argus_recognitions_total", result="unknown") == before + 2


# --- GET /metrics ----------------------------------------------------------------------------------------------


def test_metrics_are_served_to_the_loopback_without_a_token(client, settings):
    settings.METRICS_TOKEN = ""

    response = client.get("/metrics", REMOTE_ADDR="127.0.0.1")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    assert b"argus_http_requests_total" in response.content


def test_metrics_are_refused_to_another_host_without_a_token(client, settings):
    settings.METRICS_TOKEN = ""

    response = client.get("/metrics", REMOTE_ADDR="203.0.113.9")

    assert response.status_code == 403
    assert b"ARGUS_METRICS_TOKEN" in response.content


def test_metrics_are_refused_to_a_proxied_request_without_a_token(client, settings):
    settings.METRICS_TOKEN = ""

    response = client.get("/metrics", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9")

    assert response.status_code == 403


def test_metrics_with_a_token_are_served_for_it_from_anywhere(client, settings):
    settings.METRICS_TOKEN = "scrape-secret"

    response = client.get("/metrics", REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION="Bearer scrape-secret")

    assert response.status_code == 200


def test_metrics_with_a_token_refuse_a_request_without_it(client, settings):
    settings.METRICS_TOKEN = "scrape-secret"

    response = client.get("/metrics", REMOTE_ADDR="127.0.0.1")

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_metrics_with_a_token_refuse_a_wrong_one(client, settings):
    settings.METRICS_TOKEN = "scrape-secret"

    response = client.get("/metrics", REMOTE_ADDR="127.0.0.1", HTTP_AUTHORIZATION="Bearer guess")

    assert response.status_code == 401


def test_metrics_are_not_in_the_api_schema(api_client):
    paths = yaml.safe_load(api_client.get("/api/schema/").content)["paths"]

    assert "/metrics" not in paths


# --- Multiprocess mode -----------------------------------------------------------------------------------------


def _python(code: str, multiproc_dir: Path) -> None:
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(multiproc_dir), "DJANGO_SETTINGS_MODULE": "config.settings"}
    subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=BASE_DIR, env=env, check=True, timeout=60)


def _collected(multiproc_dir: Path, name: str, **labels: str) -> float:
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=str(multiproc_dir))
    return registry.get_sample_value(name, labels) or 0.0


def test_multiprocess_mode_adds_up_every_processes_counts(tmp_path):
    for _ in range(2):
        _python("from config import metrics; metrics.count_ingest('count', 3)", tmp_path)

    assert _collected(tmp_path, "argus_ingested_events_total", kind="count") == 6


def test_multiprocess_files_are_named_by_host_and_pid(tmp_path):
    _python("from config import metrics; metrics.count_ingest('count')", tmp_path)

    (name,) = [path.name for path in tmp_path.iterdir()]
    assert name.startswith("counter_") and name.endswith(".db")
    assert "-" in name.removeprefix("counter_")  # <host>-<pid>: distinct across containers sharing the volume


def test_a_process_that_exits_is_marked_dead(tmp_path):
    _python(
        """
        from prometheus_client import Gauge
        from config import metrics
        Gauge("argus_test_live", "a live gauge", multiprocess_mode="livesum").set(1)
        metrics.count_ingest("count")
        """,
        tmp_path,
    )

    names = sorted(path.name for path in tmp_path.iterdir())
    assert not [name for name in names if name.startswith("gauge_live")]
    assert [name for name in names if name.startswith("counter_")]


def test_metrics_view_reports_every_process_in_multiprocess_mode(client, settings, tmp_path, monkeypatch):
    settings.METRICS_TOKEN = ""
    _python("from config import metrics; metrics.count_recognition('recognized', 7)", tmp_path)
    monkeypatch.setattr(metrics, "MULTIPROC_DIR", str(tmp_path))

    response = client.get("/metrics", REMOTE_ADDR="127.0.0.1")

    assert b'argus_recognitions_total{result="recognized"} 7.0' in response.content


@pytest.mark.slow
def test_a_real_prefork_worker_reports_task_outcomes_through_the_shared_directory(django_db_setup, tmp_path):
    db = settings.DATABASES["default"]
    queue = f"{settings.CELERY_TASK_DEFAULT_QUEUE}-metrics"
    node = f"metrics-{settings.REDIS_PREFIX}@localhost"
    env = {
        **os.environ,
        "DATABASE_URL": f"postgresql://{db['USER']}:{db.get('PASSWORD') or ''}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "REDIS_URL": settings.REDIS_URL,
        "ARGUS_TESTING": "1",
        "ARGUS_REDIS_PREFIX": settings.REDIS_PREFIX,
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
    }
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool",
            "prefork",
            "--concurrency",
            "1",
            "-l",
            "warning",
            "-n",
            node,
            "-Q",
            queue,
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=BASE_DIR,
        env=env,
    )
    try:
        deadline = time.monotonic() + 60
        while not app.control.ping(destination=[node], timeout=1.0):
            assert worker.poll() is None, f"worker exited with {worker.returncode}"
            assert time.monotonic() < deadline, "worker did not answer a ping within 60 s"

        ok = app.send_task("config.cleanup_old_data", kwargs={"dry_run": True}, queue=queue)
        bad = app.send_task("config.cleanup_old_data", kwargs={"no_such_argument": 1}, queue=queue)
        ok.get(timeout=60)
        bad.get(timeout=60, propagate=False)
    finally:
        worker.terminate()
        worker.wait(timeout=30)

    assert _collected(tmp_path, "argus_celery_tasks_total", task="config.cleanup_old_data", outcome="success") == 1
    assert _collected(tmp_path, "argus_celery_tasks_total", task="config.cleanup_old_data", outcome="failure") == 1
