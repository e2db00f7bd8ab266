"""Plate watchlists: what a sighting of a listed plate does.

- Deny list: the event is marked ``deny`` and an alert (level high) is raised, which also sends a
  notification and an ``alerts`` message on ``/ws``. Repeated sightings of the same plate within
  ``ANPR_WATCHLIST_ALERT_COOLDOWN`` seconds (default 300) are marked but raise no further alert: a car
  waiting at a gate is read many times a minute, and one alert per pass is what an operator can act on.
- Allow list: the event is marked ``allow``; nothing is raised. Sites use it to tell known vehicles
  (staff, deliveries) apart on the dashboard and in the admin.
- A plate on both lists counts as denied: the cautious reading wins.

Matching is on the normalised plate of the event's best read (``plate_text``), never on the other OCR
candidates, so a misread candidate cannot raise an alert on its own.

Every ingested event is matched, so each process keeps the listed plates (``config.stamps``: any change to
an entry, on any process, makes every process read them again before its next match). Unlisted plates, nearly
all, cost no query; a listed one is read from the database, so what it is marked with is what is stored.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from anpr.choices import ListType
from anpr.models import PlateEvent, WatchlistEntry
from anpr.plates import normalize_plate
from cameras import alerting
from cameras.choices import AlertLevel
from cameras.models import Alert, Camera
from config.api.contracts import ApiError, FieldError, Kind
from config.stamps import StampedCopy

DEFAULT_ALERT_COOLDOWN_SECONDS = 300
SOURCE_PREFIX = "anpr-deny"
# Past this many active entries the process keeps none and asks the database per event (one indexed query).
MAX_KEPT_ENTRIES = 100_000


def alert_cooldown() -> timedelta:
    return timedelta(seconds=getattr(settings, "ANPR_WATCHLIST_ALERT_COOLDOWN", DEFAULT_ALERT_COOLDOWN_SECONDS))


def _load_listed() -> frozenset[str] | None:
    """The plates of the active entries; None when there are too many to keep."""
    plates = list(
        WatchlistEntry.objects.filter(active=True).values_list("plate_normalized", flat=True)[: MAX_KEPT_ENTRIES + 1]
    )
    return frozenset(plates) if len(plates) <= MAX_KEPT_ENTRIES else None


listed_plates = StampedCopy("anpr:watchlist", _load_listed)


def entry_changed(sender, instance, **kwargs) -> None:
    listed_plates.changed()


def entry_for(plate_normalized: str) -> WatchlistEntry | None:
    """The active entry for a plate; a deny entry wins over an allow entry."""
    listed = listed_plates.get()
    if listed is not None and plate_normalized not in listed:
        return None
    entries = list(WatchlistEntry.objects.filter(plate_normalized=plate_normalized, active=True))
    if not entries:
        return None
    return min(entries, key=lambda entry: 0 if entry.list_type == ListType.DENY else 1)


def mark(event: PlateEvent, entry: WatchlistEntry | None) -> None:
    event.watchlist_entry = entry
    event.watchlist_match = entry.list_type if entry else ""


def _source(plate_normalized: str, event_id: str) -> str:
    # One alert per sighting (an open alert per plate would silence every later pass until someone
    # resolved it); the plate prefix lets the cooldown find the plate's recent alerts.
    return f"{SOURCE_PREFIX}:{plate_normalized}:{hashlib.sha1(event_id.encode()).hexdigest()[:16]}"


def on_sighting(event: PlateEvent, entry: WatchlistEntry | None) -> Alert | None:
    """Raise the alert a deny-listed plate calls for (inside the ingest transaction); the alert or None."""
    if entry is None or entry.list_type != ListType.DENY:
        return None
    recent = Alert.objects.filter(
        source__startswith=f"{SOURCE_PREFIX}:{event.plate_normalized}:",
        timestamp__gte=timezone.now() - alert_cooldown(),
    )
    if recent.exists():
        return None
    where = event.camera_id + (f" / {event.zone_id}" if event.zone_id else "")
    reason = f" Reason: {entry.reason}" if entry.reason else ""
    alert, _ = alerting.raise_once(
        source=_source(event.plate_normalized, event.event_id),
        title=f"Deny-listed plate {event.plate_text} seen at {event.camera_id}",
        description=f"Plate {event.plate_text} (confidence {event.confidence:.2f}) at {where}, "
        f"event {event.event_id}.{reason}",
        level=AlertLevel.HIGH,
        camera=Camera.objects.filter(pk=event.camera_id).first(),
        tags=["anpr", "watchlist", f"plate:{event.plate_normalized}"],
        permission="anpr:read",  # who may see plate events; a camera viewer may not
    )
    return alert


# --- Managing entries (API, dashboard) ------------------------------------------------------------


def save_entry(entry: WatchlistEntry | None, data: dict, *, user=None) -> WatchlistEntry:
    """Create (entry None) or change an entry; a plate is on each list at most once (409 otherwise)."""
    # API keys act for no user: only a person is recorded as the one who listed a plate.
    entry = entry or WatchlistEntry(created_by=user if isinstance(user, User) else None)
    for field in ("plate_text", "list_type", "reason", "active"):
        if field in data:
            setattr(entry, field, data[field])
    normalized = normalize_plate(entry.plate_text or "")
    if not (entry.plate_text or "").isprintable():
        raise ApiError(
            Kind.VALIDATION,
            "Validation error",
            field_errors=[FieldError("plate_text", "plate_text may not hold control characters")],
        )
    if not normalized:
        raise ApiError(
            Kind.VALIDATION,
            "Validation error",
            field_errors=[FieldError("plate_text", "plate_text must hold at least one letter or digit")],
        )
    # One list per plate: allowed and denied at once would make every sighting's outcome a matter of order.
    clash = WatchlistEntry.objects.filter(plate_normalized=normalized).exclude(pk=entry.pk).first()
    conflict = ApiError(Kind.CONFLICT, f"{normalized} is already on the {entry.list_type} list")
    if clash is not None:
        raise ApiError(Kind.CONFLICT, f"{normalized} is already on the {clash.list_type} list")
    try:
        with transaction.atomic():
            entry.save()
    except IntegrityError:  # listed by someone else at the same moment
        raise conflict from None
    return entry
