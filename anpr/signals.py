"""What ANPR announces, and its own receivers.

``plate_event_accepted`` is sent inside the ingest transaction for every event stored (``anpr.delivery``);
integrations subscribes to owe the event to its exporters. An event's images go with it: deleted once the
deletion of its row commits (admin, retention, shell).
"""

from __future__ import annotations

import contextlib

from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models.signals import post_delete
from django.dispatch import Signal, receiver

from anpr.models import PlateEvent

#: A plate event was stored. Sent inside the storing transaction with ``event`` (the ``PlateEvent``) and
#: ``payload`` (its 003 JSON form); receivers' writes commit or roll back with it.
plate_event_accepted = Signal()


@receiver(post_delete, sender=PlateEvent, dispatch_uid="anpr-event-images")
def delete_event_images(sender, instance: PlateEvent, **kwargs) -> None:
    keys = instance.image_keys

    def delete() -> None:
        for key in keys:
            with contextlib.suppress(Exception):  # a file already gone is the state we want
                default_storage.delete(key)

    if keys:
        transaction.on_commit(delete)
