"""Two copies of one event at the same moment: exactly one is stored (202), the other answers 409, and the
stored images are the winner's. Real threads, each with its own database connection, committing for real."""

from __future__ import annotations

import threading

import pytest
from django.core.files.storage import default_storage
from django.db import connection
from rest_framework.test import APIClient

from anpr.models import PlateEvent
from tests.anpr.conftest import SPEC_EVENT, jpeg_bytes, multipart, spec_event, stored_files
from tests.factories import ApiKeyFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

URL = "/events/ingest"
ROUNDS = 5


def race(bodies: list[dict], key: str, fmt: str) -> list[int]:
    """Post every body at once from its own thread; the status codes, in the order of ``bodies``."""
    barrier = threading.Barrier(len(bodies))
    statuses: list[int] = [0] * len(bodies)

    def send(index: int) -> None:
        client = APIClient()
        client.credentials(HTTP_X_API_KEY=key)
        try:
            barrier.wait(timeout=10)
            statuses[index] = client.post(URL, bodies[index], format=fmt).status_code
        finally:
            connection.close()  # this thread's connection, so the test database can be dropped

    threads = [threading.Thread(target=send, args=(index,)) for index in range(len(bodies))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return statuses


@pytest.fixture
def key() -> str:
    return ApiKeyFactory().raw


@pytest.mark.parametrize("round_number", range(ROUNDS))
def test_two_json_copies_at_once_store_one_and_refuse_the_other(key, round_number):
    event = spec_event(event_id=f"evt-race-json-{round_number}")
    statuses = race([event, event], key, "json")
    assert sorted(statuses) == [202, 409]
    assert PlateEvent.objects.filter(pk=event["event_id"]).count() == 1


@pytest.mark.parametrize("round_number", range(ROUNDS))
def test_two_multipart_copies_at_once_keep_the_winners_images(key, round_number):
    event_id = f"evt-race-images-{round_number}"
    images = [
        {"frame": jpeg_bytes(seed=100 + round_number), "crop": jpeg_bytes(200, 60, seed=200 + round_number)},
        {"frame": jpeg_bytes(seed=300 + round_number), "crop": jpeg_bytes(200, 60, seed=400 + round_number)},
    ]
    bodies = [multipart(spec_event(event_id=event_id), **copy) for copy in images]
    statuses = race(bodies, key, "multipart")
    assert sorted(statuses) == [202, 409]
    winner = images[statuses.index(202)]
    event = PlateEvent.objects.get(pk=event_id)
    assert default_storage.open(event.frame_key).read() == winner["frame"]
    assert default_storage.open(event.crop_key).read() == winner["crop"]
    assert stored_files() == sorted([event.crop_key, event.frame_key])


def test_many_distinct_events_at_once_are_all_stored(key):
    bodies = [spec_event(event_id=f"evt-parallel-{number}") for number in range(8)]
    statuses = race(bodies, key, "json")
    assert statuses == [202] * 8
    assert PlateEvent.objects.filter(event_id__startswith="evt-parallel-").count() == 8


def test_a_copy_after_the_race_is_refused_too(key):
    race([SPEC_EVENT, SPEC_EVENT], key, "json")
    assert race([SPEC_EVENT], key, "json") == [409]
