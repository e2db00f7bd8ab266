"""``manage.py cleanup_old_data [--dry-run]``: the daily retention job, on demand, with progress."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone
from tqdm import tqdm

from config import retention


class Command(BaseCommand):
    help = "Delete data older than its retention period (detections, audit, metrics, expired exports)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="Count what would be removed; delete nothing")
        parser.add_argument("--batch-size", type=int, default=retention.BATCH_SIZE, help="Rows per DELETE")

    def handle(self, *args, dry_run: bool = False, batch_size: int = retention.BATCH_SIZE, **options) -> None:
        now = timezone.now()
        verb = "would remove" if dry_run else "removed"
        total = 0
        for rule in retention.rules():
            reason = retention.skip_reason(rule)
            if reason is not None:
                self.stdout.write(f"{rule.name}: skipped, {reason} ({rule.model})")
                continue
            expired = retention.expired_count(rule, now=now)
            # The bar goes to stderr, so stdout stays one summary line per rule (for logs and scripts).
            with tqdm(total=expired, desc=rule.name, unit="rows", file=self.stderr, disable=expired == 0) as bar:
                count = retention.apply_rule(rule, now=now, dry_run=dry_run, batch_size=batch_size, progress=bar.update)
            total += count
            self.stdout.write(f"{rule.name}: {verb} {count} {rule.description} {_older_than(rule)}")
        self.stdout.write(self.style.SUCCESS(f"{'Dry run: ' if dry_run else ''}{verb} {total} rows in all"))


def _older_than(rule: retention.RetentionRule) -> str:
    days = rule.days()
    return "(expired)" if days is None else f"(older than {days} days)"
