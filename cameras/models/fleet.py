"""Cameras and what is configured on them: zones (polygons) and sensors."""

from __future__ import annotations

import uuid

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from cameras.choices import CameraStatus, SensorType, StreamType, ZoneType
from config.crypto import EncryptedTextField

# The range a camera's match threshold may take, whatever the model (cosine distance: 0 is the same image).
# The API narrows the top to twice the configured model's default (cameras.api.serializers).
MIN_MATCH_THRESHOLD = 0.01
MAX_MATCH_THRESHOLD = 0.9


class Camera(models.Model):
    """One camera under three contracts (001 ``/api/v1/cameras``, 000 status/versioning, 003 ``/config/cameras``).

    The stream URL is kept without its password; the password is stored encrypted beside it and only
    put back into the URL when the platform itself opens the stream.
    """

    id = models.CharField(primary_key=True, max_length=50, help_text="e.g. CAM-01 or cam-001")
    name = models.CharField(max_length=255)
    location = models.CharField(max_length=255, blank=True)
    stream_type = models.CharField(max_length=20, choices=StreamType.choices, default=StreamType.RTSP)
    stream_url = models.TextField(blank=True, help_text="Without its password")
    stream_password = EncryptedTextField(blank=True, default="")
    status = models.CharField(max_length=20, choices=CameraStatus.choices, default=CameraStatus.OFFLINE, db_index=True)
    enabled = models.BooleanField(default=True, db_index=True)
    fps = models.FloatField(default=0)
    latency = models.FloatField(default=0, help_text="Milliseconds to the first frame at the last check")
    bitrate = models.FloatField(default=0, help_text="Mbit/s")
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    codec = models.CharField(max_length=30, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    tags = models.JSONField(default=list, blank=True)
    thumbnail = models.CharField(max_length=512, blank=True, help_text="Storage key of the latest snapshot")
    zone = models.ForeignKey("Zone", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    detection_model = models.CharField(max_length=100, blank=True)
    ocr_models = models.JSONField(default=list, blank=True)
    # Continuous analysis by the vision workers (cameras.vision): the largest frame analysed and its rate.
    analysis_fps = models.FloatField(
        default=5.0,
        validators=[MinValueValidator(0.2), MaxValueValidator(30.0)],
        help_text="Frames analysed per second (0.2 to 30)",
    )
    detect_width = models.PositiveIntegerField(
        default=1280,
        validators=[MinValueValidator(160), MaxValueValidator(3840)],
        help_text="Frames are scaled down (never up) to fit this width for analysis",
    )
    detect_height = models.PositiveIntegerField(
        default=720,
        validators=[MinValueValidator(120), MaxValueValidator(2160)],
        help_text="Frames are scaled down (never up) to fit this height for analysis",
    )
    # Faces recognised by the vision workers on the frames above (recognition.vision).
    recognition_enabled = models.BooleanField(default=False, db_index=True)
    # Unused since the vision workers watch cameras continuously (analysis_fps sets the pace); no page, form or
    # API shows it. The column stays until a migration drops it.
    recognition_interval = models.PositiveIntegerField(default=10, help_text="Seconds between recognition scans")
    # This camera's own face match threshold (cosine distance); empty: the model's calibrated one
    # (recognition.matching explains both; the recognition dashboard shows what a value trades).
    match_threshold = models.FloatField(
        null=True,
        blank=True,
        validators=[MinValueValidator(MIN_MATCH_THRESHOLD), MaxValueValidator(MAX_MATCH_THRESHOLD)],
        help_text="Face match threshold (cosine distance) for this camera; empty: the model's default",
    )
    metadata = models.JSONField(default=dict, blank=True)
    last_seen = models.DateTimeField(null=True, blank=True)
    last_checked = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    offline_since = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.id} {self.name}"

    @property
    def resolution(self) -> str | None:
        return f"{self.width}x{self.height}" if self.width and self.height else None


class Zone(models.Model):
    id = models.CharField(primary_key=True, max_length=50, help_text="e.g. zone-001")
    name = models.CharField(max_length=255)
    camera = models.ForeignKey(Camera, null=True, blank=True, on_delete=models.CASCADE, related_name="zones")
    type = models.CharField(max_length=20, choices=ZoneType.choices, default=ZoneType.DETECTION)
    geometry = models.JSONField(help_text='{"type": "polygon", "points": [{"x": .., "y": ..}, ...]}')
    metadata = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.id} {self.name}"


class Sensor(models.Model):
    id = models.CharField(primary_key=True, max_length=50, help_text="e.g. sensor-001")
    name = models.CharField(max_length=255)
    type = models.CharField(max_length=20, choices=SensorType.choices)
    camera = models.ForeignKey(Camera, null=True, blank=True, on_delete=models.SET_NULL, related_name="sensors")
    zone = models.ForeignKey(Zone, null=True, blank=True, on_delete=models.SET_NULL, related_name="sensors")
    config = models.JSONField(default=dict, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.id} {self.name}"


class Snapshot(models.Model):
    """One frame grabbed from a camera and stored (``snapshots/{camera_id}/{timestamp}.jpg``)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    camera = models.ForeignKey(Camera, on_delete=models.CASCADE, related_name="snapshots")
    storage_key = models.CharField(max_length=512)
    width = models.PositiveIntegerField(null=True)
    height = models.PositiveIntegerField(null=True)
    size_bytes = models.PositiveIntegerField(default=0)
    taken_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-taken_at"]

    def __str__(self) -> str:
        return self.storage_key
