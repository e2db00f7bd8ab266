"""An event's images go with it: deleted once the deletion of its row commits (admin, retention, shell)."""

from __future__ import annotations

import contextlib

from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver

from anpr.models import PlateEvent


@receiver(post_delete, sender=PlateEvent, dispatch_uid="anpr-event-images")
def delete_event_images(sender, instance: PlateEvent, **kwargs) -> None:
    keys = instance.image_keys

    def delete() -> None:
        for key in keys:
            with contextlib.suppress(Exception):  # a file already gone is the state we want
                default_storage.delete(key)

    if keys:
        transaction.on_commit(delete)
