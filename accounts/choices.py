"""Statuses and kinds of the accounts domain: value, label and the badge colour the dashboard shows."""

from django.db import models


class UserStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    SUSPENDED = "suspended", "Suspended"


class ApiKeyTier(models.TextChoices):
    FREE = "free", "Free"
    PREMIUM = "premium", "Premium"
    ENTERPRISE = "enterprise", "Enterprise"


class Severity(models.TextChoices):
    INFO = "info", "Info"
    WARNING = "warning", "Warning"
    CRITICAL = "critical", "Critical"


BADGE_COLOURS = {
    UserStatus.ACTIVE: "green",
    UserStatus.SUSPENDED: "red",
    Severity.INFO: "blue",
    Severity.WARNING: "amber",
    Severity.CRITICAL: "red",
}
