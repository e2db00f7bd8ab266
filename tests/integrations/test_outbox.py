"""The transactional outbox: every accepted event reaches every enabled exporter, with retries by the
exporter's retry_config, a shared circuit breaker, a delivery log and one alert per failing exporter."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from django.db import transaction
from django_celery_beat.models import PeriodicTask

from cameras.models import Alert
from config.resilience import CircuitBreaker, CircuitState
from integrations import outbox, services, tasks
from integrations.models import DeliveryAttempt, DeliveryStatus, Exporter, OutboxMessage
from integrations.outbox import Outcome
from tests.integrations.conftest import TOKEN, make_due, mqtt_exporter, open_circuit_since, rest_exporter
from tests.integrations.peers import HttpPeer, free_port

EVENT = {"event_id": "evt-001", "plate_text": "ABC123", "confidence": 0.95}


def event(n: int) -> dict:
    return {**EVENT, "event_id": f"evt-{n:03d}"}


def only_message() -> OutboxMessage:
    return OutboxMessage.objects.get()


def retry_delay(message: OutboxMessage) -> float:
    message.refresh_from_db()
    return (message.next_attempt_at - message.last_attempt_at).total_seconds()


def failing_alerts(exporter: Exporter):
    return Alert.objects.filter(source=f"exporter-failing:{exporter.pk}")


# --- enqueue -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_enqueue_writes_one_message_per_enabled_exporter():
    first, second = rest_exporter("http://127.0.0.1:9/"), rest_exporter("http://127.0.0.1:9/")
    assert outbox.enqueue_event(EVENT, "evt-001") == 2
    assert set(OutboxMessage.objects.values_list("exporter_id", flat=True)) == {first.pk, second.pk}


@pytest.mark.django_db
def test_enqueue_writes_nothing_for_a_disabled_exporter():
    rest_exporter("http://127.0.0.1:9/", enabled=False)
    assert outbox.enqueue_event(EVENT, "evt-001") == 0
    assert not OutboxMessage.objects.exists()


@pytest.mark.django_db
def test_enqueue_stores_the_payload_kind_and_event_id_as_pending():
    rest_exporter("http://127.0.0.1:9/")
    outbox.enqueue_event(EVENT, "evt-001")
    message = only_message()
    assert (message.kind, message.key, message.payload) == ("anpr.event", "evt-001", EVENT)
    assert (message.status, message.attempts) == (DeliveryStatus.PENDING, 0)


@pytest.mark.django_db
def test_enqueue_stores_dates_as_iso_8601():
    rest_exporter("http://127.0.0.1:9/")
    outbox.enqueue_event({"timestamp": datetime(2023, 12, 15, 14, 30, tzinfo=UTC)}, "evt-001")
    assert only_message().payload == {"timestamp": "2023-12-15T14:30:00Z"}


@pytest.mark.django_db
def test_enqueue_of_the_same_event_again_adds_nothing():
    rest_exporter("http://127.0.0.1:9/")
    outbox.enqueue_event(EVENT, "evt-001")
    assert outbox.enqueue_event(EVENT, "evt-001") == 0
    assert OutboxMessage.objects.count() == 1


@pytest.mark.django_db
def test_enqueue_dispatches_only_after_the_transaction_commits(django_capture_on_commit_callbacks, http_peer):
    peer = http_peer()
    rest_exporter(peer.url)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        outbox.enqueue_event(EVENT, "evt-001")
    assert len(callbacks) == 1
    assert peer.requests == []  # nothing leaves before the commit


@pytest.mark.django_db
def test_enqueue_in_a_rolled_back_transaction_leaves_nothing():
    rest_exporter("http://127.0.0.1:9/")
    with pytest.raises(RuntimeError), transaction.atomic():
        outbox.enqueue_event(EVENT, "evt-001")
        raise RuntimeError("the ingest failed")
    assert not OutboxMessage.objects.exists()


# --- dispatch ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_dispatch_delivers_to_a_rest_peer(http_peer):
    peer = http_peer()
    exporter = rest_exporter(peer.url)
    outbox.enqueue_event(EVENT, "evt-001")
    assert outbox.dispatch(only_message().pk) == Outcome.DELIVERED
    assert [r.json for r in peer.accepted] == [EVENT]
    message = only_message()
    assert (message.status, message.attempts) == (DeliveryStatus.DELIVERED, 1)
    assert message.delivered_at is not None
    exporter.refresh_from_db()
    assert (exporter.delivered_count, exporter.last_delivery_at) == (1, message.delivered_at)


@pytest.mark.django_db
def test_dispatch_delivers_to_an_mqtt_topic(mqtt_topic, subscriber):
    mqtt_exporter(mqtt_topic)
    outbox.enqueue_event(EVENT, "evt-001")
    assert outbox.dispatch(only_message().pk) == Outcome.DELIVERED
    (message,) = subscriber.wait_for(1)
    assert message.qos == 1


@pytest.mark.django_db
def test_failing_peer_receives_the_event_exactly_once_after_retries(http_peer):
    peer = http_peer(fail_first=2)
    rest_exporter(peer.url)
    outbox.enqueue_event(EVENT, "evt-001")
    message = only_message()
    outcomes = [outbox.dispatch(message.pk)]
    delays = [retry_delay(message)]
    make_due(message)
    outcomes.append(outbox.dispatch(message.pk))
    delays.append(retry_delay(message))
    make_due(message)
    outcomes.append(outbox.dispatch(message.pk))
    assert outcomes == [Outcome.RETRY_SCHEDULED, Outcome.RETRY_SCHEDULED, Outcome.DELIVERED]
    assert delays == [1.0, 2.0]  # exponential from 1000 ms
    assert [r.status for r in peer.requests] == [503, 503, 200]
    assert [r.json for r in peer.accepted] == [EVENT]


@pytest.mark.django_db
def test_every_attempt_is_logged(http_peer):
    peer = http_peer(fail_first=1)
    rest_exporter(peer.url)
    outbox.enqueue_event(EVENT, "evt-001")
    message = only_message()
    outbox.dispatch(message.pk)
    make_due(message)
    outbox.dispatch(message.pk)
    log = list(DeliveryAttempt.objects.filter(message=message).values_list("number", "ok", "http_status"))
    assert log == [(1, False, 503), (2, True, 200)]
    message.refresh_from_db()
    assert message.last_error.startswith("HTTP 503")


@pytest.mark.django_db
def test_dispatch_before_the_next_attempt_is_due_does_nothing(http_peer):
    peer = http_peer(fail_first=1)
    rest_exporter(peer.url)
    outbox.enqueue_event(EVENT, "evt-001")
    message = only_message()
    outbox.dispatch(message.pk)
    assert outbox.dispatch(message.pk) == Outcome.NOT_DUE
    assert len(peer.requests) == 1


@pytest.mark.django_db
def test_dispatch_of_a_delivered_message_sends_nothing_again(http_peer):
    peer = http_peer()
    rest_exporter(peer.url)
    outbox.enqueue_event(EVENT, "evt-001")
    outbox.dispatch(only_message().pk)
    assert outbox.dispatch(only_message().pk) == Outcome.SKIPPED
    assert len(peer.requests) == 1


def _delays_until_delivered(message: OutboxMessage, failures: int) -> list[float]:
    delays = []
    for _ in range(failures):
        assert outbox.dispatch(message.pk) == Outcome.RETRY_SCHEDULED
        delays.append(retry_delay(message))
        make_due(message)
    assert outbox.dispatch(message.pk) == Outcome.DELIVERED
    return delays


@pytest.mark.django_db
def test_linear_backoff_spaces_retries_by_the_initial_delay(http_peer):
    retry = {"max_attempts": 5, "backoff_strategy": "linear", "initial_delay_ms": 1500, "max_delay_ms": 60000}
    rest_exporter(http_peer(fail_first=3).url, retry_config=retry)
    outbox.enqueue_event(EVENT, "evt-001")
    assert _delays_until_delivered(only_message(), 3) == [1.5, 3.0, 4.5]


@pytest.mark.django_db
def test_exponential_backoff_is_capped_at_the_maximum_delay(http_peer):
    retry = {"max_attempts": 6, "backoff_strategy": "exponential", "initial_delay_ms": 1000, "max_delay_ms": 3000}
    rest_exporter(http_peer(fail_first=4).url, retry_config=retry)
    outbox.enqueue_event(EVENT, "evt-001")
    assert _delays_until_delivered(only_message(), 4) == [1.0, 2.0, 3.0, 3.0]


@pytest.mark.django_db
def test_exhausted_attempts_make_the_message_dead(http_peer):
    rest_exporter(http_peer(fail_first=100).url, retry_config={"max_attempts": 2})
    outbox.enqueue_event(EVENT, "evt-001")
    message = only_message()
    outbox.dispatch(message.pk)
    make_due(message)
    assert outbox.dispatch(message.pk) == Outcome.DEAD
    message.refresh_from_db()
    assert (message.status, message.attempts) == (DeliveryStatus.DEAD, 2)


@pytest.mark.django_db
def test_dead_messages_raise_one_alert_per_exporter(http_peer):
    exporter = rest_exporter(http_peer(fail_first=100).url, retry_config={"enabled": False})
    outbox.enqueue_event(event(1), "evt-001")
    outbox.enqueue_event(event(2), "evt-002")
    outcomes = [outbox.dispatch(pk) for pk in OutboxMessage.objects.values_list("pk", flat=True)]
    assert outcomes == [Outcome.DEAD, Outcome.DEAD]
    (alert,) = failing_alerts(exporter)
    assert alert.level == "high"
    assert alert.resolved_at is None


@pytest.mark.django_db
def test_disabled_retry_gives_up_after_the_first_failure(http_peer):
    rest_exporter(http_peer(fail_first=100).url, retry_config={"enabled": False, "max_attempts": 5})
    outbox.enqueue_event(EVENT, "evt-001")
    assert outbox.dispatch(only_message().pk) == Outcome.DEAD


@pytest.mark.django_db
def test_payload_the_peer_refuses_is_not_retried(http_peer):
    peer = http_peer(fail_first=100, failure_status=422)
    rest_exporter(peer.url)
    outbox.enqueue_event(EVENT, "evt-001")
    assert outbox.dispatch(only_message().pk) == Outcome.DEAD
    assert len(peer.requests) == 1


@pytest.mark.django_db
def test_success_after_giving_up_resolves_the_alert(http_peer):
    peer = http_peer(fail_first=1)
    exporter = rest_exporter(peer.url, retry_config={"enabled": False})
    outbox.enqueue_event(event(1), "evt-001")
    outbox.enqueue_event(event(2), "evt-002")
    first, second = OutboxMessage.objects.order_by("pk")
    outbox.dispatch(first.pk)
    outbox.dispatch(second.pk)
    assert failing_alerts(exporter).get().resolved_at is not None
    exporter.refresh_from_db()
    assert exporter.failing_since is None


@pytest.mark.django_db
def test_peer_back_after_giving_up_gets_the_given_up_events(http_peer):
    peer = http_peer(fail_first=1)
    rest_exporter(peer.url, retry_config={"enabled": False})
    outbox.enqueue_event(event(1), "evt-001")
    outbox.enqueue_event(event(2), "evt-002")
    first, second = OutboxMessage.objects.order_by("pk")
    assert outbox.dispatch(first.pk) == Outcome.DEAD
    assert outbox.dispatch(second.pk) == Outcome.DELIVERED  # the peer is back: the dead one gets a new round
    assert tasks.retry_due_deliveries() == {"delivered": 1}
    assert sorted(r.json["event_id"] for r in peer.accepted) == ["evt-001", "evt-002"]


@pytest.mark.django_db
def test_sweep_probes_a_failing_exporter_that_has_only_given_up_events(http_peer):
    peer = http_peer(fail_first=1)
    rest_exporter(peer.url, retry_config={"enabled": False})
    outbox.enqueue_event(EVENT, "evt-001")
    assert outbox.dispatch(only_message().pk) == Outcome.DEAD
    tasks.retry_due_deliveries()  # no new event arrives: the sweep itself finds the peer back
    assert [r.json for r in peer.accepted] == [EVENT]
    assert only_message().status == DeliveryStatus.DELIVERED


@pytest.mark.django_db
def test_disabled_exporter_keeps_its_pending_messages(http_peer):
    peer = http_peer()
    exporter = rest_exporter(peer.url)
    outbox.enqueue_event(EVENT, "evt-001")
    Exporter.objects.filter(pk=exporter.pk).update(enabled=False)
    assert outbox.dispatch(only_message().pk) == Outcome.DISABLED
    assert only_message().status == DeliveryStatus.PENDING
    assert peer.requests == []


# --- circuit breaker -----------------------------------------------------------------------------


def _five_failures(exporter: Exporter) -> None:
    for n in range(1, 6):
        outbox.enqueue_event(event(n), f"evt-{n:03d}")
    for pk in OutboxMessage.objects.order_by("pk").values_list("pk", flat=True):
        assert outbox.dispatch(pk) == Outcome.RETRY_SCHEDULED


@pytest.mark.django_db
def test_five_failed_deliveries_open_the_exporters_circuit(http_peer):
    exporter = rest_exporter(http_peer(fail_first=100).url)
    _five_failures(exporter)
    assert CircuitBreaker(f"exporter:{exporter.pk}").state == CircuitState.OPEN


@pytest.mark.django_db
def test_open_circuit_reschedules_without_an_attempt(http_peer):
    peer = http_peer(fail_first=100)
    exporter = rest_exporter(peer.url)
    _five_failures(exporter)
    outbox.enqueue_event(event(6), "evt-006")
    message = OutboxMessage.objects.get(key="evt-006")
    before = time.time()
    assert outbox.dispatch(message.pk) == Outcome.CIRCUIT_OPEN
    message.refresh_from_db()
    assert (message.attempts, message.status) == (0, DeliveryStatus.PENDING)
    assert message.next_attempt_at.timestamp() == pytest.approx(before + 30, abs=2)
    assert len(peer.requests) == 5


@pytest.mark.django_db
def test_half_open_circuit_lets_a_probe_through_and_closes_on_success(http_peer):
    peer = http_peer()
    exporter = rest_exporter(peer.url)
    open_circuit_since(f"exporter:{exporter.pk}", 31)
    outbox.enqueue_event(EVENT, "evt-001")
    assert outbox.dispatch(only_message().pk) == Outcome.DELIVERED
    assert CircuitBreaker(f"exporter:{exporter.pk}").state == CircuitState.CLOSED


@pytest.mark.django_db
def test_failed_probe_opens_the_circuit_again(http_peer):
    exporter = rest_exporter(http_peer(fail_first=100).url)
    open_circuit_since(f"exporter:{exporter.pk}", 31)
    outbox.enqueue_event(EVENT, "evt-001")
    assert outbox.dispatch(only_message().pk) == Outcome.RETRY_SCHEDULED
    assert CircuitBreaker(f"exporter:{exporter.pk}").state == CircuitState.OPEN


@pytest.mark.django_db
def test_new_url_closes_the_circuit_of_the_old_one(http_peer, django_capture_on_commit_callbacks):
    exporter = rest_exporter(http_peer(fail_first=100).url)
    _five_failures(exporter)
    with django_capture_on_commit_callbacks(execute=True):
        # Another port is another address: the token must come again (it never follows a new address).
        services.update_exporter(exporter, {"url": http_peer().url, "auth": {"type": "bearer", "token": TOKEN}})
    assert CircuitBreaker(f"exporter:{exporter.pk}").state == CircuitState.CLOSED


@pytest.mark.django_db
def test_deleting_a_failing_exporter_resolves_its_alert(closed_url):
    exporter = rest_exporter(closed_url, retry_config={"enabled": False})
    outbox.enqueue_event(EVENT, "evt-001")
    outbox.dispatch(only_message().pk)
    source = f"exporter-failing:{exporter.pk}"
    services.delete_exporter(exporter)
    assert Alert.objects.get(source=source).resolved_at is not None


@pytest.mark.django_db
def test_circuit_of_one_exporter_does_not_stop_another(http_peer):
    down = rest_exporter(http_peer(fail_first=100).url)
    up_peer = http_peer()
    rest_exporter(up_peer.url)
    open_circuit_since(f"exporter:{down.pk}", 1)
    outbox.enqueue_event(EVENT, "evt-001")
    outcomes = {m.exporter_id: outbox.dispatch(m.pk) for m in OutboxMessage.objects.all()}
    assert sorted(outcomes.values()) == [Outcome.CIRCUIT_OPEN, Outcome.DELIVERED]
    assert len(up_peer.accepted) == 1


# --- the sweep -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_sweep_delivers_due_messages_that_no_task_delivered(http_peer):
    peer = http_peer()
    rest_exporter(peer.url)
    for n in range(1, 4):
        outbox.enqueue_event(event(n), f"evt-{n:03d}")  # in a test transaction: no task is ever sent
    assert tasks.retry_due_deliveries() == {"delivered": 3}
    assert [r.json["event_id"] for r in peer.accepted] == ["evt-001", "evt-002", "evt-003"]


@pytest.mark.django_db
def test_sweep_leaves_messages_that_are_not_due(http_peer):
    peer = http_peer(fail_first=1)
    rest_exporter(peer.url)
    outbox.enqueue_event(EVENT, "evt-001")
    outbox.dispatch(only_message().pk)
    assert tasks.retry_due_deliveries() == {}
    assert len(peer.requests) == 1


def _time_passes(exporter: Exporter) -> None:
    """Everything scheduled is due now, and an open circuit's recovery time is over."""
    for message in OutboxMessage.objects.all():
        make_due(message)
    if CircuitBreaker(f"exporter:{exporter.pk}").state != CircuitState.CLOSED:
        open_circuit_since(f"exporter:{exporter.pk}", 31)


@pytest.mark.django_db
def test_peer_down_briefly_receives_every_pending_event_once_it_is_back(http_peer):
    port = free_port()
    exporter = rest_exporter(f"http://127.0.0.1:{port}/events/ingest")
    for n in range(1, 3):
        outbox.enqueue_event(event(n), f"evt-{n:03d}")
    assert tasks.retry_due_deliveries() == {"retry_scheduled": 2}  # refused: nobody listens
    peer: HttpPeer = http_peer(port=port)  # back, on the same address
    _time_passes(exporter)
    assert tasks.retry_due_deliveries() == {"delivered": 2}
    assert sorted(r.json["event_id"] for r in peer.requests) == ["evt-001", "evt-002"]


@pytest.mark.django_db
def test_peer_down_for_longer_than_the_retries_receives_every_event_once_it_is_back(http_peer):
    port = free_port()
    exporter = rest_exporter(f"http://127.0.0.1:{port}/events/ingest", retry_config={"max_attempts": 2})
    for n in range(1, 4):
        outbox.enqueue_event(event(n), f"evt-{n:03d}")
    for _sweep in range(4):  # the outage outlasts the retries and opens the circuit
        tasks.retry_due_deliveries()
        _time_passes(exporter)
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {DeliveryStatus.DEAD}
    peer: HttpPeer = http_peer(port=port)
    for _sweep in range(2):  # a probe finds the peer back, then the given-up events follow
        tasks.retry_due_deliveries()
        _time_passes(exporter)
    assert sorted(r.json["event_id"] for r in peer.requests) == ["evt-001", "evt-002", "evt-003"]
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {DeliveryStatus.DELIVERED}
    assert tasks.retry_due_deliveries() == {}
    assert len(peer.requests) == 3


@pytest.mark.django_db
def test_sweep_skips_an_exporter_whose_circuit_is_open(http_peer):
    peer = http_peer()
    exporter = rest_exporter(peer.url)
    for n in range(1, 4):
        outbox.enqueue_event(event(n), f"evt-{n:03d}")
    open_circuit_since(f"exporter:{exporter.pk}", 1)
    assert tasks.retry_due_deliveries() == {"circuit_open": 1}
    assert peer.requests == []


@pytest.mark.django_db
def test_retry_now_starts_a_new_round_for_a_dead_message(http_peer):
    peer = http_peer(fail_first=1)
    rest_exporter(peer.url, retry_config={"enabled": False})
    outbox.enqueue_event(EVENT, "evt-001")
    outbox.dispatch(only_message().pk)
    assert outbox.retry_now(OutboxMessage.objects.all()) == 1
    assert outbox.dispatch(only_message().pk) == Outcome.DELIVERED
    assert only_message().attempts == 2


@pytest.mark.django_db
def test_retry_schedule_runs_every_30_seconds():
    schedule = PeriodicTask.objects.select_related("interval").get(name="Retry due exporter deliveries")
    assert schedule.task == "integrations.retry_due_deliveries"
    assert (schedule.interval.every, schedule.interval.period) == (30, "seconds")


@pytest.mark.django_db
def test_delivery_failures_in_the_log_never_show_a_secret(http_peer, caplog):
    exporter = rest_exporter(http_peer(fail_first=100, failure_status=500, echo_headers=True).url)
    outbox.enqueue_event(EVENT, "evt-001")
    with caplog.at_level("INFO", logger="argus.integrations"):
        outbox.dispatch(only_message().pk)
    token = exporter.plain("auth")["token"]
    assert "***" in only_message().last_error
    assert token not in only_message().last_error
    assert token not in caplog.text


# --- a real worker -------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_real_worker_delivers_after_the_commit_with_retries(celery_worker_process, http_peer):
    peer = http_peer(fail_first=1)  # the retry comes from the delayed task, 1 s later
    rest_exporter(peer.url)
    with transaction.atomic():
        outbox.enqueue_event(EVENT, "evt-001")
    deadline = time.monotonic() + 30
    while not peer.accepted and time.monotonic() < deadline:
        time.sleep(0.1)
    assert [r.json for r in peer.accepted] == [EVENT]
    while only_message().status != DeliveryStatus.DELIVERED and time.monotonic() < deadline:
        time.sleep(0.1)
    message = only_message()
    assert (message.status, message.attempts) == (DeliveryStatus.DELIVERED, 2)
    assert message.delivered_at - message.created_at >= timedelta(seconds=1)
