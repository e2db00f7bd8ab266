"""Statuses of the face-service (004) sessions, their cameras, callback deliveries and embedding jobs."""

from __future__ import annotations

from django.db import models


class SessionStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    STOPPED = "stopped", "Stopped"
    # Never stopped by the caller: ended by the watchdog after FACE_SERVICE_MAX_SESSION_HOURS.
    EXPIRED = "expired", "Expired"


class SessionCameraStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    FAILED = "failed", "Failed to connect"
    STOPPED = "stopped", "Stopped"


class DeliveryStatus(models.TextChoices):
    SENDING = "sending", "Sending"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed"


class EmbeddingJobKind(models.TextChoices):
    GENERATE = "generate", "Generate"
    VALIDATE = "validate", "Validate"
