"""Detections (001 ``detections``), the detection event log (``detection_event_logs``) and the detection
provider's singleton configuration (``detection_provider_config``)."""

from __future__ import annotations

import uuid

from django.db import models

from config.crypto import EncryptedTextField
from recognition.choices import DetectionEventStatus, DetectionStatus, ProviderKind, ProviderStatus


class Detection(models.Model):
    """One face seen by a camera at one moment: who (or unknown), where in the frame, how sure."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    profile = models.ForeignKey(
        "recognition.FaceProfile", null=True, blank=True, on_delete=models.SET_NULL, related_name="detections"
    )
    # Denormalised from the profile at detection time (001 keeps them on the row; history survives a rename).
    person_id = models.CharField(max_length=50, blank=True, default="")
    name = models.CharField(max_length=255, blank=True, default="")
    camera = models.ForeignKey("cameras.Camera", on_delete=models.CASCADE, related_name="detections")
    confidence = models.FloatField(help_text="Similarity in percent (0-100)")
    distance = models.FloatField(null=True, blank=True, help_text="Cosine distance to the best match")
    timestamp = models.DateTimeField()
    track_id = models.CharField(max_length=100, blank=True, default="")
    bounding_box = models.JSONField(default=dict, help_text="{top, left, width, height} in frame pixels")
    # Storage key of the face crop; URLs are signed on every read.
    thumbnail = models.CharField(max_length=512, blank=True, default="")
    status = models.CharField(max_length=20, choices=DetectionStatus.choices)
    source = models.CharField(max_length=20, choices=ProviderKind.choices, default=ProviderKind.BUILTIN)
    event = models.ForeignKey(
        "recognition.DetectionEventLog", null=True, blank=True, on_delete=models.SET_NULL, related_name="detections"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-timestamp", "id"]
        indexes = [
            models.Index(fields=["-timestamp"], name="detection_timestamp_desc"),
            models.Index(fields=["camera", "-timestamp"], name="detection_camera_ts"),
            models.Index(fields=["person_id", "-timestamp"], name="detection_person_ts"),
        ]

    def __str__(self) -> str:
        return f"{self.camera_id} {self.person_id or 'unknown'} @ {self.timestamp:%Y-%m-%d %H:%M:%S}"


class DetectionEventLog(models.Model):
    """One run of the detection pipeline on one frame (a send-frame job or a recognition-loop scan)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    camera = models.ForeignKey("cameras.Camera", on_delete=models.CASCADE, related_name="detection_events")
    camera_name = models.CharField(max_length=255, blank=True, default="")
    timestamp = models.DateTimeField()
    status = models.CharField(max_length=20, choices=DetectionEventStatus.choices)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    payload = models.JSONField(default=dict, blank=True, help_text="What the provider answered")
    error_message = models.TextField(blank=True, default="")
    trigger = models.CharField(max_length=20, default="api", help_text="api (send-frame) or scan (recognition loop)")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-timestamp", "id"]
        indexes = [
            models.Index(fields=["-timestamp"], name="detection_event_ts_desc"),
            models.Index(fields=["camera", "-timestamp"], name="detection_event_camera_ts"),
        ]

    def __str__(self) -> str:
        return f"{self.camera_id} {self.status} @ {self.timestamp:%Y-%m-%d %H:%M:%S}"


class DetectionProviderConfig(models.Model):
    """The detection provider (a singleton, id 1): the built-in engine or an external HTTP service."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    provider_name = models.CharField(max_length=255, default="Built-in engine")
    kind = models.CharField(max_length=20, choices=ProviderKind.choices, default=ProviderKind.BUILTIN)
    endpoint = models.TextField(blank=True, default="", help_text="URL the external provider receives frames at")
    api_key = EncryptedTextField(blank=True, default="")
    enabled = models.BooleanField(default=True)
    timeout_seconds = models.FloatField(default=10.0)
    status = models.CharField(max_length=20, choices=ProviderStatus.choices, default=ProviderStatus.OFFLINE)
    last_heartbeat = models.DateTimeField(null=True, blank=True)
    average_latency_ms = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="detection_provider_singleton")]

    def __str__(self) -> str:
        return self.provider_name

    @classmethod
    def load(cls) -> DetectionProviderConfig:
        config, _ = cls.objects.get_or_create(id=1)
        return config
