"""Attendance's subscriptions to what the apps below it announce (connected in ``AttendanceConfig.ready()``)."""

from __future__ import annotations

from attendance import services
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


def erase_person(sender, *, employee_id, **kwargs) -> dict[str, int]:
    """A person erased by recognition loses their presence thumbnail and the export files naming them."""
    return services.erase_person(employee_id)
