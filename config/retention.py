"""Data retention: which rows are removed after how long, and the job that removes them.

Each app registers a :class:`RetentionRule` for its time-stamped data (``register``); the built-in rules
below cover 001's ``cleanup_old_data``. A rule whose model is not installed (an app that does not exist
yet) is skipped and reported as such. Rows go in batches, each its own short transaction, so pruning a
large table never holds long locks; the files a row points at are deleted with it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.apps import apps
from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.core.files.storage import default_storage
from django.db import models
from django.utils import timezone

logger = logging.getLogger("argus.retention")

BATCH_SIZE = 1000
NOT_INSTALLED = "not installed"
DISABLED = "disabled"


def delete_stored_files(rows: Iterable[models.Model], key_fields: tuple[str, ...] = ()) -> int:
    """Delete from storage every file the rows point at: their FileFields, and storage keys in ``key_fields``.

    Django never deletes a file when its row goes. A file that is already gone is no error.
    """
    deleted = 0
    for row in rows:
        names: list[tuple[object, str]] = []
        for model_field in row._meta.concrete_fields:
            if isinstance(model_field, models.FileField):
                value = getattr(row, model_field.attname)
                if value:
                    names.append((model_field.storage, str(value)))
        for key_field in key_fields:
            try:
                model_field = row._meta.get_field(key_field)
            except FieldDoesNotExist:
                continue
            if isinstance(model_field, models.FileField):
                continue  # deleted above with the other FileFields
            value = getattr(row, key_field, "")
            if value:
                names.append((default_storage, str(value)))
        for storage, name in names:
            try:
                storage.delete(name)
                deleted += 1
            except Exception:  # the row still goes: an orphan file is better than a row that never leaves
                logger.warning("could not delete stored file %s of %s %s", name, row._meta.label, row.pk)
    return deleted


@dataclass(frozen=True)
class RetentionRule:
    """Rows of ``model`` (an ``app_label.ModelName``) whose ``date_field`` is older than the period.

    The period is ``settings.<setting>`` days (``default_days`` where the setting is absent; 0 or less
    keeps rows forever). With ``setting`` None the date field is an expiry time instead: rows go once it
    has passed. ``on_delete`` receives each batch's rows once they are deleted, to remove what lives
    outside the database; by default the rows' FileFields are deleted from storage.
    """

    name: str
    model: str
    date_field: str
    setting: str | None
    default_days: int | None = None
    description: str = ""
    on_delete: Callable[[Iterable[models.Model]], object] | None = field(default=delete_stored_files)

    def model_class(self) -> type[models.Model] | None:
        try:
            return apps.get_model(self.model)
        except LookupError:
            return None

    def days(self) -> int | None:
        if self.setting is None:
            return None
        return int(getattr(settings, self.setting, self.default_days) or 0)

    def cutoff(self, now: datetime) -> datetime | None:
        """Rows strictly older than this go; None when the rule keeps everything."""
        if self.setting is None:
            return now  # an expiry time: gone once it has passed
        days = self.days()
        return now - timedelta(days=days) if days and days > 0 else None

    def expired(self, now: datetime) -> models.QuerySet | None:
        model = self.model_class()
        cutoff = self.cutoff(now)
        if model is None or cutoff is None:
            return None
        return model._default_manager.filter(**{f"{self.date_field}__lt": cutoff})


_RULES: dict[str, RetentionRule] = {}


def register(rule: RetentionRule) -> RetentionRule:
    """Add (or replace, by name) a rule. Apps call this from their ``AppConfig.ready``."""
    _RULES[rule.name] = rule
    return rule


def unregister(name: str) -> None:
    _RULES.pop(name, None)


def rules() -> list[RetentionRule]:
    return list(_RULES.values())


def skip_reason(rule: RetentionRule) -> str | None:
    """Why ``rule`` does nothing now (its model is not installed, or it keeps rows forever), or None."""
    model = rule.model_class()
    if model is None:
        return NOT_INSTALLED
    try:
        model._meta.get_field(rule.date_field)
    except FieldDoesNotExist:
        return f"misconfigured: {rule.model} has no field {rule.date_field}"
    if rule.cutoff(timezone.now()) is None:
        return DISABLED
    return None


def skipped_rules() -> dict[str, str]:
    return {rule.name: reason for rule in rules() if (reason := skip_reason(rule))}


def expired_count(rule: RetentionRule, *, now: datetime | None = None) -> int:
    queryset = rule.expired(now or timezone.now())
    return 0 if queryset is None else queryset.count()


def apply_rule(
    rule: RetentionRule,
    *,
    now: datetime | None = None,
    dry_run: bool = False,
    batch_size: int = BATCH_SIZE,
    progress: Callable[[int], object] | None = None,
) -> int:
    """Delete (or on a dry run, count) the rule's expired rows; returns how many. ``progress(n)`` per batch."""
    queryset = rule.expired(now or timezone.now())
    if queryset is None:
        return 0
    if dry_run:
        count = queryset.count()
        if progress:
            progress(count)
        return count
    model = queryset.model
    removed = 0
    while True:
        # Primary keys first, then the rows by key: a bounded DELETE, whatever the table's size.
        keys = list(queryset.order_by().values_list("pk", flat=True)[:batch_size])
        if not keys:
            return removed
        batch = model._default_manager.filter(pk__in=keys)
        rows = list(batch) if rule.on_delete is not None else []
        _, per_model = batch.delete()  # one transaction per batch (Django's delete is atomic)
        if rule.on_delete is not None:
            # Files after their rows: a failure leaves an orphan file, never a row pointing at nothing.
            rule.on_delete(rows)
        count = per_model.get(model._meta.label, 0)
        removed += count
        if progress:
            progress(count)
        if count == 0:  # nothing left that can go (rows protected by a foreign key): do not spin
            return removed


def run_cleanup(dry_run: bool = False, *, now: datetime | None = None, batch_size: int = BATCH_SIZE) -> dict[str, int]:
    """Apply every rule whose model is installed and which has a period; ``{rule name: rows removed}``.

    On a dry run nothing is deleted and the counts are of what would be. Skipped rules are left out
    (see :func:`skipped_rules`).
    """
    moment = now or timezone.now()
    report = {}
    for rule in rules():
        if skip_reason(rule) is None:
            report[rule.name] = apply_rule(rule, now=moment, dry_run=dry_run, batch_size=batch_size)
    return report


# --- The platform's own rules (the apps register theirs in their AppConfig.ready()) -------------------------

register(
    RetentionRule(
        name="system_metrics",
        model="config.SystemMetric",
        date_field="timestamp",
        setting="RETENTION_METRICS_DAYS",
        default_days=30,
        description="system metric samples",
    )
)
register(
    RetentionRule(
        name="api_usage",
        model="config.UsageMinute",
        date_field="minute",
        setting="RETENTION_API_USAGE_DAYS",
        default_days=90,
        description="per-minute API usage statistics",
        on_delete=None,
    )
)
