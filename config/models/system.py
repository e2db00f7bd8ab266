"""The platform's health tables (001 ``system_metrics``, ``system_services``) and its banner messages."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone


class SystemMetric(models.Model):
    """One sample of a resource figure (001 ``system_metrics``), collected every 60 s."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    category = models.CharField(max_length=50, db_index=True, help_text="cpu, gpu, memory, disk, network")
    label = models.CharField(max_length=255)
    value = models.FloatField()
    unit = models.CharField(max_length=20, blank=True)
    limit_value = models.FloatField(null=True, blank=True)
    timestamp = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-timestamp"]

    def __str__(self) -> str:
        return f"{self.label} {self.value}{self.unit}"


class SystemService(models.Model):
    """A platform service and what its last liveness check found (001 ``system_services``)."""

    id = models.CharField(primary_key=True, max_length=50)
    name = models.CharField(max_length=255)
    status = models.CharField(max_length=20, default="stopped", help_text="running, degraded, stopped")
    version = models.CharField(max_length=50, blank=True)
    uptime = models.CharField(max_length=100, blank=True)
    detail = models.TextField(blank=True)
    last_restart = models.DateTimeField(null=True, blank=True)
    last_checked = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class BannerMessage(models.Model):
    """A message shown across the top of every client, until it expires."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    message = models.TextField()
    level = models.CharField(max_length=20, default="info", help_text="info, warning, critical")
    active = models.BooleanField(default=True)
    starts_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    created_by = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.message[:60]
