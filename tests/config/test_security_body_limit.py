"""A request body limit on every route, uploads included, through the ASGI application daphne serves:
413 in the path's family format, with or without a Content-Length, before Django reads the body."""

from __future__ import annotations

import asyncio
import json

import pytest

from config.asgi import application
from tests.asgi import http_scope


async def call(path: str, chunks: list[bytes], *, content_length: int | None, content_type: bytes) -> tuple:
    headers = [(b"content-type", content_type), (b"host", b"testserver")]
    if content_length is not None:
        headers.append((b"content-length", str(content_length).encode()))
    scope = http_scope("POST", path, headers)
    pending = [
        {"type": "http.request", "body": chunk, "more_body": i < len(chunks) - 1} for i, chunk in enumerate(chunks)
    ]
    read = []

    async def receive():
        if pending:
            message = pending.pop(0)
            read.append(len(message["body"]))
            return message
        await asyncio.sleep(3600)  # the client stays connected; Django cancels this once it has answered

    sent = []

    async def send(message):
        sent.append(message)

    await application(scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], dict(start["headers"]), json.loads(body), sum(read)


@pytest.fixture
def small_limit(settings):
    settings.MAX_REQUEST_BODY_BYTES = 1024


async def test_an_announced_body_past_the_limit_is_refused_unread_in_001_format(small_limit):
    status, headers, body, read = await call(
        "/api/v1/cameras", [b"x" * 4096], content_length=4096, content_type=b"application/json"
    )

    assert status == 413
    assert body["success"] is False and body["error"]["code"] == "PAYLOAD_TOO_LARGE"
    assert headers[b"x-request-id"].decode() == body["requestId"]
    assert read == 0


async def test_a_chunked_upload_without_a_length_is_cut_off_in_004_format(small_limit):
    chunks = [b"y" * 512] * 100  # 50 KB, no Content-Length
    status, _headers, body, read = await call(
        "/face-service/api/v1/embeddings/generate", chunks, content_length=None, content_type=b"multipart/form-data"
    )

    assert status == 413
    assert body["status"] == 413 and body["code"] == "PAYLOAD_TOO_LARGE"
    assert read <= 1024 + 512


async def test_an_ingest_upload_past_the_limit_answers_in_003_format(small_limit):
    status, _headers, body, _read = await call(
        "/events/ingest", [b"z" * 2048], content_length=2048, content_type=b"multipart/form-data; boundary=x"
    )

    assert status == 413
    assert body["error_code"] == "PAYLOAD_TOO_LARGE" and body["request_id"]


@pytest.mark.django_db(transaction=True)
async def test_a_body_within_the_limit_reaches_the_view(small_limit):
    status, _headers, body, _read = await call(
        "/api/v1/cameras", [b"{}"], content_length=2, content_type=b"application/json"
    )

    assert status == 401  # the view answered: no credentials
    assert body["error"]["code"] == "AUTH_001"
