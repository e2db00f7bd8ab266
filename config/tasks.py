"""Platform-wide Celery tasks."""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task

from config import retention

logger = logging.getLogger("argus.retention")


@shared_task(name="config.cleanup_old_data")
def cleanup_old_data(dry_run: bool = False) -> dict[str, Any]:
    """001 ``cleanup_old_data`` (daily, 02:00): apply every retention rule; report what went and what was skipped."""
    removed = retention.run_cleanup(dry_run=dry_run)
    skipped = retention.skipped_rules()
    logger.info(
        "cleanup_old_data%s: %s; skipped: %s",
        " (dry run)" if dry_run else "",
        ", ".join(f"{name}={count}" for name, count in removed.items()) or "nothing",
        ", ".join(f"{name} ({reason})" for name, reason in skipped.items()) or "none",
    )
    return {"dry_run": dry_run, "removed": removed, "skipped": skipped}


@shared_task(name="config.fold_api_usage")
def fold_api_usage() -> int:
    """Every minute: copy the closed minutes of API usage from Redis into UsageMinute rows."""
    from config.api.usage import fold_usage

    return fold_usage()
