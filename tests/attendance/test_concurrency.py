"""record_recognition from several workers at once: one log per person and day, unique ids, no lost sighting.

Each thread has its own database connection, as two Celery workers would."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, connections, transaction

from attendance.models import AttendanceLog, AttendanceRecord
from tests.attendance.conftest import DAY, local, seen

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.usefixtures("site_time_zone"),
]


def _in_thread(function, *args, **kwargs):
    try:
        return function(*args, **kwargs)
    finally:
        connections.close_all()


def _wait_for_blocked_backend(deadline_seconds: float = 30) -> None:
    """Until another session waits on a row lock held by an open transaction (not a timing assertion: a
    guard so a broken lock never hangs the run)."""
    end = time.monotonic() + deadline_seconds
    while time.monotonic() < end:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
            )
            if cursor.fetchone()[0]:
                return
        time.sleep(0.02)
    raise AssertionError("the second worker never waited for the first one's transaction")


def test_a_worker_racing_an_uncommitted_first_sighting_updates_that_log():
    inserted, release = threading.Event(), threading.Event()

    def first_worker():
        with transaction.atomic():
            log = seen(at=local(DAY, 9, 0))
            inserted.set()
            release.wait(60)
        return log

    with ThreadPoolExecutor(max_workers=2) as pool:
        first = pool.submit(_in_thread, first_worker)
        assert inserted.wait(60)
        second = pool.submit(_in_thread, seen, at=local(DAY, 9, 5))
        _wait_for_blocked_backend()
        release.set()
        first_log, second_log = first.result(60), second.result(60)

    assert first_log.pk == second_log.pk
    log = AttendanceLog.objects.get()
    assert (log.check_in, log.check_out) == (local(DAY, 9, 0), local(DAY, 9, 5))
    assert AttendanceRecord.objects.get().timestamp == local(DAY, 9, 5)


def test_many_workers_seeing_one_person_make_one_log():
    barrier = threading.Barrier(6)
    moments = [local(DAY, 9, minute) for minute in range(6)]

    def worker(moment):
        barrier.wait(30)
        return seen(at=moment)

    with ThreadPoolExecutor(max_workers=6) as pool:
        logs = list(pool.map(lambda moment: _in_thread(worker, moment), moments))

    assert {log.pk for log in logs} == {"ATT-20251105-001"}
    log = AttendanceLog.objects.get()
    assert (log.check_in, log.check_out) == (moments[0], moments[-1])
    assert AttendanceRecord.objects.count() == 1


def test_many_workers_seeing_different_people_get_distinct_ids():
    barrier = threading.Barrier(6)

    def worker(number):
        barrier.wait(30)
        return seen(employee_id=f"EMP-{number:03d}", at=local(DAY, 9, number))

    with ThreadPoolExecutor(max_workers=6) as pool:
        logs = list(pool.map(lambda number: _in_thread(worker, number), range(6)))

    assert sorted(log.pk for log in logs) == [f"ATT-20251105-{n:03d}" for n in range(1, 7)]
    assert AttendanceLog.objects.count() == 6
