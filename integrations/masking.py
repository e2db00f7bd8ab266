"""Which parts of an exporter are secrets, and how they are kept apart from the rest.

An exporter's ``headers``, ``auth`` and ``config`` columns hold the *masked* form of what the client sent
(``"***"`` where a secret was); the secret values themselves live in one encrypted column. So every
response and every admin page can show the columns as they are, and nothing can leak by forgetting
to mask. A client that writes ``"***"`` back is given the stored value again (:func:`restore_masked`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from config.crypto import MASK

SECTIONS = ("headers", "auth", "config")

# Header names whose values are credentials: Authorization, Cookie, X-API-Key, *token*, *secret*...
_SECRET_HEADER = re.compile(r"authorization|cookie|api[-_]?key|token|secret|passw|signature|credential", re.I)
# auth: everything but these is a secret (fail closed: a new auth field is masked until listed here).
_PUBLIC_AUTH_KEYS = frozenset({"type", "username", "header_name"})
# mqtt config: these key names are secrets (password, and any token or key a broker may want).
_SECRET_CONFIG = re.compile(r"passw|secret|token|key$|^key|credential", re.I)


def is_secret(section: str, key: str) -> bool:
    """Whether ``key`` of ``section`` (headers, auth or config) holds a secret."""
    if section == "headers":
        return bool(_SECRET_HEADER.search(key))
    if section == "auth":
        return key not in _PUBLIC_AUTH_KEYS
    if section == "config":
        return bool(_SECRET_CONFIG.search(key))
    raise ValueError(f"unknown section {section!r}")


def split(section: str, values: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """(masked copy, secrets) of a section's plain values. Empty secrets are not secrets."""
    masked: dict[str, Any] = {}
    hidden: dict[str, str] = {}
    for key, value in values.items():
        if is_secret(section, key) and isinstance(value, str) and value:
            masked[key] = MASK
            hidden[key] = value
        else:
            masked[key] = value
    return masked, hidden


def join(masked: Mapping[str, Any], hidden: Mapping[str, str]) -> dict[str, Any]:
    """The plain values again: each masked entry replaced by its secret."""
    return {key: hidden.get(key, value) if value == MASK else value for key, value in masked.items()}


def restore_masked(
    section: str, incoming: Mapping[str, Any], stored_plain: Mapping[str, Any], *, case_insensitive: bool = False
) -> dict[str, Any]:
    """``incoming`` with each ``"***"`` secret replaced by the stored value of the same key.

    A ``"***"`` with nothing stored under that key is left as it is; validation then refuses it.
    """
    lookup = {key.lower(): value for key, value in stored_plain.items()} if case_insensitive else stored_plain
    restored: dict[str, Any] = {}
    for key, value in incoming.items():
        if value == MASK and is_secret(section, key):
            found = lookup.get(key.lower() if case_insensitive else key)
            restored[key] = found if found not in (None, "") else value
        else:
            restored[key] = value
    return restored


def scrub(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret value in it replaced by ``"***"`` (peer error bodies may echo them)."""
    for secret in sorted({s for s in secrets if s and len(s) >= 3}, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text
