"""Create the demo data every app contributes (an admin first), idempotently, and print how to sign in.

Each app may have a ``demo`` module with ``create_demo_data(command) -> list[str]`` returning lines to
print; they run in INSTALLED_APPS order.
"""

from __future__ import annotations

import importlib
import secrets
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand

from accounts.models import User

CREDENTIALS_FILE = "demo-credentials.txt"
DEMO_ADMIN_EMAIL = "admin@argus.local"


class Command(BaseCommand):
    help = "Create demo data (an admin account and what each app adds) and print the credentials."

    def handle(self, *args, **options):
        lines = [self._admin()]
        for config in apps.get_app_configs():
            try:
                module = importlib.import_module(f"{config.name}.demo")
            except ModuleNotFoundError as exc:
                if exc.name != f"{config.name}.demo":
                    raise
                continue
            lines.extend(module.create_demo_data(self))
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
        for line in lines:
            self.stdout.write(f"  {line}")

    def _admin(self) -> str:
        """The demo admin; its random password is kept in var/ so later runs print the same one."""
        path = Path(settings.VAR_DIR) / CREDENTIALS_FILE
        password = path.read_text().strip() if path.exists() else ""
        user = User.objects.filter(email=DEMO_ADMIN_EMAIL).first()
        if user is None or not password or not user.check_password(password):
            password = password or secrets.token_urlsafe(12)
            if user is None:
                user = User.objects.create_superuser(DEMO_ADMIN_EMAIL, password, name="Demo Admin")
            else:
                user.set_password(password)
                user.save(update_fields=["password"])
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(password + "\n")
            path.chmod(0o600)
        return f"admin: {DEMO_ADMIN_EMAIL} / {password}"
