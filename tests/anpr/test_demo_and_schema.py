"""The ANPR demo data, the admin pages and the OpenAPI description of the ANPR endpoints."""

from __future__ import annotations

import io

import pytest
import yaml
from django.core.files.storage import default_storage
from django.core.management.base import BaseCommand

from anpr import demo
from anpr.models import DetectionModel, PlateEvent, WatchlistEntry
from cameras import demo as cameras_demo
from cameras.models import Camera

pytestmark = pytest.mark.django_db


def test_demo_data_stores_events_with_images_models_and_a_deny_entry():
    lines = demo.create_demo_data(BaseCommand(stdout=io.StringIO()))
    assert PlateEvent.objects.filter(event_id__startswith="demo-").count() == demo.EVENTS
    event = PlateEvent.objects.filter(event_id__startswith="demo-").first()
    assert default_storage.open(event.crop_key).read().startswith(b"\xff\xd8\xff")
    assert set(DetectionModel.objects.values_list("pk", flat=True)) == {"model-001", "model-002"}
    assert WatchlistEntry.objects.filter(list_type="deny").count() == 1
    assert lines and "anpr" in lines[0]


def test_demo_data_is_created_once():
    demo.create_demo_data(None)
    demo.create_demo_data(None)
    assert PlateEvent.objects.filter(event_id__startswith="demo-").count() == demo.EVENTS
    assert WatchlistEntry.objects.count() == 1


@pytest.mark.parametrize(
    "path", ["/admin/anpr/plateevent/", "/admin/anpr/detectionmodel/", "/admin/anpr/watchlistentry/"]
)
def test_admin_lists_render(admin_user, client, path):
    client.force_login(admin_user)
    assert client.get(path).status_code == 200


def test_admin_event_search_finds_plates_typed_plainly(admin_user, client):
    from tests.factories import PlateEventFactory

    PlateEventFactory(event_id="adm-1", plate_text="ABC-123", when="2023-12-15T14:00:00+00:00")
    client.force_login(admin_user)
    assert "adm-1" in client.get("/admin/anpr/plateevent/", {"q": "abc123"}).content.decode()


@pytest.fixture
def schema(api_client) -> dict:
    return yaml.safe_load(api_client.get("/api/schema/").content)


@pytest.mark.parametrize(
    ("path", "methods"),
    [
        ("/events/ingest", {"post"}),
        ("/events", {"get"}),
        ("/events/stats", {"get"}),
        ("/events/{event_id}", {"get"}),
        ("/config/models", {"get", "post"}),
        ("/config/models/{id}", {"get", "put", "delete"}),
        ("/config/watchlists", {"get", "post"}),
    ],
)
def test_schema_documents_the_anpr_endpoints(schema, path, methods):
    assert methods <= set(schema["paths"][path])


def test_schema_documents_ingest_as_json_or_multipart_with_binary_images(schema):
    content = schema["paths"]["/events/ingest"]["post"]["requestBody"]["content"]
    assert {"application/json", "multipart/form-data"} <= set(content)
    name = content["multipart/form-data"]["schema"]["$ref"].rsplit("/", 1)[-1]
    properties = schema["components"]["schemas"][name]["properties"]
    assert properties["frame"]["format"] == "binary"
    assert properties["crop"]["format"] == "binary"


def test_demo_events_come_from_the_demo_cameras():
    cameras_demo.create_demo_data(None)
    demo.create_demo_data(None)

    cameras = set(PlateEvent.objects.values_list("camera_id", flat=True))
    assert cameras and cameras <= set(Camera.objects.values_list("pk", flat=True))


def test_demo_events_of_earlier_runs_move_to_the_demo_cameras():
    cameras_demo.create_demo_data(None)
    demo.create_demo_data(None)
    PlateEvent.objects.update(camera_id="cam-001")

    demo.create_demo_data(None)

    assert set(PlateEvent.objects.values_list("camera_id", flat=True)) == {cameras_demo.DEMO_CAMERA_ID}
