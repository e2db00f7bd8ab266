"""Secrets at rest: a model field that stores its value encrypted (Fernet, AES-128-CBC + HMAC).

The keys are ``ARGUS_FIELD_ENCRYPTION_KEYS`` (Fernet keys, newest first: the first encrypts, all decrypt, so
keys rotate without losing what older ones wrote) or, when unset, one derived from SECRET_KEY for this
purpose alone. Values are stored as ``enc:v1:<token>``; reading one that is not (a legacy plain value) returns it
as is, and the next save encrypts it.
"""

from __future__ import annotations

import base64
import functools
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models

PREFIX = "enc:v1:"
MASK = "***"
_UNDECRYPTABLE = "cannot decrypt a stored secret: was its key removed from ARGUS_FIELD_ENCRYPTION_KEYS?"


@functools.cache
def _fernet(configured: tuple[str, ...], secret: str) -> MultiFernet:
    if configured:
        return MultiFernet([Fernet(key.encode()) for key in configured])
    derived = hashlib.sha256(("argus-field-encryption:" + secret).encode()).digest()
    return MultiFernet([Fernet(base64.urlsafe_b64encode(derived))])


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.ARGUS_FIELD_ENCRYPTION_KEYS), settings.SECRET_KEY)


def encrypt(value: str) -> str:
    return PREFIX + fernet().encrypt(value.encode()).decode()


def decrypt(stored: str) -> str:
    if not stored.startswith(PREFIX):
        return stored
    try:
        return fernet().decrypt(stored[len(PREFIX) :].encode()).decode()
    except InvalidToken as exc:
        raise ValueError(_UNDECRYPTABLE) from exc


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
