"""Create the demo data every app contributes, idempotently, and print how to sign in.

Each app may have a ``demo`` module with ``create_demo_data(command) -> list[str]`` returning lines to
print; they run in INSTALLED_APPS order (``accounts`` first: the demo admin and its password).
"""

from __future__ import annotations

from importlib import import_module

from django.apps import apps
from django.core.management.base import BaseCommand
from django.utils.module_loading import module_has_submodule


class Command(BaseCommand):
    help = "Create demo data (an admin account and what each app adds) and print the credentials."

    def handle(self, *args, **options):
        lines: list[str] = []
        for config in apps.get_app_configs():
            if module_has_submodule(config.module, "demo"):
                lines.extend(import_module(f"{config.name}.demo").create_demo_data(self))
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
        for line in lines:
            self.stdout.write(f"  {line}")
