"""Under daphne, multipart bodies are Django's to parse: Twisted's own form parsing (pure Python, in the
reactor thread that serves every connection) is switched off when the ASGI application is loaded.

Proven on a real daphne: a body that claims to be multipart but is not reaches Django, which answers in
the caller's contract family; Twisted would have answered a bare 400 and dropped the connection."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest
from django.conf import settings

from tests.conftest import BASE_DIR
from tests.integrations.peers import free_port


@pytest.fixture(scope="module")
def daphne_url(django_db_setup, django_db_blocker) -> Iterator[str]:
    db = settings.DATABASES["default"]
    env = {
        **os.environ,
        "DATABASE_URL": f"postgresql://{db['USER']}:{db.get('PASSWORD') or ''}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "REDIS_URL": settings.REDIS_URL,
        "ARGUS_TESTING": "1",
        "ARGUS_REDIS_PREFIX": settings.REDIS_PREFIX,
    }
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "config.asgi:application"],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and server.poll() is None:
            try:
                httpx.get(f"{url}/healthz", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            pytest.fail(f"daphne did not start (exit code {server.poll()})")
        yield url
    finally:
        server.terminate()
        server.wait(timeout=20)


def test_a_body_that_is_not_multipart_reaches_django(daphne_url):
    response = httpx.post(
        f"{daphne_url}/api/v1/auth/login",
        content=b"not a multipart body",
        headers={"Content-Type": "multipart/form-data; boundary=xyz"},
        timeout=10,
    )

    assert response.status_code == 400
    body = response.json()  # the 001 envelope: Django answered, whatever the code
    assert set(body) == {"success", "error", "requestId"} and body["success"] is False
