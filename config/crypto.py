"""Secrets at rest: a model field that stores its value encrypted (Fernet, AES-128-CBC + HMAC).

The key is ``ARGUS_FIELD_ENCRYPTION_KEY`` (a Fernet key) or, when unset, derived from SECRET_KEY.
Values are stored as ``enc:v1:<token>``; reading one that is not (a legacy plain value) returns it
as is, and the next save encrypts it.
"""

from __future__ import annotations

import base64
import functools
import hashlib

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.db import models

PREFIX = "enc:v1:"
MASK = "***"


@functools.cache
def _fernet(configured: str, secret: str) -> Fernet:
    if configured:
        return Fernet(configured.encode())
    derived = hashlib.sha256(("argus-field-encryption:" + secret).encode()).digest()
    return Fernet(base64.urlsafe_b64encode(derived))


def fernet() -> Fernet:
    return _fernet(settings.ARGUS_FIELD_ENCRYPTION_KEY, settings.SECRET_KEY)


def encrypt(value: str) -> str:
    return PREFIX + fernet().encrypt(value.encode()).decode()


def decrypt(stored: str) -> str:
    if not stored.startswith(PREFIX):
        return stored
    try:
        return fernet().decrypt(stored[len(PREFIX) :].encode()).decode()
    except InvalidToken as exc:
        raise ValueError("cannot decrypt a stored secret: was ARGUS_FIELD_ENCRYPTION_KEY changed?") from exc


def mask(value: str | None) -> str | None:
    """What every response shows for a secret: that there is one, never what it is."""
    return MASK if value else value


class EncryptedTextField(models.TextField):
    """A text column holding ciphertext; Python code sees the plain value."""

    def from_db_value(self, value, expression, connection):
        return None if value is None else decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value in (None, ""):
            return value
        return encrypt(value)
