"""Event ingest (003 ``POST /events/ingest``): validate everything, then store the event and its images at once.

Order of work, and why:

1. Parse and validate the whole request (every field of the event, every image) before anything is
   written, and report every problem together: an edge worker fixes its payload in one round trip.
   An image counts as an image only when its magic bytes say JPEG or PNG *and* it decodes.
2. In one transaction: insert the row (the event id is the primary key), then write the images under
   ``anpr-events/{event_id}/frame.jpg`` and ``crop.jpg``, then the watchlist alert and the outbox entry.
   While the transaction is open, it holds the event id: a second copy of the event, even one sent at
   the same moment, waits on the primary key at its INSERT and fails there once the first commits. The
   loser answers 409 without having touched a file, so it can never overwrite or delete the winner's
   images, and the images a winner writes cannot be clobbered by anyone.
3. If anything fails after the insert (a storage error, the commit itself), the transaction rolls back
   and the files this request wrote are deleted: no row without its images, no images without a row
   (short of a crash between the file write and the commit; the next copy of that event overwrites
   such leftovers, since no stored row owns them).
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import cv2
import numpy as np
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, connections, router, transaction
from django.db.models import signals
from django.utils import timezone
from PIL import Image, UnidentifiedImageError

from anpr import delivery, watchlists
from anpr.models import EVENT_ID_MAX, PLATE_MAX, SOURCE_ID_MAX, PlateEvent
from anpr.plates import normalize_plate
from config.api.contracts import ApiError, FieldError, Kind
from config.api.timestamps import client_timestamp
from config.stamps import prefetched

DEFAULT_MAX_IMAGE_BYTES = 10 * 1024 * 1024
IMAGE_FIELDS = ("frame", "crop")
STORAGE_PREFIX = "anpr-events"
MAX_CANDIDATES = 50
MAX_OBJECT_BYTES = 16 * 1024  # vehicle_info, tpms_status, metadata: each, as JSON
MAX_EVENT_PART_BYTES = 256 * 1024  # the ``event`` part of a multipart request
# Storage keys are built from the event id, so it may hold no slash, space or dot-dot games.
EVENT_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:\-]*$")
# Path segments of /events/...: an event by these ids could not be fetched at /events/{id}.
RESERVED_EVENT_IDS = frozenset({"ingest", "stats", "stream"})
JPEG_MAGIC = b"\xff\xd8\xff"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
JPEG_QUALITY = 92  # PNG uploads are stored as JPEG at this quality


def max_image_bytes() -> int:
    return getattr(settings, "ANPR_MAX_IMAGE_BYTES", DEFAULT_MAX_IMAGE_BYTES)


def image_key(event_id: str, field: str) -> str:
    return f"{STORAGE_PREFIX}/{event_id}/{field}.jpg"


@dataclass(frozen=True)
class ValidEvent:
    event_id: str
    timestamp: datetime
    camera_id: str
    zone_id: str
    plate_text: str
    confidence: float
    raw_candidates: list[dict[str, Any]]
    vehicle_info: dict[str, Any] | None
    tpms_status: dict[str, Any] | None
    metadata: dict[str, Any]


@dataclass(frozen=True)
class ValidImage:
    field: str
    jpeg: bytes  # what is stored: the upload itself when it was a JPEG, a re-encoding of a PNG


def invalid_event(errors: list[FieldError]) -> ApiError:
    return ApiError(Kind.VALIDATION, "Invalid event data", field_errors=errors)


# --- Parsing ---------------------------------------------------------------------------------------


def read_request(content_type: str, data: Any, files: Any) -> tuple[Any, dict[str, UploadedFile], list[FieldError]]:
    """(event document, image uploads, errors) from a JSON body or a multipart body with an ``event`` part."""
    if not content_type.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
        return data, {}, []
    errors: list[FieldError] = []
    uploads = {name: files[name] for name in IMAGE_FIELDS if name in files}
    raw = files.get("event") or data.get("event")
    if hasattr(raw, "read"):  # curl -F "event=@event.json" sends the part as a file
        if raw.size > MAX_EVENT_PART_BYTES:
            errors.append(FieldError("event", "event is larger than 256 KB"))
            return None, uploads, errors
        raw = raw.read()
    if raw in (None, ""):
        errors.append(FieldError("event", "event is required (the event JSON part)"))
        return None, uploads, errors
    try:
        document = json.loads(raw, parse_constant=_refuse_constant)
    except (ValueError, UnicodeDecodeError):
        errors.append(FieldError("event", "event must be a JSON object"))
        return None, uploads, errors
    return document, uploads, errors


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


# --- Validation ------------------------------------------------------------------------------------


def validate_event(document: Any, errors: list[FieldError], *, now: datetime | None = None) -> ValidEvent | None:
    """The event if every field is valid; otherwise ``None``, with every problem appended to ``errors``."""
    if not isinstance(document, dict):
        errors.append(FieldError("event", "the event must be a JSON object"))
        return None
    before = len(errors)
    now = now or timezone.now()
    event_id = _event_id(document.get("event_id"), errors)
    timestamp = _timestamp(document.get("timestamp"), errors, now)
    camera_id = _source_id("camera_id", document.get("camera_id"), errors, required=True)
    zone_id = _source_id("zone_id", document.get("zone_id"), errors, required=False)
    plate_text = _plate(document.get("plate_text"), errors)
    confidence = _confidence("confidence", document.get("confidence"), errors, required=True)
    candidates = _candidates(document.get("raw_candidates"), errors)
    vehicle_info = _object("vehicle_info", document.get("vehicle_info"), errors)
    tpms_status = _object("tpms_status", document.get("tpms_status"), errors)
    metadata = _object("metadata", document.get("metadata"), errors)
    if len(errors) > before:
        return None
    return ValidEvent(
        event_id=event_id,
        timestamp=timestamp,
        camera_id=camera_id,
        zone_id=zone_id or "",
        plate_text=plate_text,
        confidence=confidence,
        raw_candidates=candidates,
        vehicle_info=vehicle_info,
        tpms_status=tpms_status,
        metadata=metadata or {},
    )


def _event_id(value: Any, errors: list[FieldError]) -> str:
    if value is None or value == "":
        errors.append(FieldError("event_id", "event_id is required"))
    elif not isinstance(value, str):
        errors.append(FieldError("event_id", "event_id must be a string"))
    elif len(value) > EVENT_ID_MAX:
        errors.append(FieldError("event_id", f"event_id must be at most {EVENT_ID_MAX} characters"))
    elif value in RESERVED_EVENT_IDS:
        errors.append(FieldError("event_id", f"event_id {value!r} is reserved (it names an endpoint under /events)"))
    elif not EVENT_ID_PATTERN.match(value):
        errors.append(
            FieldError(
                "event_id",
                "event_id may hold letters, digits, '.', '_', ':' and '-' and start with one of the first two",
            )
        )
    else:
        return value
    return ""


def _timestamp(value: Any, errors: list[FieldError], now: datetime) -> datetime:
    """ISO 8601 with a time zone; absent means the moment it was received."""
    if value is None:
        return now
    return client_timestamp(value, errors, now, example="2023-12-15T14:30:45.123Z") or now


def _source_id(name: str, value: Any, errors: list[FieldError], *, required: bool) -> str:
    if value is None or value == "":
        if required:
            errors.append(FieldError(name, f"{name} is required"))
        return ""
    if not isinstance(value, str):
        errors.append(FieldError(name, f"{name} must be a string"))
    elif len(value) > SOURCE_ID_MAX:
        errors.append(FieldError(name, f"{name} must be at most {SOURCE_ID_MAX} characters"))
    elif not value.isprintable() or value != value.strip():
        errors.append(FieldError(name, f"{name} may not hold control characters or surrounding spaces"))
    else:
        return value
    return ""


def _plate(value: Any, errors: list[FieldError]) -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        errors.append(FieldError("plate_text", "plate_text is required"))
    elif not isinstance(value, str):
        errors.append(FieldError("plate_text", "plate_text must be a string"))
    elif len(value.strip()) > PLATE_MAX:
        errors.append(FieldError("plate_text", f"plate_text must be at most {PLATE_MAX} characters"))
    elif not value.strip().isprintable():
        errors.append(FieldError("plate_text", "plate_text may not hold control characters"))
    elif not normalize_plate(value):
        errors.append(FieldError("plate_text", "plate_text must hold at least one letter or digit"))
    else:
        return value.strip()
    return ""


def _confidence(name: str, value: Any, errors: list[FieldError], *, required: bool) -> float:
    if value is None:
        if required:
            errors.append(FieldError(name, f"{name} is required"))
        return 0.0
    # bool is an int to Python, never a confidence to anyone else.
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        errors.append(FieldError(name, f"{name} must be a number between 0 and 1"))
    elif not 0 <= value <= 1:
        errors.append(FieldError(name, f"{name} must be between 0 and 1"))
    else:
        return float(value)
    return 0.0


def _candidates(value: Any, errors: list[FieldError]) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list):
        errors.append(FieldError("raw_candidates", "raw_candidates must be a list"))
        return []
    if len(value) > MAX_CANDIDATES:
        errors.append(FieldError("raw_candidates", f"raw_candidates may hold at most {MAX_CANDIDATES} entries"))
        return []
    cleaned = []
    for index, item in enumerate(value):
        prefix = f"raw_candidates.{index}"
        if not isinstance(item, dict):
            errors.append(FieldError(prefix, f"{prefix} must be an object with text, confidence and model"))
            continue
        text = item.get("text")
        if not isinstance(text, str) or not text.strip():
            errors.append(FieldError(f"{prefix}.text", f"{prefix}.text is required"))
        elif len(text) > PLATE_MAX:
            errors.append(FieldError(f"{prefix}.text", f"{prefix}.text must be at most {PLATE_MAX} characters"))
        confidence = _confidence(f"{prefix}.confidence", item.get("confidence"), errors, required=True)
        model = item.get("model")
        if model is not None and (not isinstance(model, str) or len(model) > 100):
            errors.append(FieldError(f"{prefix}.model", f"{prefix}.model must be a string of at most 100 characters"))
        cleaned.append({**item, "confidence": confidence})
    return cleaned


def _object(name: str, value: Any, errors: list[FieldError]) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        errors.append(FieldError(name, f"{name} must be an object"))
        return None
    if len(json.dumps(value, separators=(",", ":"))) > MAX_OBJECT_BYTES:
        errors.append(FieldError(name, f"{name} must be at most {MAX_OBJECT_BYTES // 1024} KB as JSON"))
        return None
    return value


def validate_image(field: str, upload: UploadedFile, errors: list[FieldError]) -> ValidImage | None:
    """A real JPEG or PNG within the size limit, as JPEG bytes to store; otherwise None and an error."""
    limit = max_image_bytes()
    if upload.size is not None and upload.size > limit:
        errors.append(FieldError(field, f"{field} is larger than the limit of {limit} bytes"))
        return None
    data = upload.read(limit + 1)
    if len(data) > limit:
        errors.append(FieldError(field, f"{field} is larger than the limit of {limit} bytes"))
        return None
    if not data:
        errors.append(FieldError(field, f"{field} is empty"))
        return None
    if data.startswith((JPEG_MAGIC, PNG_MAGIC)) and not _within_pixel_limit(field, data, errors):
        return None
    if data.startswith(JPEG_MAGIC):
        if _decodes_as_jpeg(data):
            return ValidImage(field, data)
    elif data.startswith(PNG_MAGIC):
        jpeg = _png_as_jpeg(data)
        if jpeg is not None:
            return ValidImage(field, jpeg)
    else:
        errors.append(FieldError(field, f"{field} must be a JPEG or PNG image"))
        return None
    errors.append(FieldError(field, f"{field} is not a readable JPEG or PNG image (corrupt or truncated)"))
    return None


def _within_pixel_limit(field: str, data: bytes, errors: list[FieldError]) -> bool:
    # A small file may declare a huge picture (a PNG of zeros compresses ~1000:1): decoding one would
    # allocate gigabytes. The header says the size without decoding anything.
    try:
        with Image.open(io.BytesIO(data)) as header:
            width, height = header.size
    except Image.DecompressionBombError:  # Pillow's own ceiling, far above ours
        width = height = None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        errors.append(FieldError(field, f"{field} is not a readable JPEG or PNG image (corrupt or truncated)"))
        return False
    limit = settings.ANPR_MAX_IMAGE_PIXELS
    if width is None or height is None or width * height > limit:
        size = f"{width}x{height} pixels" if width else "too many pixels"
        errors.append(FieldError(field, f"{field} declares {size}; at most {limit} pixels"))
        return False
    return True


def _decodes_as_jpeg(data: bytes) -> bool:
    # A JPEG cut short still "decodes" (libjpeg fills the rest with grey), so the end-of-image marker
    # must be there too. Decoding at 1/8 scale walks the whole entropy-coded stream at a fraction of
    # the cost of a full decode; the upload itself is what is stored, bit for bit.
    if not data.rstrip(b"\x00").endswith(b"\xff\xd9"):
        return False
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_REDUCED_GRAYSCALE_8)
    return image is not None and image.size > 0


def _png_as_jpeg(data: bytes) -> bytes | None:
    # Stored as JPEG so that every image lives at .../frame.jpg and .../crop.jpg and is served as such.
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if image is None or image.size == 0:
        return None
    ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    return encoded.tobytes() if ok else None


# --- Storing ---------------------------------------------------------------------------------------


def ingest(document: Any, uploads: dict[str, UploadedFile], errors: list[FieldError] | None = None) -> PlateEvent:
    """Validate an event and its images (every error at once, as a 400), then store them (409 on a duplicate)."""
    errors = list(errors or [])
    valid = validate_event(document, errors) if document is not None else None
    images = [
        image for field in IMAGE_FIELDS if field in uploads if (image := validate_image(field, uploads[field], errors))
    ]
    if errors or valid is None:
        raise invalid_event(errors or [FieldError("event", "the event must be a JSON object")])
    return store_event(valid, images)


def duplicate(event_id: str) -> ApiError:
    return ApiError(Kind.CONFLICT, f"Event with ID {event_id} already exists")


def store_event(valid: ValidEvent, images: list[ValidImage]) -> PlateEvent:
    """Store a validated event and its images atomically; see the module docstring for the protocol."""
    event = PlateEvent(
        event_id=valid.event_id,
        timestamp=valid.timestamp,
        camera_id=valid.camera_id,
        zone_id=valid.zone_id,
        confidence=valid.confidence,
        raw_candidates=valid.raw_candidates,
        vehicle_info=valid.vehicle_info,
        tpms_status=valid.tpms_status,
        metadata=valid.metadata,
        created_at=timezone.now(),
    )
    event.set_plate(valid.plate_text)
    keys = {image.field: image_key(valid.event_id, image.field) for image in images}
    event.frame_key = keys.get("frame", "")
    event.crop_key = keys.get("crop", "")
    with prefetched():  # the watchlist's and the exporters' stamps in one round trip (config.stamps)
        return _store(event, valid, images, keys)


def _store(event: PlateEvent, valid: ValidEvent, images: list[ValidImage], keys: dict[str, str]) -> PlateEvent:
    # Looked up before the insert so the row is written once, with its watchlist mark.
    entry = watchlists.entry_for(event.plate_normalized)
    watchlists.mark(event, entry)
    written: list[str] = []
    try:
        with transaction.atomic():
            try:
                _insert(event)
            except IntegrityError as exc:
                if getattr(exc.__cause__, "sqlstate", None) == "23505":  # unique_violation: the event id
                    raise duplicate(valid.event_id) from None
                raise
            renamed = _write_images(event, images, keys, written)
            if renamed:
                event.save(update_fields=renamed)
            watchlists.on_sighting(event, entry)
            delivery.announce(event)
    except BaseException:
        for key in written:
            with contextlib.suppress(Exception):
                default_storage.delete(key)
        raise
    return event


def _insert(event: PlateEvent) -> None:
    """``event.save(force_insert=True)``: the same INSERT, without the ORM's work around it.

    Per event, ``save`` compiles the statement anew (an InsertQuery and its compiler, 17 columns quoted and
    assembled) and sends the model signals: about a tenth of the whole request's CPU. The statement is the
    same every time, so it is made once per database; the values are prepared as ``save`` prepares them. A
    receiver of ``pre_save`` or ``post_save`` for events (there is none today) gets ``save`` itself."""
    if signals.pre_save.has_listeners(PlateEvent) or signals.post_save.has_listeners(PlateEvent):
        event.save(force_insert=True)
        return
    using = router.db_for_write(PlateEvent, instance=event)
    connection = connections[using]
    values = [field.get_db_prep_save(field.pre_save(event, True), connection) for field in _INSERTED_FIELDS]
    with connection.cursor() as cursor:
        cursor.execute(_insert_sql(using), values)
    event._state.adding, event._state.db = False, using


# Every column of the table, as save() writes them on an insert (the primary key is the client's event id).
_INSERTED_FIELDS = tuple(PlateEvent._meta.local_concrete_fields)
_INSERT_SQL: dict[str, str] = {}


def _insert_sql(using: str) -> str:
    sql = _INSERT_SQL.get(using)
    if sql is None:
        quote = connections[using].ops.quote_name
        columns = ", ".join(quote(field.column) for field in _INSERTED_FIELDS)
        marks = ", ".join(["%s"] * len(_INSERTED_FIELDS))
        sql = _INSERT_SQL[using] = f"INSERT INTO {quote(PlateEvent._meta.db_table)} ({columns}) VALUES ({marks})"
    return sql


def _write_images(event: PlateEvent, images: list[ValidImage], keys: dict[str, str], written: list[str]) -> list[str]:
    """Write the images under their keys; the fields to save again where a storage chose another name."""
    renamed = []
    for image in images:
        key = keys[image.field]
        # No stored event owns a file at this key (this transaction holds the event id), so anything
        # there is the leftover of an attempt that died before its commit: replace it.
        default_storage.delete(key)
        saved = default_storage.save(key, ContentFile(image.jpeg))
        written.append(saved)
        if saved != key:
            setattr(event, f"{image.field}_key", saved)
            renamed.append(f"{image.field}_key")
    return renamed
