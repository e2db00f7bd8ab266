from __future__ import annotations

from django.db import models
from django.utils import timezone

from cameras.choices import AlertLevel


class Alert(models.Model):
    """An operator-facing alert (001 ``alerts``). ``source`` names what raised it, so one outage raises one alert."""

    id = models.CharField(primary_key=True, max_length=50, help_text="e.g. ALERT-000123")
    title = models.CharField(max_length=255)
    description = models.TextField(blank=True)
    level = models.CharField(max_length=20, choices=AlertLevel.choices, db_index=True)
    timestamp = models.DateTimeField(default=timezone.now, db_index=True)
    camera = models.ForeignKey(
        "cameras.Camera", null=True, blank=True, on_delete=models.SET_NULL, related_name="alerts"
    )
    acknowledged = models.BooleanField(default=False, db_index=True)
    muted = models.BooleanField(default=False)
    tags = models.JSONField(default=list, blank=True)
    source = models.CharField(max_length=100, blank=True, db_index=True, help_text="e.g. camera-offline:CAM-01")
    resolved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-timestamp"]
        constraints = [
            # At most one open alert per source: the database, not a race between workers, decides.
            models.UniqueConstraint(
                fields=["source"],
                condition=models.Q(resolved_at__isnull=True) & ~models.Q(source=""),
                name="one_open_alert_per_source",
            )
        ]

    def __str__(self) -> str:
        return f"{self.id} {self.title}"
