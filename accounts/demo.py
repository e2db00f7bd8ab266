"""accounts' demo data: the demo admin, whose random password is kept in var/ so later runs print the same one."""

from __future__ import annotations

import secrets
from pathlib import Path

from django.conf import settings

from accounts.models import User

CREDENTIALS_FILE = "demo-credentials.txt"
DEMO_ADMIN_EMAIL = "admin@argus.local"


def create_demo_data(command) -> list[str]:
    """The demo admin (created, or its password reset to the kept one) and the line that tells how to sign in."""
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
    return [f"admin: {DEMO_ADMIN_EMAIL} / {password}"]
