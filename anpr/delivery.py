"""Where an accepted event goes besides the database: the live stream and whoever subscribed to accepted events.

Deliberately small. Called inside the ingest transaction:

- the stream gets the event only once the transaction commits (no one sees an event that then
  rolls back);
- :data:`anpr.signals.plate_event_accepted` is sent now, inside the transaction, so a subscriber's writes
  (the exporters' transactional outbox of ``integrations``) commit or roll back with the event itself: an
  event is exported exactly when it is stored. A subscriber that fails fails the ingest, by design.
"""

from __future__ import annotations

from django.db import transaction

from anpr import stream
from anpr.models import PlateEvent
from anpr.payloads import event_payload
from anpr.signals import plate_event_accepted


def announce(event: PlateEvent) -> None:
    """Publish ``event`` on the stream after commit, and announce it to the subscribers now (same transaction)."""
    payload = event_payload(event)
    transaction.on_commit(lambda: stream.publish(payload))
    plate_event_accepted.send(sender=PlateEvent, event=event, payload=payload)
