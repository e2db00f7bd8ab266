"""Log records carry the id of the request (or task) that produced them."""

from __future__ import annotations

import contextvars
import json
import logging
from datetime import UTC, datetime

current_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("current_request_id", default="-")
# 002's X-Correlation-ID as the client sent it ("" when it sent none: the request id stands in).
current_correlation_id: contextvars.ContextVar[str] = contextvars.ContextVar("current_correlation_id", default="")


def logging_config(level: str, formatter: str) -> dict:
    """Django's ``LOGGING``: every record to the console, one line each with its request id, in ``formatter``
    ("json" or "plain"), at ``level``; the chattiest libraries kept to their warnings."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": "config.logging.RequestIdFilter"}},
        "formatters": {
            "json": {"()": "config.logging.JsonFormatter"},
            "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        },
        "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["request_id"], "formatter": formatter}},
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "django.request": {"level": "ERROR"},
            "daphne": {"level": "WARNING"},
            # WeasyPrint and fontTools narrate every PDF at INFO.
            "weasyprint": {"level": "WARNING"},
            "fontTools": {"level": "WARNING"},
        },
    }


def install_record_factory() -> None:
    """Give every log record the current request id when it is made, so every handler sees it."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "argus_request_id", False):
        return

    def factory(*args, **kwargs) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        record.request_id = current_request_id.get()
        return record

    factory.argus_request_id = True
    logging.setLogRecordFactory(factory)


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id.get()
        return True


# What every LogRecord has; anything else on a record came from ``extra=`` and is the caller's data.
_RECORD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line, for log shippers; fields given with ``extra=`` are kept, beside the standard ones."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
        }
        for key, value in vars(record).items():
            if key not in _RECORD_ATTRIBUTES and key not in entry:
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)
