"""DRF authentication: JWT access tokens for people, ``X-API-Key`` for machines.

Every API call authenticates, so the common case costs one Redis round trip and no database query:

- A process keeps the users and API keys it authenticated (their rows, not shared instances: each request
  gets its own) for ``CREDENTIAL_CACHE_SECONDS`` at most, and only while their *stamp* in Redis is the one
  it saw when it read the row. Saving or deleting a user, a role or an API key (suspension included) bumps
  the stamp (at once and again when the transaction commits), so every process reads the row again on its
  next call; logout revokes the session, which is checked on every call.
- The session's revocation marker, the stamps and the once-a-minute activity marker (all cache keys) are read
  and set in one pipelined round trip on the cache's connection.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from datetime import timedelta

from django.core.cache import cache
from django.db import router, transaction
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt import settings as jwt_settings
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import InvalidToken

from accounts.models import ApiKey, Role, User
from accounts.tokens import revocation_key
from config import stamps as stamped_copies
from config.api import ratelimit
from config.cache import cache_client, made_key

logger = logging.getLogger("argus.auth")

LAST_ACTIVE_RESOLUTION = timedelta(minutes=1)
# How long a process may serve a user or key from its own copy while nothing changed it. Changes reach it
# at once through the stamps; this only bounds what an unannounced change (a raw SQL update) may leave.
CREDENTIAL_CACHE_SECONDS = 30
CREDENTIAL_CACHE_MAX = 10_000  # entries per process and kind; past it the cache starts again empty
_USER_FIELDS = [field.attname for field in User._meta.concrete_fields]
_ROLE_FIELDS = [field.attname for field in Role._meta.concrete_fields]
_KEY_FIELDS = [field.attname for field in ApiKey._meta.concrete_fields]
_KEY_PK = _KEY_FIELDS.index(ApiKey._meta.pk.attname)
_KEY_TIER = _KEY_FIELDS.index("tier")


# Access tokens this process checked (signature, claims), by their raw bytes: (the JWT settings they were
# checked under, their expiry, the validated token, shared and read only). A request pays the check once per
# token and process; the session's revocation and the user's state are still read on every call.
VALIDATED_TOKENS_MAX = 10_000  # past it the tokens are checked afresh
_validated_tokens: dict[bytes, tuple[object, float, object]] = {}


def _stamp_key(kind: str, ident: object = "") -> str:
    return made_key(f"auth:stamp:{kind}:{ident}")


class CredentialCache:
    """Rows this process authenticated lately, each valid while its stamps are unchanged (thread-safe)."""

    def __init__(self) -> None:
        self._entries: dict[str, tuple[float, tuple, tuple]] = {}
        self._lock = threading.Lock()

    def get(self, ident: str, stamps: tuple) -> tuple | None:
        entry = self._entries.get(ident)
        if entry is None:
            return None
        loaded_at, seen, row = entry
        if seen != stamps or time.monotonic() - loaded_at > CREDENTIAL_CACHE_SECONDS:
            return None
        return row

    def peek(self, ident: str) -> tuple | None:
        """The row whatever its stamps (to name the keys of the round trip that checks them)."""
        entry = self._entries.get(ident)
        return entry[2] if entry is not None else None

    def put(self, ident: str, stamps: tuple, row: tuple) -> None:
        with self._lock:
            if len(self._entries) >= CREDENTIAL_CACHE_MAX:
                self._entries.clear()
            self._entries[ident] = (time.monotonic(), stamps, row)

    def forget(self, ident: str) -> None:
        with self._lock:
            self._entries.pop(ident, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


users = CredentialCache()
api_keys = CredentialCache()


def bump_stamp(kind: str, ident: object = "", *, after_commit: bool = True) -> None:
    """Announce a change of a user (``ident`` its pk), of the roles or of the API keys (``ident`` empty).

    ``after_commit=False`` for changes that matter little if another process briefly serves the old copy
    (the last-active time): one bump, nothing queued on the request's transaction."""
    key = _stamp_key(kind, ident)

    def bump() -> None:
        stamped_copies.bump_key(key, f"credentials ({key})")

    bump()
    if after_commit:
        # Once more after the commit: a process that read the old row meanwhile cached it under the first bump.
        transaction.on_commit(bump)


def user_changed(sender, instance, **kwargs) -> None:
    users.forget(str(instance.pk))
    bump_stamp("user", instance.pk)


def role_changed(sender, instance, **kwargs) -> None:
    bump_stamp("role")


def api_key_changed(sender, instance, **kwargs) -> None:
    api_keys.forget(instance.key_hash)
    bump_stamp("key")


def _user_from_row(row: tuple) -> User:
    db = router.db_for_read(User)
    user_values, role_values = row
    user = User.from_db(db, _USER_FIELDS, user_values)
    if role_values is not None:
        user._state.fields_cache["role"] = Role.from_db(db, _ROLE_FIELDS, role_values)
    return user


def _row_of(user: User) -> tuple:
    role = user._state.fields_cache.get("role")
    role_values = tuple(getattr(role, name) for name in _ROLE_FIELDS) if role is not None else None
    return tuple(getattr(user, name) for name in _USER_FIELDS), role_values


class AccessTokenAuthentication(JWTAuthentication):
    """Bearer access tokens whose session is still open and whose user is active."""

    request = None  # DRF's request while authenticating it

    def authenticate(self, request):
        self.request = request
        try:
            return super().authenticate(request)
        finally:
            self.request = None

    def get_validated_token(self, raw_token):
        kept = _validated_tokens.get(raw_token)
        # Kept while its expiry is ahead (a full check would pass: signature, audience, issuer and type are
        # the token's; only time moves) and the JWT settings are the ones it was checked under.
        if kept is not None and kept[0] is jwt_settings.api_settings and kept[1] > time.time():
            return kept[2]
        token = super().get_validated_token(raw_token)
        if token.get("token_type") != "access":
            raise InvalidToken({"detail": "Not an access token", "messages": []})
        expires = token.get("exp")
        if isinstance(expires, int | float):
            if len(_validated_tokens) >= VALIDATED_TOKENS_MAX:
                _validated_tokens.clear()
            _validated_tokens[raw_token] = (jwt_settings.api_settings, expires, token)
        return token

    def get_user(self, validated_token):
        try:
            user_id = str(uuid.UUID(str(validated_token["sub"])))
        except (KeyError, ValueError):
            raise AuthenticationFailed("User not found") from None
        sid = validated_token.get("sid")
        # One round trip: is the session revoked, have the user or the roles changed, first call this minute?
        pipe = cache_client().pipeline(transaction=False)
        if sid:
            pipe.exists(cache.make_and_validate_key(revocation_key(sid)))
        pipe.get(_stamp_key("user", user_id))
        pipe.get(_stamp_key("role"))
        pipe.set(made_key(_activity_key(user_id)), 1, nx=True, ex=_activity_seconds())
        # The stamps of the process's copies the view consults (config.stamps), in the same round trip.
        read_stamps = stamped_copies.queue_read(pipe) if _view_prefetches_stamps(self.request) else None
        # The token the view's throttle will take, in the same round trip (config.api.ratelimit.prefetch_for).
        prefetch = ratelimit.prefetch_for(self.request, f"user:{user_id}", None) if self.request else None
        if prefetch is not None:
            ratelimit.queue_prefetch(pipe, prefetch)
        replies = pipe.execute()
        if prefetch is not None:
            ratelimit.read_prefetch(self.request, prefetch, replies.pop())
        if read_stamps is not None:
            self.request._request.argus_stamps = read_stamps(replies.pop())
        if sid and replies.pop(0):
            raise AuthenticationFailed("Session has been revoked")
        user_stamp, role_stamp, first_this_minute = replies
        stamps = (user_stamp, role_stamp)
        row = users.get(user_id, stamps)
        if row is not None:
            user = _user_from_row(row)
        else:
            try:
                user = User.objects.select_related("role").get(pk=user_id)
            except User.DoesNotExist:
                raise AuthenticationFailed("User not found") from None
            users.put(user_id, stamps, _row_of(user))
        if not user.is_active:
            raise AuthenticationFailed("Account is suspended")
        if first_this_minute:
            record_activity(user)
        return user

    def authenticate_header(self, request):
        return 'Bearer realm="api"'


def _view_prefetches_stamps(request) -> bool:
    """Whether DRF's ``request`` is for a view that reads the process's stamped copies (``prefetch_stamps``)."""
    if request is None:
        return False
    return bool(getattr((getattr(request, "parser_context", None) or {}).get("view"), "prefetch_stamps", False))


def _activity_key(user_id: object) -> str:
    return f"auth:active:{user_id}"


def _activity_seconds() -> int:
    return int(LAST_ACTIVE_RESOLUTION.total_seconds())


def record_activity(user: User) -> None:
    now = timezone.now()
    User.objects.filter(pk=user.pk).update(last_active=now)
    user.last_active = now
    users.forget(str(user.pk))
    # The other processes' copies show the old time: read again (a late copy only shows an older time).
    bump_stamp("user", user.pk, after_commit=False)


def touch_last_active(user: User) -> None:
    """Record activity at most once a minute per user, so reads stay reads."""
    if cache.add(_activity_key(user.pk), 1, timeout=_activity_seconds()):
        record_activity(user)


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


def authenticate_api_key(raw: str, request=None) -> ApiKey:
    """The usable key ``raw`` names, or AuthenticationFailed. With DRF's ``request``, the token its view's
    throttle will take is taken in the same round trip (config.api.ratelimit.prefetch_for)."""
    key_hash = ApiKey.hash_key(raw)
    known = api_keys.peek(key_hash)
    # One round trip for a key this process knows: have the keys changed, first use this minute?
    pipe = cache_client().pipeline(transaction=False)
    pipe.get(_stamp_key("key"))
    prefetch = None
    read_stamps = None
    if known is not None:
        pipe.set(made_key(_key_used_key(known[_KEY_PK])), 1, nx=True, ex=60)
        if request is not None:
            # The stamps of the process's copies the view consults (config.stamps), in the same round trip.
            if _view_prefetches_stamps(request):
                read_stamps = stamped_copies.queue_read(pipe)
            prefetch = ratelimit.prefetch_for(request, f"key:{known[_KEY_PK]}", known[_KEY_TIER])
            if prefetch is not None:
                ratelimit.queue_prefetch(pipe, prefetch)
    replies = pipe.execute()
    if prefetch is not None:
        ratelimit.read_prefetch(request, prefetch, replies.pop())
    if read_stamps is not None:
        request._request.argus_stamps = read_stamps(replies.pop())
    stamps = (replies[0],)
    row = api_keys.get(key_hash, stamps)
    if row is not None and known is not None and row[_KEY_PK] == known[_KEY_PK]:
        key = ApiKey.from_db(router.db_for_read(ApiKey), _KEY_FIELDS, row)
        if not key.is_active or key.is_expired:
            raise AuthenticationFailed("Invalid or missing API key")
        first_use = replies[1]
    else:
        key = ApiKey.objects.usable().filter(key_hash=key_hash).first()
        if key is None:
            raise AuthenticationFailed("Invalid or missing API key")
        api_keys.put(key_hash, stamps, tuple(getattr(key, name) for name in _KEY_FIELDS))
        first_use = cache.add(_key_used_key(key.pk), 1, timeout=60)
    if first_use:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=timezone.now())
    return key


def _key_used_key(pk: object) -> str:
    return f"auth:key-used:{pk}"


class ApiKeyAuthentication(BaseAuthentication):
    """``X-API-Key`` header, or the ``api_key`` query parameter that 002 and 003 allow."""

    def authenticate(self, request):
        raw = request.headers.get("X-API-Key") or request.query_params.get("api_key")
        if not raw:
            return None
        key = authenticate_api_key(raw, request)
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
