"""User preferences (theme, grid, language, time zone, free-form extras) and the reference lists they use."""

from __future__ import annotations

import unicodedata
import zoneinfo
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils.translation import get_language_info

from accounts.choices import GridMode, Theme
from accounts.models import User, UserPreference
from accounts.validators import available_timezones

FIELDS = ("theme", "grid_mode", "auto_rotate", "language", "timezone", "preferences")


def defaults() -> dict[str, Any]:
    """What a user who never saved preferences gets: the site's language and time zone."""
    return {
        "theme": Theme.DARK.value,
        "grid_mode": GridMode.THREE.value,
        "auto_rotate": True,
        "language": settings.LANGUAGE_CODE,
        "timezone": settings.TIME_ZONE,
        "preferences": {},
    }


def preferences_of(user: User) -> dict[str, Any]:
    """The user's preferences as a plain dict (defaults where none were saved; ``updated_at`` None then)."""
    saved = UserPreference.objects.filter(user=user).first()
    if saved is None:
        return {**defaults(), "updated_at": None}
    return {**{name: getattr(saved, name) for name in FIELDS}, "updated_at": saved.updated_at}


def update_preferences(user: User, changes: dict[str, Any]) -> dict[str, Any]:
    """Apply already validated ``changes`` (any subset of :data:`FIELDS`); the extras are replaced whole."""
    preference, _ = UserPreference.objects.get_or_create(user=user, defaults=defaults())
    for name, value in changes.items():
        if name in FIELDS:
            setattr(preference, name, value)
    preference.full_clean()  # the model's validators are the last word, whatever the caller checked
    preference.save()
    return preferences_of(user)


def display_settings(user: Any) -> tuple[str, str, str] | None:
    """``(time zone, language, theme)`` the dashboard should use for ``user``, or None for the site's own."""
    if not isinstance(user, User):
        return None
    return UserPreference.objects.filter(user=user).values_list("timezone", "language", "theme").first()


def grid_columns(user: Any) -> int:
    """How many camera tiles a row of the Live view holds for ``user``: their grid (2, 3 or 4 by …), else 3."""
    chosen = None
    if isinstance(user, User):
        chosen = UserPreference.objects.filter(user=user).values_list("grid_mode", flat=True).first()
    try:
        return int((chosen or GridMode.THREE.value).split("x")[0])
    except ValueError:
        return 3


def theme(request) -> dict[str, str]:
    """Template context: the signed-in user's theme (``dark``, ``light`` or ``system``), set by the
    preference middleware; the default theme for everyone else."""
    return {"ui_theme": getattr(request, "ui_theme", None) or Theme.DARK.value}


def languages() -> list[dict[str, str]]:
    """The site's languages (``settings.LANGUAGES``) with their English and native names."""
    result = []
    for code, name in settings.LANGUAGES:
        try:
            info = get_language_info(code)
        except KeyError:  # a code Django does not know: its configured name is all there is
            info = {"name": str(name), "name_local": str(name)}
        # Django's own tables spell some native names decomposed; clients compare and sort composed (NFC).
        native = unicodedata.normalize("NFC", str(info["name_local"]))
        result.append({"code": code, "name": str(info["name"]), "native_name": native})
    return result


def format_offset(offset: timedelta) -> str:
    """``+07:00``, ``-03:30``, ``+00:00``."""
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    hours, minutes = divmod(abs(minutes), 60)
    return f"{sign}{hours:02d}:{minutes:02d}"


def timezones(at: datetime | None = None) -> list[dict[str, str]]:
    """Every IANA zone, sorted by name, with its UTC offset at ``at`` (now by default: DST applies)."""
    moment = at or datetime.now(UTC)
    result = []
    for name in sorted(available_timezones()):
        offset = format_offset(moment.astimezone(zoneinfo.ZoneInfo(name)).utcoffset() or timedelta(0))
        result.append({"id": name, "offset": offset, "label": f"(UTC{offset}) {name}"})
    return result
