"""Schema-driven fuzzing (issue 16): schemathesis generates requests from the OpenAPI document, sends them
to the app (in process, inside the test's transaction) signed in as an administrator, and checks that none
answers 5xx and that every answer carries its request id.

Reads: every GET. Writes: the operations that are safe to repeat inside a rolled-back transaction (no
deletes, nothing that signs out, restarts a service or reaches out to a peer), each in every body encoding
the document offers (JSON, form, multipart). Examples per operation are bounded (``FUZZ_EXAMPLES``).
Reads are also held against the document (issue 17): each answer's status is one the operation documents
and its body matches the documented schema for that status, in the family's format (the 001 envelope in
camelCase, each family's error body).
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from accounts.tokens import issue_tokens
from tests.factories import UserFactory

FUZZ_EXAMPLES = 5
# Streams and files: not JSON documents, and the live picture waits on a camera that is not there.
NOT_DOCUMENTS = ("/metrics", "/files/", "/live", "/stream", "/snapshot", "/download")

# The generation phase only, valid and invalid values alike (NUL bytes, huge numbers, wrong types, odd
# encodings), a few examples per operation: the coverage phase would send hundreds per operation.
CONFIG = SchemathesisConfig.from_dict(
    {
        "phases": {"examples": {"enabled": False}, "coverage": {"enabled": False}, "stateful": {"enabled": False}},
        "generation": {"mode": "all", "max-examples": FUZZ_EXAMPLES},
    }
)
schema = schemathesis.openapi.from_dict(SchemaGenerator().get_schema(request=None, public=True), config=CONFIG)
schema.app = WSGIHandler()
reads = schema.include(method=["GET"]).exclude(path_regex="|".join(NOT_DOCUMENTS))
# Writes that leave the world outside the database alone: no peer contacted, no session or process ended.
UNSAFE_WRITES = (
    "logout",
    "restart",
    "/test",
    "test-connection",
    "snapshot",
    "send-frame",
    "sync",
    "/odoo/",
    "process-session",
    "stop-session",
    "embeddings",
    "/exports?",
    "/export",
    "/ingest",
    "/counts",
    "/identify",
    "/verify",
    "/enroll",
    "/faces",
    "/photos",
    "/cleanup",
    "/retry",
)
writes = schema.include(method=["POST", "PUT", "PATCH"]).exclude(path_regex="|".join(UNSAFE_WRITES))


@pytest.fixture
def admin_token(db, settings):
    settings.RATE_LIMIT_ENABLED = False
    admin = UserFactory(role_id="ROLE-ADMIN", is_staff=True, is_superuser=True)
    # As Django's test client does: the handler must not close the test transaction's connection.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield issue_tokens(admin).access
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@reads.parametrize()
@settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_reads_never_answer_5xx_and_answer_what_is_documented(case, admin_token):
    _call(case, admin_token, DOCUMENTED)


@writes.parametrize()
@settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_writes_never_answer_5xx_and_answer_what_is_documented(case, admin_token):
    _call(case, admin_token, DOCUMENTED)


# The status is one the operation documents, the body of the media type and schema documented for it.
DOCUMENTED = [status_code_conformance, content_type_conformance, response_schema_conformance]


def _call(case, token: str, checks: list = ()) -> None:
    # identity: GZipMiddleware would compress, and the in-process client hands the bytes over as they are.
    headers = {"Authorization": f"Bearer {token}", "Accept-Encoding": "identity"}
    # Each call in a savepoint of its own, as each request has its own transaction in service: a statement
    # PostgreSQL refused (answered 400) must not leave the test's transaction aborted for the next example.
    savepoint = transaction.savepoint()
    try:
        response = case.call_and_validate(headers=headers, checks=[not_a_server_error, *checks])
    finally:
        transaction.savepoint_rollback(savepoint)
    assert response.headers.get("x-request-id"), f"{case.method} {case.formatted_path}: no X-Request-ID"
