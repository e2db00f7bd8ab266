"""Fail closed by default: production behaviour unless development is asked for, a real secret outside it,
a key of its own per purpose, and field-encryption keys that rotate without losing what old keys wrote."""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import subprocess
import sys
from pathlib import Path

import jwt
import pytest
from cryptography.fernet import Fernet
from django.conf import settings
from django.core.management import call_command

from config import crypto
from tests.factories import UserFactory

BASE_DIR = Path(__file__).resolve().parents[2]
PROBE = "from django.conf import settings as s; print(s.DEBUG, s.ARGUS_ALLOW_REGISTRATION, s.SECURE_SSL_REDIRECT)"


def _environment(**overrides: str) -> dict[str, str]:
    """The environment of a process started as an operator would, with no development values set."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "ARGUS_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DATABASE_URL="postgresql://nobody:nothing@127.0.0.1:1/none",
        REDIS_URL="redis://127.0.0.1:1/0",
    )
    env.update(overrides)
    return {key: value for key, value in env.items() if value is not None}


def _settings(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {PROBE}"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_debug_is_off_and_registration_closed_when_nothing_is_set():
    result = _settings(_environment(DJANGO_SECRET_KEY=secrets.token_urlsafe(64)))
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "False", "True"]


def test_no_start_without_a_secret_when_debug_is_unset():
    result = _settings(_environment())
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_the_development_secret_written_in_the_source_is_refused_outside_development():
    result = _settings(_environment(DJANGO_SECRET_KEY=settings.SECRET_KEY))
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_a_short_secret_is_refused_outside_development():
    result = _settings(_environment(DJANGO_SECRET_KEY="hunter2-hunter2"))
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_development_is_asked_for_explicitly_by_make_run_and_the_suite():
    assert 'os.environ.setdefault("DJANGO_DEBUG", "true")' in (BASE_DIR / "config" / "runner.py").read_text()
    assert "-p tests.devenv" in (BASE_DIR / "pyproject.toml").read_text()


def test_the_image_runs_with_debug_off():
    dockerfile = (BASE_DIR / "Dockerfile").read_text()
    env_block = dockerfile.split("ENV ", 1)[1].split("\n\n", 1)[0]
    assert "DJANGO_DEBUG=false" in env_block


def test_jwt_file_url_and_field_keys_are_distinct_and_none_is_the_secret_key():
    field_key = crypto.fernet()._fernets[0]._signing_key
    keys = [settings.SIMPLE_JWT["SIGNING_KEY"].encode(), settings.ARGUS_FILE_URL_KEY.encode(), field_key]
    assert len(set(keys)) == 3
    assert settings.SECRET_KEY.encode() not in keys


@pytest.mark.django_db
def test_an_access_token_signed_with_the_secret_key_itself_is_refused(api_client):
    user = UserFactory(role_id="ROLE-ADMIN")
    forged = jwt.encode(
        {"sub": str(user.pk), "token_type": "access", "jti": "x", "exp": 4102444800}, settings.SECRET_KEY, "HS256"
    )
    response = api_client.get("/api/v1/auth/me", HTTP_AUTHORIZATION=f"Bearer {forged}")
    assert response.status_code == 401


def test_a_file_url_signed_with_the_jwt_key_is_refused(client):
    import hmac
    import time

    expires = int(time.time()) + 60
    key = settings.SIMPLE_JWT["SIGNING_KEY"].encode()
    signature = hmac.new(key, f"secret.txt:{expires}".encode(), hashlib.sha256).hexdigest()
    response = client.get(f"/files/secret.txt?expires={expires}&signature={signature}")
    assert response.status_code == 403


def test_a_value_written_with_an_old_key_decrypts_after_a_new_key_is_put_first(settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.ARGUS_FIELD_ENCRYPTION_KEYS = [old]
    stored = crypto.encrypt("camera-password")
    settings.ARGUS_FIELD_ENCRYPTION_KEYS = [new, old]
    assert crypto.decrypt(stored) == "camera-password"
    assert Fernet(new.encode()).decrypt(crypto.encrypt("x")[len(crypto.PREFIX) :].encode()) == b"x"


def test_a_value_whose_key_was_removed_is_an_error_not_garbage(settings):
    settings.ARGUS_FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    stored = crypto.encrypt("camera-password")
    settings.ARGUS_FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(ValueError, match="ARGUS_FIELD_ENCRYPTION_KEYS"):
        crypto.decrypt(stored)


@pytest.mark.django_db
def test_rotation_re_encrypts_stored_secrets_so_the_old_key_can_go(settings):
    from integrations.models import OdooConfig

    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.ARGUS_FIELD_ENCRYPTION_KEYS = [old]
    OdooConfig.objects.update_or_create(pk=OdooConfig.SINGLETON_ID, defaults={"api_key": "odoo-key"})
    settings.ARGUS_FIELD_ENCRYPTION_KEYS = [new, old]
    call_command("rotate_field_encryption", stdout=open(os.devnull, "w"))  # noqa: SIM115
    settings.ARGUS_FIELD_ENCRYPTION_KEYS = [new]
    assert OdooConfig.objects.get().api_key == "odoo-key"


def test_derived_field_key_is_unchanged_so_existing_rows_still_decrypt():
    derived = hashlib.sha256(("argus-field-encryption:" + settings.SECRET_KEY).encode()).digest()
    legacy = Fernet(base64.urlsafe_b64encode(derived))
    stored = crypto.PREFIX + legacy.encrypt(b"written-before").decode()
    if settings.ARGUS_FIELD_ENCRYPTION_KEYS:
        pytest.skip("a configured key replaces the derived one")
    assert crypto.decrypt(stored) == "written-before"
