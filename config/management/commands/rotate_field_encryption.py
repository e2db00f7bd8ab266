"""Re-encrypt every stored secret with the newest key of ARGUS_FIELD_ENCRYPTION_KEYS.

Put the new key first, keep the old ones after it, run this, then drop the old keys.
"""

from __future__ import annotations

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction

from config import crypto


class Command(BaseCommand):
    help = "Re-encrypt stored secrets with the newest field-encryption key."

    def handle(self, *args, **options):
        total = 0
        for model in apps.get_models():
            fields = [f.attname for f in model._meta.concrete_fields if isinstance(f, crypto.EncryptedTextField)]
            if not fields:
                continue
            # Reading decrypts with whichever key wrote a value, update() encrypts with the newest; update()
            # rather than save() keeps signals and auto_now out of a key change.
            rows = model._default_manager.values_list("pk", *fields)
            with transaction.atomic():
                for pk, *values in rows.iterator():
                    changes = {name: value for name, value in zip(fields, values, strict=True) if value}
                    if changes:
                        model._default_manager.filter(pk=pk).update(**changes)
                        total += 1
        self.stdout.write(f"re-encrypted the secrets of {total} rows")
