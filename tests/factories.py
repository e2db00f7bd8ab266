"""Factories for test data: each builds a row as the app itself would store it, with defaults a test overrides
only where its assertions depend on the value.

Defaults follow the models' own (a camera is enabled and has no stream, as ``Camera()`` is); ids and names
come from sequences, so a test that asserts an id passes it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import factory
import numpy as np
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from accounts.models import ApiKey, AuditLog, Notification, Role, User
from anpr.choices import ListType
from anpr.models import PlateEvent, WatchlistEntry
from attendance.choices import AttendanceStatus, ExportFormat, ExportType
from attendance.models import AttendanceLog, ExportJob, ShiftSchedule
from attendance.shifts import site_day
from cameras.choices import AlertLevel
from cameras.models import Alert, Camera, Snapshot
from recognition.choices import DetectionEventStatus, DetectionStatus, ProfileStatus
from recognition.images import encode_jpeg
from recognition.models import Detection, DetectionEventLog, FaceImage, FaceProfile

DEFAULT_PASSWORD = "correct-horse-battery-staple"


# --- accounts --------------------------------------------------------------------------------------


class RoleFactory(factory.django.DjangoModelFactory):
    """A role holding exactly ``permissions``; asking twice for one id returns the stored role."""

    class Meta:
        model = Role
        django_get_or_create = ("id",)

    id = factory.Sequence(lambda n: f"ROLE-TEST-{n}")
    name = factory.LazyAttribute(lambda role: role.id)
    permissions = factory.LazyFunction(list)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    name = factory.Faker("name")
    role_id = "ROLE-VIEWER"
    status = "active"

    @factory.post_generation
    def password(self, create, extracted, **kwargs):
        self.set_password(extracted or DEFAULT_PASSWORD)
        if create:
            self.save(update_fields=["password"])


class ApiKeyFactory(factory.django.DjangoModelFactory):
    """``ApiKeyFactory()`` returns the key; its secret is on ``key.raw`` (tests only)."""

    class Meta:
        model = ApiKey
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"edge-worker-{n}")
    scopes = factory.LazyFunction(lambda: ["anpr:ingest"])
    tier = "premium"

    @factory.post_generation
    def secret(self, create, extracted, **kwargs):
        self.raw = extracted or ApiKey.generate()
        self.set_key(self.raw)
        if create:
            self.save(update_fields=["key_prefix", "key_hash"])


class AuditLogFactory(factory.django.DjangoModelFactory):
    """An audit entry written now (``timestamp`` moves it)."""

    class Meta:
        model = AuditLog

    actor = "someone@example.com"
    action = "camera.update"
    message = factory.Sequence(lambda n: f"change {n + 1}")


class NotificationFactory(factory.django.DjangoModelFactory):
    """A notification for everyone (``user`` narrows it), sent ``minutes_ago`` minutes ago."""

    class Meta:
        model = Notification

    class Params:
        minutes_ago = 0

    user = None
    title = factory.Sequence(lambda n: f"Notice {n + 1}")
    timestamp = factory.LazyAttribute(lambda notice: timezone.now() - timedelta(minutes=notice.minutes_ago))


def role_user(role_id: str, permissions: list[str]) -> User:
    """A user whose role (created unless it exists) holds ``permissions``."""
    return UserFactory(role_id=RoleFactory(id=role_id, permissions=permissions).id)


# --- cameras ---------------------------------------------------------------------------------------


class CameraFactory(factory.django.DjangoModelFactory):
    """A camera as ``Camera()`` defaults it (enabled, offline, no stream). Nothing opens a stream on its own:
    give ``stream_url`` a loopback address when a test reads it."""

    class Meta:
        model = Camera

    id = factory.Sequence(lambda n: f"CAM-{n + 1:03d}")
    name = factory.LazyAttribute(lambda camera: f"Camera {camera.id}")


class SnapshotFactory(factory.django.DjangoModelFactory):
    """A snapshot row taken now (its file is the test's to store when it reads it)."""

    class Meta:
        model = Snapshot

    camera = factory.SubFactory(CameraFactory)
    storage_key = factory.LazyAttributeSequence(lambda snapshot, n: f"snapshots/{snapshot.camera.pk}/{n + 1}.jpg")
    taken_at = factory.LazyFunction(timezone.now)


class AlertFactory(factory.django.DjangoModelFactory):
    """An alert raised ``minutes_ago`` minutes ago."""

    class Meta:
        model = Alert

    class Params:
        minutes_ago = 0

    id = factory.Sequence(lambda n: f"ALERT-{n + 1}")
    title = factory.LazyAttribute(lambda alert: f"Alert {alert.id}")
    level = AlertLevel.HIGH
    timestamp = factory.LazyAttribute(lambda alert: timezone.now() - timedelta(minutes=alert.minutes_ago))


# --- recognition -----------------------------------------------------------------------------------


class FaceProfileFactory(factory.django.DjangoModelFactory):
    """An enrolled person (active); ``images=n`` adds n stored photographs."""

    class Meta:
        model = FaceProfile
        skip_postgeneration_save = True

    employee_id = factory.Sequence(lambda n: f"EMP-{n + 1:05d}")
    name = factory.Sequence(lambda n: f"Person {n + 1}")
    status = ProfileStatus.ACTIVE

    @factory.post_generation
    def images(self, create, extracted, **kwargs):
        for _ in range(extracted or 0):
            FaceImageFactory(profile=self, **kwargs) if create else FaceImageFactory.build(profile=self, **kwargs)


class FaceImageFactory(factory.django.DjangoModelFactory):
    """A profile's photograph: created, it is a real JPEG in storage and the row states its true size.
    (Built, nothing is stored: for rows bulk-created by the test.)"""

    class Meta:
        model = FaceImage

    profile = factory.SubFactory(FaceProfileFactory)
    storage_key = factory.LazyAttributeSequence(lambda image, n: f"faces/{image.profile.pk}/{n}.jpg")
    content_type = "image/jpeg"
    size_bytes = 0
    width = 64
    height = 64
    shade = factory.Sequence(lambda n: 40 + n % 200)  # the grey of the picture: images differ from each other

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        pixels = np.full((kwargs["height"], kwargs["width"], 3), kwargs.pop("shade"), dtype=np.uint8)
        data = encode_jpeg(pixels)
        kwargs["storage_key"] = default_storage.save(kwargs["storage_key"], ContentFile(data))
        kwargs["size_bytes"] = len(data)
        return super()._create(model_class, *args, **kwargs)

    @classmethod
    def _build(cls, model_class, *args, **kwargs):
        kwargs.pop("shade")
        return super()._build(model_class, *args, **kwargs)


class DetectionFactory(factory.django.DjangoModelFactory):
    """A stored sighting: of ``profile`` (or of whoever ``person_id`` names) it is authorized, else unknown."""

    class Meta:
        model = Detection

    camera = factory.SubFactory(CameraFactory)
    profile = None
    person_id = factory.LazyAttribute(lambda detection: detection.profile.employee_id if detection.profile else "")
    name = factory.LazyAttribute(lambda detection: detection.profile.name if detection.profile else "")
    confidence = 97.5
    timestamp = factory.LazyFunction(timezone.now)
    bounding_box = factory.LazyFunction(lambda: {"top": 10, "left": 20, "width": 80, "height": 100})
    status = factory.LazyAttribute(
        lambda detection: DetectionStatus.AUTHORIZED if detection.person_id else DetectionStatus.UNKNOWN
    )


class DetectionEventLogFactory(factory.django.DjangoModelFactory):
    """One call of the detection provider, as the event log keeps it."""

    class Meta:
        model = DetectionEventLog

    camera = factory.SubFactory(CameraFactory)
    camera_name = factory.LazyAttribute(lambda event: event.camera.name)
    timestamp = factory.LazyFunction(timezone.now)
    status = DetectionEventStatus.RECEIVED


# --- anpr ------------------------------------------------------------------------------------------


class PlateEventFactory(factory.django.DjangoModelFactory):
    """A stored plate event without images, its plate normalised by the model's own rule. ``when`` takes an
    ISO 8601 moment in place of ``timestamp``."""

    class Meta:
        model = PlateEvent

    class Params:
        when = None

    event_id = factory.Sequence(lambda n: f"evt-{n + 1:06d}")
    timestamp = factory.LazyAttribute(
        lambda event: datetime.fromisoformat(event.when) if event.when else timezone.now()
    )
    camera_id = "cam-001"
    zone_id = ""
    plate_text = "ABC123"
    confidence = 0.9

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        event = model_class(*args, **kwargs)
        event.set_plate(event.plate_text)
        event.save(force_insert=True)
        return event


class WatchlistEntryFactory(factory.django.DjangoModelFactory):
    """An active plate on the deny list."""

    class Meta:
        model = WatchlistEntry

    plate_text = factory.Sequence(lambda n: f"WL{n + 1:04d}")
    list_type = ListType.DENY
    reason = ""
    active = True


# --- attendance ------------------------------------------------------------------------------------


class ShiftScheduleFactory(factory.django.DjangoModelFactory):
    """A shift of every day of the week, 09:00-17:00 site time with 10 minutes' grace, for everyone."""

    class Meta:
        model = ShiftSchedule

    id = factory.Sequence(lambda n: f"SHIFT-{n + 1}")
    name = factory.LazyAttribute(lambda shift: shift.id.title())
    start_time = time(9, 0)
    end_time = time(17, 0)
    grace_minutes = 10
    departments = factory.LazyFunction(list)
    weekdays = factory.LazyFunction(lambda: [1, 2, 3, 4, 5, 6, 7])


class AttendanceLogFactory(factory.django.DjangoModelFactory):
    """A day's attendance as the attendance app writes it: present when there is a check-in and missed
    otherwise, pending for Odoo, its ``date`` the check-in's site-local day. Without a check-in given, ``day``
    (a date) places one at 02:00 UTC, checked out 8.5 hours later."""

    class Meta:
        model = AttendanceLog

    class Params:
        day = date(2025, 11, 5)

    id = factory.LazyAttributeSequence(lambda log, n: f"ATT-{log.date:%Y%m%d}-{n + 1:03d}")
    employee_id = factory.Sequence(lambda n: f"EMP-{n + 1:05d}")
    name = factory.LazyAttribute(lambda log: f"Person {log.employee_id}")
    check_in = factory.LazyAttribute(lambda log: datetime.combine(log.day, time(2, 0), tzinfo=UTC))
    check_out = factory.LazyAttribute(
        lambda log: log.check_in + timedelta(hours=8, minutes=30) if log.check_in else None
    )
    date = factory.LazyAttribute(lambda log: site_day(log.check_in) if log.check_in else log.day)
    camera = None
    camera_name = factory.LazyAttribute(lambda log: log.camera.name if log.camera else "")
    status = factory.LazyAttribute(lambda log: AttendanceStatus.PRESENT if log.check_in else AttendanceStatus.MISSED)


class ExportJobFactory(factory.django.DjangoModelFactory):
    """A queued CSV export of attendance logs, owned by nobody unless ``user`` is given."""

    class Meta:
        model = ExportJob

    type = ExportType.ATTENDANCE
    format = ExportFormat.CSV
