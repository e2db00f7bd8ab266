"""Times that clients stamp on what they send (an ANPR event, a count): one rule for every ingest."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from config.api.contracts import FieldError

# A client's clock may run a little ahead; a timestamp far in the future is a broken clock, and what is
# stored there (a count) would sit on top of "latest" for as long as the clock is wrong.
FUTURE_TOLERANCE = timedelta(days=1)


def parse_iso_datetime(value: str) -> datetime | None:
    """An ISO 8601 date-time (Python's parser takes ``Z`` and fractions of a second), or None."""
    try:
        return datetime.fromisoformat(value.strip())
    except ValueError:
        return None


def client_timestamp(
    value: Any, errors: list[FieldError], now: datetime, *, example: str, field: str = "timestamp"
) -> datetime | None:
    """``value`` (ISO 8601 text, or a datetime) as an aware moment no more than a day after ``now``.

    None when it is not one, with the reason appended to ``errors`` (``example`` shows a valid value in
    the family's own style). Whether the field may be absent is the caller's rule.
    """
    parsed = value if isinstance(value, datetime) else parse_iso_datetime(value) if isinstance(value, str) else None
    if parsed is None:
        errors.append(FieldError(field, f"{field} must be an ISO 8601 date and time, e.g. {example}"))
    elif parsed.tzinfo is None or parsed.utcoffset() is None:
        errors.append(FieldError(field, f"{field} must include a time zone (Z or +HH:MM)"))
    elif parsed - now > FUTURE_TOLERANCE:
        errors.append(FieldError(field, f"{field} is more than a day in the future"))
    else:
        return parsed
    return None
