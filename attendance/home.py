"""The attendance app's panel on Home (:mod:`config.home`): today at a glance. Registered in
``AttendanceConfig.ready()``."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from attendance import statistics


def today_panel(request: HttpRequest) -> dict[str, Any] | None:
    """Today's overview, as the Attendance page heads it."""
    if not request.user.has_permission("attendance:read"):
        return None
    return {"overview": statistics.overview()}
