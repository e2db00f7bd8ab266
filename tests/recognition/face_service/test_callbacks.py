"""Recognitions posted to the caller's callbackUrl: batches of up to 100, 3 retries with exponential backoff,
a timeout, and no result sent twice. The peers are real HTTP servers on 127.0.0.1."""

from __future__ import annotations

import pytest

from config.resilience import backoff_delay
from recognition.face_service import callbacks
from recognition.face_service.choices import DeliveryStatus
from recognition.models import CallbackDelivery, RecognitionResult
from tests.recognition.face_service.factories import add_results, make_session

pytestmark = pytest.mark.django_db


def test_a_batch_is_retried_until_the_peer_accepts_it(http_peer):
    peer = http_peer(fail_first=2)
    session = make_session(callback_url=peer.url)
    add_results(session, 2)
    [delivery] = callbacks.deliver_pending(str(session.pk))
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.DELIVERED, 3)
    assert [entry["status"] for entry in delivery.attempt_log] == [503, 503, 200]
    assert [r.status for r in peer.requests] == [503, 503, 200]
    # Every attempt carries the same batch, so the caller can tell a repeat.
    assert len({r.body for r in peer.requests}) == 1
    assert {r.headers["idempotency-key"] for r in peer.requests} == {str(delivery.id)}


def test_the_backoff_doubles_from_the_configured_base(http_peer):
    session = make_session(callback_backoff_ms=250)
    policy = callbacks.policy_of(session)
    assert [policy.delay_after(n) for n in (1, 2, 3)] == [0.25, 0.5, 1.0]
    assert policy.delay_after(1) == backoff_delay(1, "exponential", 250, 60_000)


def test_a_batch_carries_who_was_recognised_where(http_peer):
    peer = http_peer()
    session = make_session(slot_id=3, callback_url=peer.url)
    [result] = add_results(session, 1, similarity=0.9312)
    callbacks.deliver_pending(str(session.pk))
    body = peer.accepted[0].json
    assert body["slotId"] == 3 and body["roomId"] == 1 and body["totalRecognitions"] == 1
    [item] = body["recognitions"]
    assert item["recognitionId"] == str(result.id)
    assert item["userId"] == result.student.user_id
    assert item["rollNumber"] == result.student.roll_number
    assert (item["confidence"], item["cameraId"], item["cameraName"]) == (0.9312, 1, "Camera A101-01")
    assert item["detectedAt"].endswith("Z")


def test_a_batch_that_keeps_failing_is_given_up_after_three_retries(http_peer):
    peer = http_peer(fail_first=100)
    session = make_session(callback_url=peer.url)
    add_results(session, 1)
    [delivery] = callbacks.deliver_pending(str(session.pk))
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.FAILED, 4)
    assert len(peer.requests) == 4
    assert delivery.last_error == "HTTP 503"


def test_a_refusal_is_not_retried(http_peer):
    peer = http_peer(status=422)
    session = make_session(callback_url=peer.url)
    add_results(session, 1)
    [delivery] = callbacks.deliver_pending(str(session.pk))
    assert (delivery.status, delivery.attempts, len(peer.requests)) == (DeliveryStatus.FAILED, 1, 1)


def test_a_peer_slower_than_the_timeout_counts_as_a_failed_attempt(http_peer):
    peer = http_peer(delay=1.5)
    session = make_session(callback_url=peer.url, callback_timeout=0.3, callback_max_attempts=1)
    add_results(session, 1)
    [delivery] = callbacks.deliver_pending(str(session.pk))
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.last_error == "Timed out"


def test_results_go_out_in_batches_of_at_most_100(http_peer):
    peer = http_peer()
    session = make_session(callback_url=peer.url)
    add_results(session, 150)
    sent = callbacks.deliver_pending(str(session.pk))
    assert [d.size for d in sent] == [100, 50]
    assert [len(r.json["recognitions"]) for r in peer.accepted] == [100, 50]
    assert not RecognitionResult.objects.filter(delivery__isnull=True).exists()


def test_a_delivered_result_is_never_sent_again(http_peer):
    peer = http_peer()
    session = make_session(callback_url=peer.url)
    add_results(session, 2)
    callbacks.deliver_pending(str(session.pk))
    assert callbacks.deliver_pending(str(session.pk)) == []
    assert len(peer.requests) == 1


def test_a_batch_a_dead_worker_left_half_sent_is_queued_again(http_peer):
    session = make_session()
    add_results(session, 2)
    delivery = callbacks.claim_batch(str(session.pk))
    CallbackDelivery.objects.filter(pk=delivery.pk).update(created_at=delivery.created_at.replace(year=2000))
    assert callbacks.release_interrupted(older_than_seconds=60) == 2
    assert CallbackDelivery.objects.get(pk=delivery.pk).status == DeliveryStatus.FAILED
    assert RecognitionResult.objects.filter(delivery__isnull=True).count() == 2
