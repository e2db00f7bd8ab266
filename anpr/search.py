"""Event search (003 ``GET /events`` and the dashboard): query parameters in, a queryset out.

Every bad parameter is reported at once as a 400 in the 003 format. Dates are ISO 8601; a date
without a time means the whole day (``end_date=2023-12-15`` includes that day), and a time without
a zone is read in the server's time zone.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import QuerySet
from django.utils import timezone

from anpr.choices import SortField, SortOrder
from anpr.models import PlateEvent
from anpr.plates import GRAM, normalize_plate, trigrams
from config.api.contracts import ApiError, FieldError, Kind

# What each sort orders by; the event id last keeps pages stable when values tie.
SORT_COLUMNS = {
    SortField.TIMESTAMP: ("timestamp", "event_id"),
    # The plate sort is on the normalised form: ABC-123 and abc123 sort as the one plate they are.
    SortField.PLATE_TEXT: ("plate_normalized", "timestamp", "event_id"),
    SortField.CONFIDENCE: ("confidence", "timestamp", "event_id"),
}


@dataclass(frozen=True)
class EventQuery:
    camera_id: str = ""
    zone_id: str = ""
    plate: str = ""  # normalised
    start: datetime | None = None
    end: datetime | None = None  # inclusive
    end_exclusive: bool = False  # a date-only end_date: everything before the next day
    min_confidence: float | None = None
    sort_by: str = SortField.TIMESTAMP
    sort_order: str = SortOrder.DESC


def invalid_query(errors: list[FieldError]) -> ApiError:
    for error in errors:
        error.location = "query"
    return ApiError(Kind.VALIDATION, "Invalid query parameters", field_errors=errors)


def parse_bound(name: str, raw: str, errors: list[FieldError], *, end: bool) -> tuple[datetime | None, bool]:
    """(moment, whether it is an exclusive end) from an ISO 8601 date or date-time parameter."""
    text = raw.strip()
    # A "+02:00" offset sent unencoded in a query string arrives as " 02:00".
    if len(text) > 6 and text[-6] == " " and text[-5:-3].isdigit() and text[-3] == ":":
        text = f"{text[:-6]}+{text[-5:]}"
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            start_of_day = timezone.make_aware(datetime.combine(day, time.min))
            return (start_of_day + timedelta(days=1), True) if end else (start_of_day, False)
        moment = datetime.fromisoformat(text)
    except ValueError:
        errors.append(FieldError(name, f"{name} must be an ISO 8601 date or date-time, e.g. 2023-12-15T14:30:00Z"))
        return None, False
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment, False


def parse_confidence(raw: str, errors: list[FieldError]) -> float | None:
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not 0 <= value <= 1:  # NaN fails this too
        errors.append(FieldError("min_confidence", "min_confidence must be a number between 0 and 1"))
        return None
    return value


def parse_query(params: Mapping[str, str]) -> EventQuery:
    """The search a request's query parameters ask for; 400 with every bad parameter otherwise."""
    errors: list[FieldError] = []
    get = lambda name: (params.get(name) or "").strip()  # noqa: E731
    start = end = None
    end_exclusive = False
    if get("start_date"):
        start, _ = parse_bound("start_date", get("start_date"), errors, end=False)
    if get("end_date"):
        end, end_exclusive = parse_bound("end_date", get("end_date"), errors, end=True)
    if start and end and (end < start or (end == start and end_exclusive)):
        errors.append(FieldError("end_date", "end_date must not be before start_date"))
    min_confidence = parse_confidence(get("min_confidence"), errors) if get("min_confidence") else None
    plate = ""
    if get("plate_text"):
        plate = normalize_plate(get("plate_text"))
        if not plate:
            errors.append(FieldError("plate_text", "plate_text must hold at least one letter or digit"))
    sort_by = get("sort_by") or SortField.TIMESTAMP
    if sort_by not in SortField.values:
        errors.append(FieldError("sort_by", f"sort_by must be one of {', '.join(SortField.values)}"))
    sort_order = (get("sort_order") or SortOrder.DESC).lower()
    if sort_order not in SortOrder.values:
        errors.append(FieldError("sort_order", "sort_order must be asc or desc"))
    if errors:
        raise invalid_query(errors)
    return EventQuery(
        camera_id=get("camera_id"),
        zone_id=get("zone_id"),
        plate=plate,
        start=start,
        end=end,
        end_exclusive=end_exclusive,
        min_confidence=min_confidence,
        sort_by=sort_by,
        sort_order=sort_order,
    )


def filter_events(query: EventQuery, queryset: QuerySet[PlateEvent] | None = None) -> QuerySet[PlateEvent]:
    """The events matching ``query``'s filters (unordered)."""
    queryset = PlateEvent.objects.all() if queryset is None else queryset
    if query.camera_id:
        queryset = queryset.filter(camera_id=query.camera_id)
    if query.zone_id:
        queryset = queryset.filter(zone_id=query.zone_id)
    if query.plate:
        if len(query.plate) >= GRAM:
            # The GIN index narrows to plates holding every trigram; LIKE then checks the order.
            queryset = queryset.filter(plate_trigrams__contains=trigrams(query.plate))
        queryset = queryset.filter(plate_normalized__contains=query.plate)
    if query.start:
        queryset = queryset.filter(timestamp__gte=query.start)
    if query.end:
        lookup = "timestamp__lt" if query.end_exclusive else "timestamp__lte"
        queryset = queryset.filter(**{lookup: query.end})
    if query.min_confidence is not None:
        queryset = queryset.filter(confidence__gte=query.min_confidence)
    return queryset


def search_events(query: EventQuery) -> QuerySet[PlateEvent]:
    """The events matching ``query``, in its order."""
    sign = "-" if query.sort_order == SortOrder.DESC else ""
    columns = SORT_COLUMNS[SortField(query.sort_by)]
    return filter_events(query).order_by(*(f"{sign}{column}" for column in columns))
