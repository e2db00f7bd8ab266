"""Helpers for the accounts tests: sign-in calls, error codes, and the sign-in delay recorder."""

from __future__ import annotations

import pytest

from tests.factories import DEFAULT_PASSWORD

LOGIN_URL = "/api/v1/auth/login"


def login(client, email: str, password: str = DEFAULT_PASSWORD, **extra):
    return client.post(LOGIN_URL, {"username": email, "password": password}, format="json", **extra)


def error_code(response) -> str:
    return response.json()["error"]["code"]


@pytest.fixture
def sleeps(monkeypatch) -> list[float]:
    """Every delay the sign-in service asks for, in order; nothing actually sleeps."""
    requested: list[float] = []
    monkeypatch.setattr("accounts.services.time.sleep", requested.append)
    return requested
