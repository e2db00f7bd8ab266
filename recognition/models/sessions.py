"""Face-service (004) recognition sessions, kept in the database so a restart loses none of them.

A session is one slot's scanning: the cameras it watches (each with its own durable scan chain), the
students and embeddings the caller sent, the recognitions found, and the callback deliveries that carried
them to the caller in batches. Embedding jobs (generate / validate) are logged for the metrics endpoint.
"""

from __future__ import annotations

import uuid

from django.db import models
from pgvector.django import VectorField

from config.crypto import EncryptedTextField
from recognition.face_service.choices import DeliveryStatus, EmbeddingJobKind, SessionCameraStatus, SessionStatus


class RecognitionSession(models.Model):
    """One slot's recognition session (004 ``process-session`` .. ``stop-session``)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    slot_id = models.BigIntegerField(db_index=True)
    room_id = models.IntegerField()
    status = models.CharField(max_length=20, choices=SessionStatus.choices, default=SessionStatus.ACTIVE)
    similarity_threshold = models.FloatField()
    scan_interval = models.PositiveIntegerField(help_text="Seconds between two scans of a camera")
    callback_url = models.TextField()
    # The delivery policy in force when the session started, so every worker applies the same one.
    callback_timeout = models.FloatField(default=30.0)
    callback_max_attempts = models.PositiveSmallIntegerField(default=4)
    callback_backoff_ms = models.PositiveIntegerField(default=1000)
    model_name = models.CharField(max_length=50, help_text="Face model whose embeddings the students carry")
    total_students = models.PositiveIntegerField(default=0)
    total_cameras = models.PositiveIntegerField(default=0)
    active_cameras = models.PositiveIntegerField(default=0)
    failed_cameras = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField()
    stopped_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            # A second session of a slot is refused (409) even when two requests race.
            models.UniqueConstraint(
                fields=["slot_id"], condition=models.Q(status="active"), name="face_session_one_active_per_slot"
            )
        ]
        indexes = [models.Index(fields=["status", "started_at"], name="face_session_status_started")]

    def __str__(self) -> str:
        return f"slot {self.slot_id} ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status == SessionStatus.ACTIVE


class SessionCamera(models.Model):
    """A camera of a session (watched by the vision workers while both are active) and its counters."""

    session = models.ForeignKey(RecognitionSession, on_delete=models.CASCADE, related_name="cameras")
    camera_id = models.IntegerField(help_text="The caller's camera id")
    name = models.CharField(max_length=255)
    rtsp_url = EncryptedTextField(help_text="May hold the camera's password")
    status = models.CharField(max_length=20, choices=SessionCameraStatus.choices)
    error = models.TextField(blank=True, default="")
    frame_rate = models.FloatField(default=0.0)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    latency_ms = models.FloatField(default=0.0)
    scans = models.PositiveIntegerField(default=0)
    failed_scans = models.PositiveIntegerField(default=0)
    consecutive_failures = models.PositiveIntegerField(default=0)
    frames_processed = models.PositiveIntegerField(default=0)
    processing_seconds = models.FloatField(default=0.0, help_text="Detection and matching time over all frames")
    faces_detected = models.PositiveIntegerField(default=0)
    faces_matched = models.PositiveIntegerField(default=0)
    last_scan_at = models.DateTimeField(null=True, blank=True)
    last_frame_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["session", "camera_id"]
        constraints = [models.UniqueConstraint(fields=["session", "camera_id"], name="face_session_camera_unique")]

    def __str__(self) -> str:
        return f"{self.camera_id} {self.name}"


class SessionStudent(models.Model):
    """A student enrolled in a session, with the embedding the caller sent."""

    session = models.ForeignKey(RecognitionSession, on_delete=models.CASCADE, related_name="students")
    user_id = models.BigIntegerField()
    full_name = models.CharField(max_length=255)
    roll_number = models.CharField(max_length=50)
    embedding = VectorField()
    embedding_version = models.IntegerField()

    class Meta:
        ordering = ["session", "user_id"]
        constraints = [models.UniqueConstraint(fields=["session", "user_id"], name="face_session_student_unique")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.roll_number}"


class CallbackDelivery(models.Model):
    """One batch of recognitions posted to the session's callback URL (its id is the batch id)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    session = models.ForeignKey(RecognitionSession, on_delete=models.CASCADE, related_name="deliveries")
    status = models.CharField(max_length=20, choices=DeliveryStatus.choices, default=DeliveryStatus.SENDING)
    size = models.PositiveIntegerField(default=0)
    attempts = models.PositiveSmallIntegerField(default=0)
    attempt_log = models.JSONField(default=list, blank=True, help_text="[{at, status, error}] per attempt")
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"{self.id} ({self.status})"


class RecognitionResult(models.Model):
    """A student recognised by a camera of a session: recorded once per student and session."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    session = models.ForeignKey(RecognitionSession, on_delete=models.CASCADE, related_name="results")
    student = models.ForeignKey(SessionStudent, on_delete=models.CASCADE, related_name="results")
    camera = models.ForeignKey(SessionCamera, on_delete=models.CASCADE, related_name="results")
    similarity = models.FloatField()
    bounding_box = models.JSONField(default=dict, help_text="{top, left, width, height} in frame pixels")
    detected_at = models.DateTimeField()
    delivery = models.ForeignKey(
        CallbackDelivery, null=True, blank=True, on_delete=models.SET_NULL, related_name="results"
    )

    class Meta:
        ordering = ["detected_at", "id"]
        constraints = [models.UniqueConstraint(fields=["session", "student"], name="face_result_once_per_student")]

    def __str__(self) -> str:
        return f"{self.student_id} @ {self.detected_at:%H:%M:%S}"


class EmbeddingJob(models.Model):
    """One ``embeddings/generate`` or ``embeddings/validate`` call and its outcome (for the metrics)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=20, choices=EmbeddingJobKind.choices)
    submission_id = models.BigIntegerField(null=True, blank=True)
    video = models.TextField(blank=True, default="", help_text="The video URL or uploaded file name")
    succeeded = models.BooleanField(default=False)
    error_code = models.CharField(max_length=50, blank=True, default="")
    quality = models.FloatField(null=True, blank=True)
    total_frames = models.PositiveIntegerField(default=0)
    frames_with_face = models.PositiveIntegerField(default=0)
    processing_seconds = models.FloatField(default=0.0)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.kind} {self.submission_id or self.video} ({'ok' if self.succeeded else self.error_code})"
