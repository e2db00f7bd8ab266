"""Users, roles, refresh-token sessions, machine API keys and the audit trail."""

from __future__ import annotations

import hashlib
import secrets
import uuid

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.utils import timezone

from accounts.choices import ApiKeyTier, GridMode, Severity, Theme, UserStatus
from accounts.permissions_catalogue import grants
from accounts.validators import validate_extras, validate_language, validate_timezone


class Role(models.Model):
    id = models.CharField(primary_key=True, max_length=50, help_text="e.g. ROLE-ADMIN")
    name = models.CharField(max_length=50)
    permissions = models.JSONField(default=list, help_text='Permission strings, e.g. ["cameras:read"]; "*" for all')
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name

    def grants(self, permission: str) -> bool:
        return grants(self.permissions, permission)


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **fields) -> User:
        if not email:
            raise ValueError("email is required")
        if "role" not in fields:  # a role_id default beside ``role`` would override it in Model.__init__
            fields.setdefault("role_id", "ROLE-VIEWER")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields) -> User:
        fields.update(is_staff=True, is_superuser=True, role_id="ROLE-ADMIN")
        fields.setdefault("name", "Administrator")
        return self.create_user(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    email = models.EmailField(unique=True)
    name = models.CharField(max_length=255)
    role = models.ForeignKey(Role, on_delete=models.PROTECT, related_name="users")
    status = models.CharField(max_length=20, choices=UserStatus.choices, default=UserStatus.ACTIVE, db_index=True)
    is_staff = models.BooleanField(default=False, help_text="May sign in to Django Admin")
    last_active = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["name"]

    class Meta:
        ordering = ["email"]

    def __str__(self) -> str:
        return self.email

    @property
    def is_active(self) -> bool:  # Django's auth checks this: suspended users cannot sign in
        return self.status == UserStatus.ACTIVE

    @property
    def permission_strings(self) -> list[str]:
        return list(self.role.permissions)

    def has_permission(self, permission: str) -> bool:
        return self.is_active and self.role.grants(permission)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class UserSession(models.Model):
    """One refresh token's life. Only a hash of its id is kept; rotation revokes the old one."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="sessions")
    token_hash = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField(db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=30, blank=True)
    rotated_to = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="rotated_from"
    )
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.user} session {self.created_at:%Y-%m-%d %H:%M}"

    @staticmethod
    def hash_token_id(jti: str) -> str:
        return _digest(jti)

    @property
    def is_usable(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()


class ApiKeyQuerySet(models.QuerySet):
    def usable(self):
        now = timezone.now()
        return self.filter(is_active=True).filter(models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=now))


class ApiKey(models.Model):
    """A machine credential: ``bec_`` + 32 hex, shown once, stored as a SHA-256 hash."""

    PREFIX = "bec_"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=100)
    key_prefix = models.CharField(max_length=12, editable=False, help_text="First characters, to tell keys apart")
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    scopes = models.JSONField(default=list, help_text='e.g. ["anpr:ingest", "counts:ingest", "face-service"]')
    tier = models.CharField(max_length=20, choices=ApiKeyTier.choices, default=ApiKeyTier.PREMIUM)
    is_active = models.BooleanField(default=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="api_keys")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ApiKeyQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.name} ({self.key_prefix}…)"

    @classmethod
    def generate(cls) -> str:
        return cls.PREFIX + secrets.token_hex(16)

    @classmethod
    def hash_key(cls, raw: str) -> str:
        return _digest(raw)

    def set_key(self, raw: str) -> None:
        self.key_prefix = raw[:12]
        self.key_hash = self.hash_key(raw)

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()

    def grants(self, permission: str) -> bool:
        return self.is_active and not self.is_expired and grants(self.scopes, permission)


class AuditLog(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    actor = models.CharField(max_length=255, db_index=True)
    actor_role = models.CharField(max_length=50, blank=True)
    action = models.CharField(max_length=100, db_index=True)
    resource_type = models.CharField(max_length=50, blank=True, db_index=True)
    resource_id = models.CharField(max_length=100, blank=True)
    message = models.TextField()
    context = models.JSONField(default=dict, blank=True)
    severity = models.CharField(max_length=20, choices=Severity.choices, default=Severity.INFO, db_index=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.TextField(blank=True)
    request_id = models.CharField(max_length=128, blank=True)
    timestamp = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-timestamp"]
        indexes = [models.Index(fields=["-timestamp"], name="audit_timestamp_desc")]

    def __str__(self) -> str:
        return f"{self.timestamp:%Y-%m-%d %H:%M:%S} {self.actor} {self.action}"


class Notification(models.Model):
    """A message for one user, or for everyone when ``user`` is empty (001 ``notifications``)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications")
    title = models.CharField(max_length=255)
    message = models.TextField(blank=True)
    level = models.CharField(max_length=20, choices=Severity.choices, default=Severity.INFO)
    acknowledged = models.BooleanField(default=False, db_index=True)
    link = models.TextField(blank=True)
    timestamp = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-timestamp"]

    def __str__(self) -> str:
        return self.title


def default_language() -> str:
    return settings.LANGUAGE_CODE


def default_timezone() -> str:
    return settings.TIME_ZONE


class UserPreference(models.Model):
    """A user's display settings (001 ``user_preferences``); absent until the user saves some."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="preference")
    theme = models.CharField(max_length=20, choices=Theme.choices, default=Theme.DARK)
    grid_mode = models.CharField(max_length=20, choices=GridMode.choices, default=GridMode.THREE)
    auto_rotate = models.BooleanField(default=True)
    # Validated against settings.LANGUAGES rather than choices, so adding a language needs no migration.
    language = models.CharField(max_length=10, default=default_language, validators=[validate_language])
    timezone = models.CharField(max_length=64, default=default_timezone, validators=[validate_timezone])
    preferences = models.JSONField(
        default=dict, blank=True, validators=[validate_extras], help_text="Free-form extras of the client (≤ 16 KB)"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "user preferences"
        verbose_name_plural = "user preferences"

    def __str__(self) -> str:
        return f"Preferences of {self.user}"
