"""Where an accepted event goes besides the database: the live stream and the exporters' outbox.

Deliberately small. Called inside the ingest transaction:

- the stream gets the event only once the transaction commits (no one sees an event that then
  rolls back);
- the exporters' transactional outbox (``integrations.outbox.enqueue_event``, owned by the integrations
  app) is written in the same transaction as the event, so an event is exported exactly when it is
  stored. Until that module exists, there is nothing to enqueue.
"""

from __future__ import annotations

import importlib
import importlib.util
from functools import cache
from types import ModuleType

from django.db import transaction

from anpr import stream
from anpr.models import PlateEvent
from anpr.payloads import event_payload

OUTBOX_MODULE = "integrations.outbox"


@cache
def _outbox() -> ModuleType | None:
    if importlib.util.find_spec(OUTBOX_MODULE) is None:
        return None
    return importlib.import_module(OUTBOX_MODULE)


def announce(event: PlateEvent) -> None:
    """Publish ``event`` on the stream after commit and enqueue it for the exporters now (same transaction)."""
    payload = event_payload(event)
    transaction.on_commit(lambda: stream.publish(payload))
    outbox = _outbox()
    if outbox is not None:
        outbox.enqueue_event(payload, event.event_id)
