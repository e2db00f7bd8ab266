"""Anonymous health endpoints: no exception text for strangers, and no storage write per call."""

from __future__ import annotations

import pytest
from django.core.files.storage import default_storage

from config.api import health_views

pytestmark = pytest.mark.django_db


@pytest.fixture
def storage_down(tmp_path):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a regular file")
    location = str(blocker / "media")
    default_storage.location = location
    default_storage.base_location = location
    return location


def test_anonymous_healthz_names_the_failing_part_without_its_exception_text(api_client, storage_down):
    body = api_client.get("/healthz").json()

    assert body["components"]["s3_storage"] == {"status": "unhealthy", "error": health_views.PUBLIC_ERROR}
    assert storage_down not in str(body) and "Errno" not in str(body)


def test_the_authenticated_detailed_view_shows_the_error(admin_client, storage_down):
    body = admin_client.get("/healthz/detailed").json()

    assert body["components"]["s3_storage"]["error"] != health_views.PUBLIC_ERROR


def test_a_burst_of_anonymous_calls_writes_storage_once(api_client, monkeypatch):
    saved = []
    real_save = default_storage.save
    monkeypatch.setattr(default_storage, "save", lambda *args, **kw: saved.append(args[0]) or real_save(*args, **kw))

    for _ in range(20):
        assert api_client.get("/healthz").status_code == 200

    assert len(saved) == 1


def test_the_gateway_health_is_cached_alike(api_client, monkeypatch):
    saved = []
    real_save = default_storage.save
    monkeypatch.setattr(default_storage, "save", lambda *args, **kw: saved.append(args[0]) or real_save(*args, **kw))

    for _ in range(10):
        api_client.get("/api/v1/health")

    assert len(saved) == 1
