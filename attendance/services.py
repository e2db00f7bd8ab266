"""Attendance business logic: each recognition moves presence and the day's log; manual entries; the
missed-attendance job. Views and tasks stay thin and call these.

Concurrency: two workers may recognise the same person at the same moment. Every write runs in a
transaction that locks the rows it changes (``select_for_update``); a row another worker inserted in the
meantime surfaces as an ``IntegrityError`` on a unique constraint (one log per employee and day, one
presence row per person, log ids), and the attempt is retried, then finding that row and updating it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import IntegerField, Max
from django.db.models.functions import Cast, Substr
from django.utils import timezone

from accounts import audit
from attendance import shifts as shift_rules
from attendance.choices import AttendanceStatus, OdooStatus, PresenceStatus
from attendance.models import AttendanceLog, AttendanceRecord, ShiftSchedule
from cameras.models import Camera

logger = logging.getLogger("argus.attendance")

MAX_ATTEMPTS = 12
LOG_ID_PREFIX = "ATT-"
MISSED_LOOKBACK_DAYS = 1  # yesterday too: a night shift ends today, and a Beat outage catches up


def log_id_prefix(day: date) -> str:
    return f"{LOG_ID_PREFIX}{day:%Y%m%d}-"


def next_log_id(day: date) -> str:
    """``ATT-YYYYMMDD-NNN``: one more than the day's highest number (NNN grows past 999 if needed)."""
    prefix = log_id_prefix(day)
    highest = (
        AttendanceLog.objects.filter(id__regex=rf"^{prefix}[0-9]+$")
        .annotate(number=Cast(Substr("id", len(prefix) + 1), IntegerField()))
        .aggregate(highest=Max("number"))["highest"]
    )
    return f"{prefix}{(highest or 0) + 1:03d}"


def _aware(moment: datetime) -> datetime:
    # Callers hand UTC; a naive moment is taken as UTC rather than as some process-local zone.
    return moment if timezone.is_aware(moment) else moment.replace(tzinfo=UTC)


def _camera(camera: Camera | str | None) -> Camera | None:
    if camera is None or isinstance(camera, Camera):
        return camera
    return Camera.objects.filter(pk=camera).first()


def _retrying(operation):
    """Run ``operation`` in a savepoint, again when a concurrent insert wins a unique constraint."""
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            with transaction.atomic():
                return operation()
        except IntegrityError:
            if attempt == MAX_ATTEMPTS:
                raise
            logger.debug("attendance write lost a race (attempt %s); retrying", attempt)
    raise AssertionError("unreachable")


def _mark_changed_for_odoo(log: AttendanceLog, changed: list[str]) -> None:
    # A log Odoo already has must be sent again when its times change: the sync updates, never duplicates.
    if log.odoo_status == OdooStatus.SYNCED:
        log.odoo_status = OdooStatus.PENDING
        changed.append("odoo_status")


def _move_presence(
    *,
    employee_id: str,
    name: str,
    department: str,
    camera: Camera | None,
    seen_at: datetime,
    accuracy: float,
    thumbnail: str,
) -> None:
    fields = {
        "name": name,
        "department": department,
        "status": PresenceStatus.ON_SITE,
        "accuracy": accuracy,
        "timestamp": seen_at,
        "camera": camera,
        "camera_name": camera.name if camera else "",
        "thumbnail": thumbnail,
    }
    record = AttendanceRecord.objects.select_for_update().filter(person_id=employee_id).first()
    if record is None:
        AttendanceRecord.objects.create(person_id=employee_id, **fields)
    elif seen_at >= record.timestamp:  # a sighting delivered late must not move presence back in time
        for key, value in fields.items():
            setattr(record, key, value)
        record.save()


def _sighting_fields(camera: Camera | None, accuracy: float | None) -> dict:
    return {"camera": camera, "camera_name": camera.name if camera else "", "accuracy": accuracy}


def _update_day_log(log: AttendanceLog, *, seen_at: datetime, camera: Camera | None, accuracy: float) -> None:
    changed: list[str] = []
    first, last = log.check_in, log.check_out or log.check_in
    if first is None or seen_at < first:
        log.check_in = seen_at
        changed.append("check_in")
        # The log's camera and accuracy are those of the arrival, the sighting that set time in.
        for key, value in _sighting_fields(camera, accuracy).items():
            setattr(log, key, value)
            changed.append(key)
        if not log.manual_override:
            log.shift = shift_rules.shift_for(log.department, seen_at)
            log.status = shift_rules.status_for(log.shift, log.date, seen_at)
            changed += ["shift", "status"]
    latest = max(moment for moment in (last, seen_at) if moment is not None)
    new_check_out = latest if latest > log.check_in else None
    if new_check_out != log.check_out:
        log.check_out = new_check_out
        changed.append("check_out")
    if {"check_in", "check_out"} & set(changed):
        _mark_changed_for_odoo(log, changed)
    if changed:
        log.save(update_fields=[*dict.fromkeys(changed), "updated_at"])


def record_recognition(
    *,
    employee_id: str,
    name: str,
    department: str,
    camera: Camera | str | None,
    seen_at: datetime,
    accuracy: float,
    thumbnail: str = "",
) -> AttendanceLog:
    """Record one recognition of an enrolled person and return the day's log.

    Presence (``AttendanceRecord``) moves to this sighting unless a later one is already recorded. The
    log of the site-local day of ``seen_at`` is created at the first sighting (time in, its camera and
    accuracy, status present or late against the person's shift and its grace period) and its time out
    follows the last sighting. A log already synced to Odoo whose times change goes back to pending.
    Safe to call from several workers at once: one log per person and day, ids unique.
    """
    seen_at = _aware(seen_at)
    camera = _camera(camera)
    day = shift_rules.site_day(seen_at)

    def write() -> AttendanceLog:
        _move_presence(
            employee_id=employee_id,
            name=name,
            department=department,
            camera=camera,
            seen_at=seen_at,
            accuracy=accuracy,
            thumbnail=thumbnail,
        )
        log = AttendanceLog.objects.select_for_update().filter(employee_id=employee_id, date=day).first()
        if log is not None:
            _update_day_log(log, seen_at=seen_at, camera=camera, accuracy=accuracy)
            return log
        shift = shift_rules.shift_for(department, seen_at)
        return AttendanceLog.objects.create(
            id=next_log_id(day),
            employee_id=employee_id,
            name=name,
            department=department,
            date=day,
            check_in=seen_at,
            shift=shift,
            status=shift_rules.status_for(shift, day, seen_at),
            **_sighting_fields(camera, accuracy),
        )

    return _retrying(write)


# --- Manual entries -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ManualEntry:
    log: AttendanceLog
    created: bool
    before: dict


def log_snapshot(log: AttendanceLog) -> dict:
    return {
        "status": log.status,
        "checkIn": log.check_in.isoformat() if log.check_in else None,
        "checkOut": log.check_out.isoformat() if log.check_out else None,
        "note": log.note,
        "manualOverride": log.manual_override,
    }


def record_manual_entry(
    *,
    employee_id: str,
    name: str,
    department: str,
    timestamp: datetime,
    status: str | None = None,
    camera: Camera | None = None,
    note: str = "",
    actor: str = "system",
    actor_role: str = "",
) -> ManualEntry:
    """An operator's entry for the site-local day of ``timestamp``: creates that day's log or corrects the
    existing one (a retry of the same entry changes nothing more). The log is marked ``manual_override``,
    so later recognitions extend its times but never change its status. Without ``status`` it follows
    the shift rules; ``missed`` records no times on a new log. Audited as ``attendance_log.manual_entry``
    by ``actor``, with the log before and after, in the same transaction as the change."""
    timestamp = _aware(timestamp)
    day = shift_rules.site_day(timestamp)

    def write() -> ManualEntry:
        log = AttendanceLog.objects.select_for_update().filter(employee_id=employee_id, date=day).first()
        if log is None:
            shift = shift_rules.shift_for(department, timestamp)
            missed = status == AttendanceStatus.MISSED
            log = AttendanceLog.objects.create(
                id=next_log_id(day),
                employee_id=employee_id,
                name=name,
                department=department,
                date=day,
                check_in=None if missed else timestamp,
                shift=shift,
                status=status or shift_rules.status_for(shift, day, timestamp),
                manual_override=True,
                note=note,
                **_sighting_fields(None if missed else camera, None),
            )
            return ManualEntry(log, True, {})
        before = log_snapshot(log)
        changed = ["manual_override", "note", "status"]
        log.manual_override = True
        log.note = note or log.note
        if status != AttendanceStatus.MISSED:
            if log.check_in is None or timestamp < log.check_in:
                if log.check_in is not None:
                    log.check_out = log.check_out or log.check_in
                log.check_in = timestamp
                changed += ["check_in", "check_out", "accuracy", *(["camera", "camera_name"] if camera else [])]
                log.accuracy = None  # an operator's entry has no recognition accuracy
                if camera is not None:
                    log.camera, log.camera_name = camera, camera.name
            elif timestamp > (log.check_out or log.check_in):
                log.check_out = timestamp
                changed.append("check_out")
        log.status = status or shift_rules.status_for(log.shift, day, log.check_in or timestamp)
        if log_snapshot(log) != before:
            _mark_changed_for_odoo(log, changed)
        log.save(update_fields=[*dict.fromkeys(changed), "updated_at"])
        return ManualEntry(log, False, before)

    def write_audited() -> ManualEntry:
        entry = write()
        _audit_manual_entry(entry, actor, actor_role)
        return entry

    return _retrying(write_audited)


def _audit_manual_entry(entry: ManualEntry, actor: str, actor_role: str) -> None:
    log = entry.log
    audit.record(
        actor=actor,
        actor_role=actor_role,
        action="attendance_log.manual_entry",
        resource_type="attendance_log",
        resource_id=log.pk,
        message=f"Manual attendance {'entry' if entry.created else 'correction'} for {log.employee_id} on "
        f"{log.date}: {log.status}",
        context={
            "employeeId": log.employee_id,
            "date": log.date.isoformat(),
            "created": entry.created,
            "before": entry.before,
            "after": log_snapshot(log),
        },
    )


def delete_log(log: AttendanceLog) -> None:
    log.delete()


# --- Missed attendance (Beat) ---------------------------------------------------------------------------


def _seen_ids(day: date, shifts: list[ShiftSchedule]) -> set[str]:
    """Employees with a log on ``day``; for a shift past midnight also those who arrived during its tail
    on the next day (their sighting's own day is the next one)."""
    seen = set(AttendanceLog.objects.filter(date=day).values_list("employee_id", flat=True))
    overnight_ends = [shift_rules.occurrence(shift, day).end for shift in shifts if shift.end_time <= shift.start_time]
    if overnight_ends:
        seen |= set(
            AttendanceLog.objects.filter(
                date=day + timedelta(days=1), check_in__isnull=False, check_in__lt=max(overnight_ends)
            ).values_list("employee_id", flat=True)
        )
    return seen


def mark_missed(now: datetime | None = None) -> int:
    """Create ``missed`` logs for active enrolled people not seen on a day whose shifts have all ended.

    A person's shifts are those naming their department (else those for everyone). Only once the last of
    them has ended that day is an absence certain. People enrolled after that end are not counted. Runs
    over today and the last few days, so a missed Beat run catches up; idempotent (one log per day).
    Returns how many logs it created."""
    from recognition.choices import ProfileStatus
    from recognition.models import FaceProfile

    now = now or timezone.now()
    shifts = shift_rules.active_shifts()
    if not shifts:
        return 0
    profiles = list(
        FaceProfile.objects.filter(status=ProfileStatus.ACTIVE).only("employee_id", "name", "department", "created_at")
    )
    today = shift_rules.site_today(now)
    created = 0
    for back in range(MISSED_LOOKBACK_DAYS, -1, -1):
        day = today - timedelta(days=back)
        by_department: dict[str, list[ShiftSchedule]] = {}
        seen: set[str] | None = None
        for profile in profiles:
            key = profile.department.strip().casefold()
            if key not in by_department:
                by_department[key] = shift_rules.shifts_for_department(profile.department, day, shifts)
            own = by_department[key]
            if not own:
                continue
            last_end = max(shift_rules.occurrence(shift, day).end for shift in own)
            if last_end > now or profile.created_at > last_end:
                continue
            if seen is None:
                seen = _seen_ids(day, shifts)
            if profile.employee_id in seen:
                continue
            first = min(own, key=lambda shift: (shift.start_time, shift.pk))
            if _create_missed(profile, day, first):
                created += 1
                seen.add(profile.employee_id)
    return created


def _create_missed(profile, day: date, shift: ShiftSchedule) -> bool:
    def write() -> bool:
        if AttendanceLog.objects.filter(employee_id=profile.employee_id, date=day).exists():
            return False  # seen meanwhile, or another run of this job got here first
        AttendanceLog.objects.create(
            id=next_log_id(day),
            employee_id=profile.employee_id,
            name=profile.name,
            department=profile.department,
            date=day,
            shift=shift,
            status=AttendanceStatus.MISSED,
        )
        return True

    return _retrying(write)


def refresh_compliance(now: datetime | None = None) -> dict[str, float]:
    """Store each active shift's compliance (present over expected, percent) for its latest occurrence."""
    results = {}
    for shift in ShiftSchedule.objects.filter(active=True):
        percent = shift_rules.compliance(shift, now).percent
        if shift.compliance != percent:
            ShiftSchedule.objects.filter(pk=shift.pk).update(compliance=percent, updated_at=timezone.now())
        results[shift.pk] = percent
    return results


def erase_person(employee_id: str) -> dict[str, int]:
    """What attendance keeps of a person that is biometric or exported: the face crop on their presence row
    (cleared) and every export file naming them (job expired). Files are deleted once the caller's
    transaction commits. Returns the counts, for the erasure's audit entry."""
    from django.core.files.storage import default_storage

    from attendance.exports.jobs import expire_exports_naming

    records = AttendanceRecord.objects.filter(person_id=employee_id).exclude(thumbnail="")
    keys = list(records.values_list("thumbnail", flat=True))
    presence = records.update(thumbnail="")
    exports = expire_exports_naming(employee_id)

    def delete_files() -> None:
        for key in [*keys, *exports]:
            try:
                default_storage.delete(key)
            except Exception:  # a file left behind is logged for an operator; the rows no longer name it
                logger.exception("could not delete stored file %s of an erased person", key)

    transaction.on_commit(delete_files)
    return {"presence_thumbnails": presence, "export_files": len(exports)}
