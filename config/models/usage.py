"""The platform's own tables: per-minute API usage (002 ``GET /api/v1/stats/usage``)."""

from __future__ import annotations

from django.db import models


class UsageMinute(models.Model):
    """Requests of one client to one endpoint (method + route pattern) in one UTC minute.

    Written by the per-minute fold of the Redis usage buckets (``config.api.usage``), so statistics survive a
    Redis restart and a time range is a range scan here, never a scan of request logs.
    """

    minute = models.DateTimeField(help_text="Start of the UTC minute")
    client_id = models.CharField(max_length=100, help_text="key:<id>, user:<id> or ip:<address>")
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=255, help_text="Route pattern, e.g. /api/v1/cameras/<camera_id>/counts")
    requests = models.PositiveIntegerField(default=0)
    errors = models.PositiveIntegerField(default=0, help_text="Responses with status 400 or above")
    total_us = models.BigIntegerField(default=0, help_text="Sum of response times, microseconds")

    class Meta:
        verbose_name = "API usage minute"
        constraints = [
            models.UniqueConstraint(fields=["minute", "client_id", "method", "path"], name="config_usage_minute_key")
        ]
        # The unique index serves time ranges across clients; this one a client's own range.
        indexes = [models.Index(fields=["client_id", "minute"], name="config_usage_client_minute")]

    def __str__(self) -> str:
        return f"{self.minute:%Y-%m-%d %H:%M} {self.client_id} {self.method} {self.path} x{self.requests}"

    @property
    def avg_ms(self) -> float:
        return self.total_us / self.requests / 1000 if self.requests else 0.0
