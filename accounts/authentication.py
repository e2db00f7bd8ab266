"""DRF authentication: JWT access tokens for people, ``X-API-Key`` for machines."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import InvalidToken

from accounts.models import ApiKey, User
from accounts.tokens import session_revoked

LAST_ACTIVE_RESOLUTION = timedelta(minutes=1)


class AccessTokenAuthentication(JWTAuthentication):
    """Bearer access tokens whose session is still open and whose user is active."""

    def get_validated_token(self, raw_token):
        token = super().get_validated_token(raw_token)
        if token.get("token_type") != "access":
            raise InvalidToken({"detail": "Not an access token", "messages": []})
        sid = token.get("sid")
        if sid and session_revoked(sid):
            raise AuthenticationFailed("Session has been revoked")
        return token

    def get_user(self, validated_token):
        try:
            user = User.objects.select_related("role").get(pk=validated_token["sub"])
        except (User.DoesNotExist, KeyError, ValueError):
            raise AuthenticationFailed("User not found") from None
        if not user.is_active:
            raise AuthenticationFailed("Account is suspended")
        touch_last_active(user)
        return user

    def authenticate_header(self, request):
        return 'Bearer realm="api"'


def touch_last_active(user: User) -> None:
    """Record activity at most once a minute per user, so reads stay reads."""
    if cache.add(f"auth:active:{user.pk}", 1, timeout=int(LAST_ACTIVE_RESOLUTION.total_seconds())):
        now = timezone.now()
        User.objects.filter(pk=user.pk).update(last_active=now)
        user.last_active = now


class ApiKeyPrincipal:
    """``request.user`` for a request made with an API key."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False

    def __init__(self, key: ApiKey):
        self.key = key
        self.pk = key.pk
        self.email = f"apikey:{key.name}"
        self.role_id = "API-KEY"

    def __str__(self) -> str:
        return self.email

    def has_permission(self, permission: str) -> bool:
        return self.key.grants(permission)


def authenticate_api_key(raw: str) -> ApiKey:
    """The usable key ``raw`` names. Lookups are cached ``API_KEY_CACHE_SECONDS`` (002); saving or deleting a
    key drops its entry (``accounts.signals``), so a revoked key stops working at once."""
    key_hash = ApiKey.hash_key(raw)
    key = cache.get(ApiKey.lookup_cache_key(key_hash))
    if key is None:
        key = ApiKey.objects.usable().filter(key_hash=key_hash).first()
        if key is not None and settings.API_KEY_CACHE_SECONDS:
            cache.set(ApiKey.lookup_cache_key(key_hash), key, timeout=settings.API_KEY_CACHE_SECONDS)
    if key is None or not key.is_active or key.is_expired:  # expiry may fall while the entry is cached
        raise AuthenticationFailed("Invalid or missing API key")
    if cache.add(f"auth:key-used:{key.pk}", 1, timeout=60):
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=timezone.now())
    return key


class ApiKeyAuthentication(BaseAuthentication):
    """``X-API-Key`` header, or the ``api_key`` query parameter that 002 and 003 allow."""

    def authenticate(self, request):
        raw = request.headers.get("X-API-Key") or request.query_params.get("api_key")
        if not raw:
            return None
        key = authenticate_api_key(raw)
        return ApiKeyPrincipal(key), key

    def authenticate_header(self, request):
        return "ApiKey"


class AccessTokenScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.authentication.AccessTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.authentication.ApiKeyAuthentication"
    name = "apiKeyAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "header", "name": "X-API-Key"}
