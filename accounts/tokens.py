"""JWT access and refresh tokens with server-side refresh sessions.

An access token lives 15 minutes and names its session (``sid``); a refresh token lives 14 days and
is good for exactly one refresh: refreshing revokes its session and opens the next one. Presenting a
refresh token that was already rotated means it leaked, so every session of that user is revoked.
Logout revokes the session, and its access tokens stop working at once (a revocation marker in
the cache outlives any access token of the session).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from accounts.models import User, UserSession
from config.api.contracts import ApiError, Kind


@dataclass(frozen=True)
class TokenPair:
    access: str
    refresh: str
    access_expires_in: int


def revocation_key(session_id) -> str:
    return f"auth:revoked-session:{session_id}"


def _access_for(user: User, session: UserSession) -> AccessToken:
    access = AccessToken()
    access["sub"] = str(user.pk)
    access["email"] = user.email
    access["role"] = user.role_id
    access["permissions"] = user.permission_strings
    access["sid"] = str(session.pk)
    return access


def issue_tokens(user: User, *, ip: str | None = None, user_agent: str = "", new_session: bool = True) -> TokenPair:
    """Open a refresh session for ``user`` and return its token pair. A new sign-in (``new_session``, not a
    rotation) ends the user's oldest open sessions past ``SESSION_MAX_PER_USER`` (002)."""
    refresh = RefreshToken()
    refresh["sub"] = str(user.pk)
    session = UserSession.objects.create(
        user=user,
        token_hash=UserSession.hash_token_id(refresh["jti"]),
        expires_at=timezone.now() + settings.SIMPLE_JWT["REFRESH_TOKEN_LIFETIME"],
        ip_address=ip,
        user_agent=user_agent[:1000],
    )
    refresh["sid"] = str(session.pk)
    if new_session and settings.SESSION_MAX_PER_USER:
        _end_sessions_past_limit(user, settings.SESSION_MAX_PER_USER)
    access = _access_for(user, session)
    lifetime = int(settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"].total_seconds())
    return TokenPair(access=str(access), refresh=str(refresh), access_expires_in=lifetime)


def _end_sessions_past_limit(user: User, limit: int) -> None:
    """End the oldest of ``user``'s open sessions beyond the newest ``limit`` (their access tokens too)."""
    open_sessions = UserSession.objects.filter(user=user, revoked_at__isnull=True, expires_at__gt=timezone.now())
    for session in open_sessions.order_by("-created_at", "-pk")[limit:]:
        _revoke_chain(session, reason="session-limit")


def _decode_refresh(raw: str) -> RefreshToken:
    if not isinstance(raw, str) or not raw:
        raise ApiError(Kind.VALIDATION, "refreshToken is required")
    try:
        return RefreshToken(raw)
    except TokenError as exc:
        expired = "expired" in str(exc).lower()
        raise ApiError(Kind.TOKEN_EXPIRED if expired else Kind.UNAUTHENTICATED, "Invalid refresh token") from None


def rotate(raw_refresh: str, *, ip: str | None = None, user_agent: str = "") -> TokenPair:
    """Exchange a refresh token for a new pair; the presented one is spent."""
    token = _decode_refresh(raw_refresh)
    idle = False
    with transaction.atomic():
        session = (
            UserSession.objects.select_for_update()
            .select_related("user", "user__role")
            .filter(token_hash=UserSession.hash_token_id(token["jti"]))
            .first()
        )
        if session is None:
            raise ApiError(Kind.UNAUTHENTICATED, "Invalid refresh token")
        reused = session.revoked_at is not None and session.revoked_reason == "rotated"
        if reused:
            head = _family_head(session)
            if _a_retry(session, head, ip=ip, user_agent=user_agent):
                # The same client sent the spent token again at once: its answer was lost on the way. It gets
                # the family's next pair, as if it had sent the token it never received.
                session, reused = head, False
            else:
                # OAuth's reuse detection: the token was copied. End its family (the sessions it rotated into
                # and from), not the user's other devices.
                _revoke_chain(head, reason="reuse-detected")
        if reused:
            pass  # refused below, once the revocation has committed
        elif session.revoked_at is not None:
            raise ApiError(Kind.UNAUTHENTICATED, "Refresh token has been revoked")
        elif not session.user.is_active:
            raise ApiError(Kind.UNAUTHENTICATED, "Account is not active")
        elif _idle(session):
            idle = True
            _revoke_chain(session, reason="idle")
        else:
            pair = issue_tokens(session.user, ip=ip, user_agent=user_agent, new_session=False)
            successor = UserSession.objects.get(token_hash=UserSession.hash_token_id(RefreshToken(pair.refresh)["jti"]))
            session.revoked_at = timezone.now()
            session.revoked_reason = "rotated"
            session.rotated_to = successor
            session.save(update_fields=["revoked_at", "revoked_reason", "rotated_to"])
    if reused:
        # Refused only once the block has committed: raising inside it would roll the revocation back.
        raise ApiError(Kind.UNAUTHENTICATED, "Refresh token has been revoked")
    if idle:
        minutes = settings.SESSION_IDLE_MINUTES
        raise ApiError(Kind.TOKEN_EXPIRED, f"Session ended after {minutes} minutes without activity; sign in again")
    # Access tokens minted from the old session stay valid: the session lives on in its successor.
    return pair


def _idle(session: UserSession) -> bool:
    """True when the session (opened at sign-in or at its last refresh) went unrefreshed past the idle timeout."""
    minutes = settings.SESSION_IDLE_MINUTES
    return bool(minutes) and session.created_at < timezone.now() - timedelta(minutes=minutes)


def _family_head(session: UserSession) -> UserSession:
    """The newest session ``session`` was rotated into (itself when it never was)."""
    current = session
    for _ in range(10_000):  # a chain is as long as the refreshes of one sign-in; never a loop
        successor = UserSession.objects.select_for_update().filter(rotated_from=current).first()
        if successor is None:
            break
        current = successor
    return current


def _a_retry(spent: UserSession, head: UserSession, *, ip: str | None, user_agent: str) -> bool:
    """Whether reusing ``spent`` looks like its client retrying: within the grace period of its rotation, the
    family still open and the request from the address and user agent the rotation came from."""
    grace = settings.REFRESH_REUSE_GRACE_SECONDS
    return (
        spent.rotated_to_id == head.pk
        and head.revoked_at is None
        and spent.revoked_at is not None
        and (timezone.now() - spent.revoked_at).total_seconds() <= grace
        and head.ip_address == ip
        and head.user_agent == user_agent[:1000]
    )


def revoke(raw_refresh: str, *, user: User | None = None) -> None:
    """Logout: end the refresh token's session and every access token of it."""
    token = _decode_refresh(raw_refresh)
    session = UserSession.objects.filter(token_hash=UserSession.hash_token_id(token["jti"])).first()
    if session is None or (user is not None and session.user_id != user.pk):
        raise ApiError(Kind.UNAUTHENTICATED, "Invalid refresh token")
    _revoke_chain(session, reason="logout")


def revoke_session(session: UserSession, reason: str) -> None:
    """End one session (an admin's revocation) and its access tokens at once."""
    _revoke_chain(session, reason)


def _revoke_chain(session: UserSession, reason: str) -> None:
    """Revoke a session and the sessions it was rotated from (they share access tokens)."""
    now = timezone.now()
    lifetime = int(settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"].total_seconds()) + 60
    current: UserSession | None = session
    while current is not None:
        if current.revoked_at is None:
            current.revoked_at = now
            current.revoked_reason = reason
            current.save(update_fields=["revoked_at", "revoked_reason"])
        cache.set(revocation_key(current.pk), True, timeout=lifetime)
        current = getattr(current, "rotated_from", None)


def revoke_all(user: User, reason: str) -> int:
    sessions = list(UserSession.objects.filter(user=user, expires_at__gt=timezone.now()))
    lifetime = int(settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"].total_seconds()) + 60
    cache.set_many({revocation_key(s.pk): True for s in sessions}, timeout=lifetime)
    return UserSession.objects.filter(user=user, revoked_at__isnull=True).update(
        revoked_at=timezone.now(), revoked_reason=reason
    )


def session_revoked(session_id: str) -> bool:
    return bool(cache.get(revocation_key(session_id)))


def access_token_for(user: User, *, ip: str | None = None, user_agent: str = "") -> str:
    """An access token for a user signed in by session (the dashboard's WebSocket and API calls).

    A token names its session (``sid``) so that revoking reaches it, hence a session row. Its refresh
    token is dropped unused, so the row is cut to the access token's life: it does not count as an
    open session for 14 days.
    """
    pair = issue_tokens(user, ip=ip, user_agent=user_agent, new_session=False)  # not a sign-in: ends none
    UserSession.objects.filter(pk=AccessToken(pair.access)["sid"]).update(
        expires_at=timezone.now() + settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"]
    )
    return pair.access


def service_health() -> dict:
    """002's ``beAuth``: the user table answers and a token signed now verifies (key and claims settings)."""
    users = User.objects.count()
    probe = AccessToken()
    try:
        AccessToken(str(probe))
    except TokenError as exc:
        raise RuntimeError(f"tokens signed now do not verify: {exc}") from None
    return {"users": users}
