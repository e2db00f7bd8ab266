"""How long the machine and the platform have run, and the versions of the platform and its components."""

from __future__ import annotations

import functools
import logging
import platform
import shutil
import subprocess
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import celery
import django
import psutil
from django.conf import settings
from django.db import connection

from config.health import STARTED_AT
from config.redis import get_redis

logger = logging.getLogger(__name__)


def humanize_seconds(seconds: float) -> str:
    """``3d 4h 12m``; under a minute, ``45s``."""
    seconds = int(max(seconds, 0))
    if seconds < 60:
        return f"{seconds}s"
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    parts = [f"{days}d"] if days else []
    if days or hours:
        parts.append(f"{hours}h")
    parts.append(f"{minutes}m")
    return " ".join(parts)


def postgres_facts() -> tuple[str, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('server_version'), now() - pg_postmaster_start_time()")
        version, uptime = cursor.fetchone()
    return f"PostgreSQL {version.split()[0]}", humanize_seconds(uptime.total_seconds())


def redis_facts() -> tuple[str, str]:
    info = get_redis().info("server")
    return f"Redis {info['redis_version']}", humanize_seconds(info.get("uptime_in_seconds", 0))


def guarded(read: Callable[[], tuple[str, str]]) -> tuple[str, str]:
    try:
        return read()
    except Exception:  # a component that is down has no version to tell; its check says why
        return "", ""


def uptime() -> dict[str, Any]:
    """When the machine booted and when this platform process started, with both durations in seconds."""
    now = time.time()
    boot = psutil.boot_time()
    return {
        "system_boot_time": datetime.fromtimestamp(boot, tz=UTC),
        "system_uptime_seconds": int(now - boot),
        "platform_started_at": datetime.fromtimestamp(STARTED_AT, tz=UTC),
        "platform_uptime_seconds": int(now - STARTED_AT),
    }


@functools.cache
def _build() -> str | None:
    """The commit this checkout runs, when it is a git checkout with git installed; else None.

    Cached per process: the code a process runs does not change under it.
    """
    git = shutil.which("git")
    if not git:
        return None
    try:
        result = subprocess.run(
            [git, "rev-parse", "--short", "HEAD"],
            cwd=settings.BASE_DIR,
            capture_output=True,
            text=True,
            timeout=2,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip() or None


def version() -> dict[str, Any]:
    """The platform version and those of its runtime and components (None where one cannot be read)."""
    postgres = guarded(postgres_facts)[0].removeprefix("PostgreSQL ") or None
    redis_version = guarded(redis_facts)[0].removeprefix("Redis ") or None
    return {
        "version": settings.ARGUS_VERSION,
        "python": platform.python_version(),
        "django": django.get_version(),
        "postgres": postgres,
        "redis": redis_version,
        "celery": celery.__version__,
        "build": _build(),
    }
