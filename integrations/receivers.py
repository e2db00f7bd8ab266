"""Integrations' subscriptions to what the apps below it announce (connected in ``IntegrationsConfig.ready()``)."""

from __future__ import annotations

from integrations.outbox import enqueue_event


def owe_plate_event_to_exporters(sender, *, event, payload, **kwargs) -> None:
    """An accepted ANPR event is owed to every enabled exporter, in the transaction that stores it."""
    enqueue_event(payload, event.event_id)
