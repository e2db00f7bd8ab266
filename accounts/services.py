"""Sign-in with brute-force protection, and user management."""

from __future__ import annotations

import math
import time

import redis
from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.core.cache import cache
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from accounts import audit
from accounts.choices import Severity
from accounts.models import ApiKey, Role, User
from accounts.permissions_catalogue import grants
from accounts.tokens import TokenPair, issue_tokens, revoke_all
from config.api import ratelimit
from config.api.contracts import ApiError, FieldError, Kind


def _failure_key(email: str) -> str:
    return f"auth:failures:{email}"


def _lock_key(email: str) -> str:
    return f"auth:locked-until:{email}"


def login_delay(failures: int) -> float:
    """Seconds an attempt waits after ``failures`` consecutive failures: doubling, capped."""
    if failures < settings.LOGIN_SLOW_AFTER:
        return 0.0
    return min(settings.LOGIN_DELAY_BASE * 2 ** (failures - settings.LOGIN_SLOW_AFTER), settings.LOGIN_DELAY_MAX)


def lock_remaining(email: str) -> int:
    """Seconds until a locked account may try again (0 when not locked)."""
    locked_until = cache.get(_lock_key(email.strip().lower()))
    return max(0, math.ceil(locked_until - time.time())) if locked_until else 0


def wait_before_attempt(email: str) -> None:
    """Refuse a locked account; make an account with recent failures wait longer each time."""
    email = email.strip().lower()
    remaining = lock_remaining(email)
    if remaining:
        raise ApiError(
            Kind.LOCKED, "Too many failed sign-in attempts; try again later", headers={"Retry-After": str(remaining)}
        )
    delay = login_delay(cache.get(_failure_key(email), 0))
    if delay:
        time.sleep(delay)


def check_sign_in_allowed(ip: str, email: str) -> None:
    """The sign-in rate limit of the client's address (the API's ``login`` bucket, shared by the dashboard
    and the Django Admin), then the account's lockout and delay. Raises ApiError (429) when refused."""
    if settings.RATE_LIMIT_ENABLED and settings.RATE_LIMITS["login"]:
        try:
            state = ratelimit.take_token(f"login:ip:{ip}", settings.RATE_LIMITS["login"])
        except redis.RedisError:
            state = None  # as the API's throttle: the lockout below still holds
        if state is not None and not state.allowed:
            raise ApiError(Kind.RATE_LIMITED, headers={"Retry-After": str(max(1, state.retry_after))})
    wait_before_attempt(email)


def record_failed_sign_in(email: str) -> None:
    """Count a failure; at LOGIN_LOCK_AFTER in a row the account is locked for LOGIN_LOCK_SECONDS."""
    email = email.strip().lower()
    key = _failure_key(email)
    cache.add(key, 0, timeout=settings.LOGIN_LOCK_SECONDS)
    failures = cache.incr(key)
    audit.record(
        actor=email or "anonymous",
        action="auth.login_failed",
        severity=Severity.WARNING,
        message=f"Failed sign-in ({failures} in a row)",
        resource_type="user",
    )
    if failures >= settings.LOGIN_LOCK_AFTER:
        cache.set(_lock_key(email), time.time() + settings.LOGIN_LOCK_SECONDS, timeout=settings.LOGIN_LOCK_SECONDS)
        cache.delete(key)
        audit.record(
            actor=email or "anonymous",
            action="auth.locked",
            severity=Severity.CRITICAL,
            message=f"Sign-in locked for {settings.LOGIN_LOCK_SECONDS} s after {failures} failures",
            resource_type="user",
        )


def record_sign_in(user: User, channel: str) -> None:
    cache.delete(_failure_key(user.email))
    user.last_active = timezone.now()
    user.save(update_fields=["last_active", "last_login"])
    audit.record(
        actor=user.email,
        actor_role=user.role_id,
        action="auth.login",
        message=f"Signed in ({channel})",
        resource_type="user",
        resource_id=str(user.pk),
    )


def sign_in(email: str, password: str, *, ip: str | None = None, user_agent: str = "") -> tuple[User, TokenPair]:
    """Check credentials and open a session.

    Consecutive failures for one account make each further attempt wait longer and then lock the
    account for ``LOGIN_LOCK_SECONDS``; unknown addresses are treated alike, so the answer never
    tells whether an account exists.
    """
    email = (email or "").strip().lower()
    wait_before_attempt(email)
    user = authenticate(email=email, password=password)
    if user is None:
        record_failed_sign_in(email)
        raise ApiError(Kind.UNAUTHENTICATED, "Invalid credentials")
    pair = issue_tokens(user, ip=ip, user_agent=user_agent)
    record_sign_in(user, "api")
    return user, pair


def check_password_strength(password: str, user: User | None = None, field: str = "password") -> None:
    try:
        validate_password(password, user)
    except DjangoValidationError as exc:
        raise ApiError(Kind.VALIDATION, field_errors=[FieldError(field, m) for m in exc.messages]) from None


def _role(role_id: str) -> Role:
    role = Role.objects.filter(pk=role_id).first()
    if role is None:
        raise ApiError(Kind.VALIDATION, field_errors=[FieldError("role_id", f"Unknown role {role_id}")])
    return role


def check_may_grant(by: User | None, role: Role) -> None:
    """Nobody hands out a role broader than their own: each of its permissions must be one ``by`` holds.

    Otherwise a role with ``users:write`` alone could make its holder (or an accomplice) an administrator.
    """
    if by is None or getattr(by, "is_superuser", False):
        return
    if isinstance(by, User):
        held = by.permission_strings if by.role_id else []
        beyond = [permission for permission in role.permissions if not grants(held, permission)]
    else:  # an API key (ApiKeyPrincipal): what its scopes grant
        beyond = [permission for permission in role.permissions if not by.has_permission(permission)]
    if beyond:
        message = f"You cannot grant {role.pk}: it holds permissions you do not ({', '.join(sorted(beyond))})"
        raise ApiError(Kind.FORBIDDEN, message, field_errors=[FieldError("role_id", message)])


def create_user(
    *,
    name: str,
    email: str,
    role_id: str,
    password: str | None = None,
    status: str | None = None,
    by: User | None = None,
) -> User:
    """Create a user. Without a password the account cannot sign in until one is set. ``by`` (the user
    acting) may only grant a role within their own permissions."""
    role = _role(role_id)
    check_may_grant(by, role)
    email = email.strip().lower()
    if password:
        check_password_strength(password, User(email=email, name=name))
    try:
        with transaction.atomic():
            fields = {"name": name, "role": role}
            if status:
                fields["status"] = status
            return User.objects.create_user(email, password, **fields)
    except IntegrityError:
        raise ApiError(
            Kind.CONFLICT,
            "A user with this email already exists",
            field_errors=[FieldError("email", "already registered")],
        ) from None


def update_user(user: User, changes: dict, *, expected_version: int | None = None, by: User | None = None) -> User:
    """Apply changes to name, email, role and status; a stale ``version`` is refused with 409. ``by`` (the
    user acting) may only grant a role within their own permissions."""
    if "role_id" in changes:
        changes["role"] = _role(changes.pop("role_id"))
        check_may_grant(by, changes["role"])
    if "email" in changes:
        changes["email"] = changes["email"].strip().lower()
    query = User.objects.filter(pk=user.pk)
    if expected_version is not None:
        query = query.filter(version=expected_version)
    try:
        with transaction.atomic():
            updated = query.update(**changes, version=F("version") + 1, updated_at=timezone.now())
    except IntegrityError:
        raise ApiError(
            Kind.CONFLICT,
            "A user with this email already exists",
            field_errors=[FieldError("email", "already registered")],
        ) from None
    if not updated:
        raise ApiError(
            Kind.CONFLICT, "The user was changed by someone else; reload and try again", code="VERSION_CONFLICT"
        )
    user.refresh_from_db()
    if changes.get("status") == "suspended":
        revoke_all(user, reason="suspended")
    return user


def change_password(user: User, new_password: str, *, current_password: str | None, by: User) -> None:
    """Set a new password. People changing their own must prove the current one; all sessions end."""
    proves_current = bool(current_password) and user.check_password(current_password)
    if (by.pk == user.pk or not by.has_permission("users:write")) and not proves_current:
        raise ApiError(Kind.VALIDATION, field_errors=[FieldError("current_password", "Current password is wrong")])
    check_password_strength(new_password, user, field="new_password")
    user.set_password(new_password)
    user.save(update_fields=["password", "updated_at"])
    revoke_all(user, reason="password-changed")


def delete_user(user: User, *, by: User) -> None:
    if user.pk == by.pk:
        raise ApiError(Kind.CONFLICT, "You cannot delete your own account", code="CANNOT_DELETE_SELF")
    revoke_all(user, reason="deleted")
    user.delete()


def create_api_key(
    *, name: str, scopes: list[str], tier: str = "premium", expires_at=None, created_by: User | None = None
) -> tuple[ApiKey, str]:
    """A new API key and its secret, which is shown this once and never stored."""
    raw = ApiKey.generate()
    key = ApiKey(name=name, scopes=scopes, tier=tier, expires_at=expires_at, created_by=created_by)
    key.set_key(raw)
    key.save()
    return key, raw
