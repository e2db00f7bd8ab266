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


class Theme(models.TextChoices):
    DARK = "dark", "Dark"
    LIGHT = "light", "Light"
    SYSTEM = "system", "Follow the system"


class GridMode(models.TextChoices):
    TWO = "2x2", "2 by 2"
    THREE = "3x3", "3 by 3"
    FOUR = "4x4", "4 by 4"


BADGE_COLOURS = {
    UserStatus.ACTIVE: "green",
    UserStatus.SUSPENDED: "red",
    Severity.INFO: "blue",
    Severity.WARNING: "amber",
    Severity.CRITICAL: "red",
}
