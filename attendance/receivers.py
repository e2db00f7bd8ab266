"""Attendance's subscriptions to what the apps below it announce (connected in ``AttendanceConfig.ready()``)."""

from __future__ import annotations

from attendance.services import record_recognition


def record_recognized_person(sender, *, detection, camera, **kwargs) -> None:
    """A recognition of an enrolled person moves their presence and their day's log."""
    record_recognition(
        employee_id=detection.person_id,
        name=detection.name,
        department=detection.profile.department if detection.profile else "",
        camera=camera,
        seen_at=detection.timestamp,
        accuracy=detection.confidence,
        thumbnail=detection.thumbnail,
    )
