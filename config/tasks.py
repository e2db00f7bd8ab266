"""Platform-wide Celery tasks.

System health: ``config.collect_system_metrics`` samples the host every 60 s (Beat schedule "Collect system
metrics") and ``config.check_services`` re-checks the platform's services every 60 s (Beat schedule "Check
platform services"); both schedules are editable in Admin.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task

from config import retention
from config.system import metrics, services

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


@shared_task(name="config.collect_system_metrics", ignore_result=True)
def collect_system_metrics() -> int:
    """Store one sample of every host figure and refresh the cached latest set; returns the row count.

    Nothing is pruned here: retention of old samples belongs to the cleanup job.
    """
    return len(metrics.collect_metrics())


@shared_task(bind=True, name="config.check_services", ignore_result=True)
def check_services(self) -> dict[str, str]:
    """Re-check every service but ``web`` (this is a worker, not the web process); returns id -> status.

    The worker running this task counts as alive even if its pool keeps it from answering its own ping.
    """
    rows = services.check_services(
        only=[service_id for service_id in services.SERVICES if service_id != "web"],
        current_worker=self.request.hostname,
    )
    return {row.id: row.status for row in rows}
