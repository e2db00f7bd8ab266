"""002's client on ``GET /api/v1/health``: ``healthy``, ``degraded`` (a non-critical part down, 200) or
``unhealthy`` (a critical one down, 503), with 002's service names: ``beCamera`` (the vision workers analysing
the cameras that need it), ``beAuth`` (user table and token signing), ``database``; and Argus's ``cache`` and
``storage`` beside them. Outages are real: no vision worker runs here."""

from __future__ import annotations

import pytest

from tests.factories import CameraFactory

pytestmark = pytest.mark.django_db

HEALTH = "/api/v1/health"


def test_health_names_002s_services(api_client):
    services = api_client.get(HEALTH).json()["services"]

    assert {"beCamera", "beAuth", "database"} <= set(services)
    for service in services.values():
        assert service["status"] in ("healthy", "unhealthy")
        assert isinstance(service["responseTime"], (int, float))


def test_health_says_which_services_are_critical(api_client):
    services = api_client.get(HEALTH).json()["services"]

    critical = {name for name, service in services.items() if service["critical"]}
    assert critical == {"beAuth", "database", "cache"}


def test_cameras_nobody_analyses_make_the_platform_degraded(api_client):
    CameraFactory(enabled=True, recognition_enabled=True, stream_url="rtsp://127.0.0.1:9/none")

    response = api_client.get(HEALTH)

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["services"]["beCamera"]["status"] == "unhealthy"
    assert "no vision worker" in body["services"]["beCamera"]["error"]


@pytest.fixture
def mismatched_token_keys(monkeypatch):
    """Tokens signed with one RSA key and verified with another's public key: a mis-deployed key pair."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from rest_framework_simplejwt.backends import TokenBackend
    from rest_framework_simplejwt.tokens import Token

    def pem(key, public: bool) -> str:
        if public:
            return (
                key.public_key()
                .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
                .decode()
            )
        return key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()

    signer, other = (rsa.generate_private_key(public_exponent=65537, key_size=2048) for _ in range(2))
    backend = TokenBackend("RS256", signing_key=pem(signer, False), verifying_key=pem(other, True))
    monkeypatch.setattr(Token, "get_token_backend", lambda self: backend)


def test_auth_that_cannot_verify_its_tokens_makes_the_platform_unhealthy(api_client, mismatched_token_keys):
    response = api_client.get(HEALTH)

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unhealthy"
    assert body["services"]["beAuth"]["status"] == "unhealthy"
    assert "do not verify" in body["services"]["beAuth"]["error"]
