"""Under daphne, multipart bodies are Django's to parse: Twisted's own form parsing (pure Python, in the
reactor thread that serves every connection) is switched off when the ASGI application is loaded.

Proven on a real daphne: a body that claims to be multipart but is not reaches Django, which answers in
the caller's contract family; Twisted would have answered a bare 400 and dropped the connection."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from config.webtier import serve_locally
from tests.conftest import server_environment


@pytest.fixture(scope="module")
def daphne_url(django_db_setup, django_db_blocker) -> Iterator[str]:
    with serve_locally(server_environment()) as server:
        yield server.url


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
