"""The 003 representation of a plate event: one function for the API, the stream and the outbox."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from anpr.models import DetectionModel, PlateEvent, WatchlistEntry
from config.storage import signed_url


def iso(value: datetime | None) -> str | None:
    """UTC with ``Z``; milliseconds as the spec shows them, microseconds only where they were sent."""
    if value is None:
        return None
    value = value.astimezone(UTC)
    spec = "milliseconds" if value.microsecond % 1000 == 0 else "microseconds"
    if value.microsecond == 0:
        spec = "seconds"
    return value.isoformat(timespec=spec).replace("+00:00", "Z")


def event_payload(event: PlateEvent) -> dict[str, Any]:
    """An event as 003 shows it (``id`` is the event id); image URLs are signed and expire."""
    return {
        "id": event.event_id,
        "event_id": event.event_id,
        "timestamp": iso(event.timestamp),
        "camera_id": event.camera_id,
        "zone_id": event.zone_id or None,
        "plate_text": event.plate_text,
        "confidence": event.confidence,
        "raw_candidates": event.raw_candidates,
        "frame_url": signed_url(event.frame_key) if event.frame_key else None,
        "crop_url": signed_url(event.crop_key) if event.crop_key else None,
        "vehicle_info": event.vehicle_info,
        "tpms_status": event.tpms_status,
        "metadata": event.metadata,
        "created_at": iso(event.created_at),
    }


def accepted_payload(event: PlateEvent) -> dict[str, Any]:
    """The 202 body of ``POST /events/ingest``, exactly as 003 shows it."""
    return {
        "id": event.event_id,
        "status": "accepted",
        "timestamp": iso(event.timestamp),
        "message": "Event queued for processing",
    }


def model_payload(model: DetectionModel) -> dict[str, Any]:
    return {
        "id": model.id,
        "name": model.name,
        "type": model.type,
        "version": model.version,
        "weights_path": model.weights_path,
        "parameters": model.parameters,
        "metadata": model.metadata,
        "created_at": iso(model.created_at),
        "updated_at": iso(model.updated_at),
    }


def watchlist_payload(entry: WatchlistEntry) -> dict[str, Any]:
    return {
        "id": entry.pk,
        "plate_text": entry.plate_text,
        "plate_normalized": entry.plate_normalized,
        "list_type": entry.list_type,
        "reason": entry.reason,
        "active": entry.active,
        "created_by": getattr(entry.created_by, "email", None),
        "created_at": iso(entry.created_at),
        "updated_at": iso(entry.updated_at),
    }
