"""The embedded PostgreSQL (pgvector) and Redis: the URLs devservices reports reach running servers,
and bringing them up again starts nothing new."""

from __future__ import annotations

import os

import psycopg
import pytest
import redis

from config import devservices

postgres_embedded = pytest.mark.skipif(
    bool(os.environ.get("DATABASE_URL")),
    reason="DATABASE_URL is set: this run uses a configured PostgreSQL, not the embedded one",
)
redis_embedded = pytest.mark.skipif(
    bool(os.environ.get("REDIS_URL")),
    reason="REDIS_URL is set: this run uses a configured Redis, not the embedded one",
)


@postgres_embedded
def test_reported_postgres_url_reaches_a_running_server():
    with psycopg.connect(devservices.up()["DATABASE_URL"], connect_timeout=5) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)


@postgres_embedded
def test_embedded_postgres_has_pgvector_0_8():
    with psycopg.connect(devservices.postgres_url(), connect_timeout=5) as conn:
        row = conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'").fetchone()
    assert row is not None, "the vector extension is not installed"
    assert row[0].startswith("0.8."), row[0]


@redis_embedded
def test_reported_redis_url_reaches_a_running_server():
    client = redis.Redis.from_url(devservices.up()["REDIS_URL"], socket_connect_timeout=2)
    try:
        assert client.ping() is True
    finally:
        client.close()


@postgres_embedded
@redis_embedded
def test_up_is_idempotent_and_starts_nothing(monkeypatch):
    first = devservices.up()

    def refuse(*args, **kwargs):
        raise AssertionError(f"up() tried to start a server: {args[0] if args else kwargs}")

    monkeypatch.setattr(devservices.subprocess, "run", refuse)
    monkeypatch.setattr(devservices.subprocess, "Popen", refuse)
    second = devservices.up()

    assert second == first
    assert set(second) == {"DATABASE_URL", "REDIS_URL"}


@postgres_embedded
@redis_embedded
def test_up_reports_loopback_urls_on_the_configured_ports():
    urls = devservices.up()
    assert urls["DATABASE_URL"] == f"postgresql://postgres@127.0.0.1:{devservices.PG_PORT}/{devservices.PG_DATABASE}"
    assert urls["REDIS_URL"] == f"redis://127.0.0.1:{devservices.REDIS_PORT}/0"


@postgres_embedded
@redis_embedded
def test_status_reports_both_servers_up(capsys):
    assert devservices.main(["devservices", "status"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    assert all(line.endswith(" up") for line in lines), lines
