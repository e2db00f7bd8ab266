"""The Beat job attendance.mark_missed, run by a real Celery worker."""

from __future__ import annotations

import time
from datetime import time as clock
from datetime import timedelta

import pytest
from django.utils import timezone

from attendance.models import AttendanceLog, ShiftSchedule
from attendance.tasks import mark_missed
from recognition.models import FaceProfile
from tests.factories import FaceProfileFactory, ShiftScheduleFactory

# The worker runs in the site's default zone (UTC here), so this test does not move it.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_the_worker_logs_the_absent_as_missed_and_refreshes_compliance(celery_worker_process):
    # A one-minute shift just after midnight: yesterday's occurrence has always ended.
    ShiftScheduleFactory(id="SHIFT-TINY", start_time=clock(0, 0), end_time=clock(0, 1), expected_headcount=2)
    FaceProfileFactory(employee_id="EMP-1", name="Ann", department="Manufacturing")
    FaceProfile.objects.update(created_at=timezone.now() - timedelta(days=3))
    ShiftSchedule.objects.filter(pk="SHIFT-TINY").update(compliance=55.0)

    mark_missed.delay()

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if ShiftSchedule.objects.get(pk="SHIFT-TINY").compliance != 55.0:
            break
        time.sleep(0.2)
    assert AttendanceLog.objects.filter(employee_id="EMP-1", status="missed").exists()
    assert ShiftSchedule.objects.get(pk="SHIFT-TINY").compliance == 0.0
