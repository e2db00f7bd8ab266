"""Negative feedback: an operator's "this detection is not that person" (``MatchRejection``)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from pgvector.django import VectorField


class MatchRejection(models.Model):
    """A face an operator said is not ``profile``: the embedding of the rejected face (biometric data,
    erased with the person, see ``recognition.enrolment.delete_profile``) and the decision that made the
    mistake. ``recognition.matching.identify`` refuses the profile for faces near this embedding."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    profile = models.ForeignKey("recognition.FaceProfile", on_delete=models.CASCADE, related_name="rejections")
    detection = models.ForeignKey(
        "recognition.Detection", null=True, blank=True, on_delete=models.SET_NULL, related_name="rejections"
    )
    model = models.CharField(max_length=50)
    dimension = models.PositiveSmallIntegerField()
    embedding = VectorField(help_text="The rejected face's embedding")
    # The decision that produced the mistake: how near the face was to the profile, and how far ahead of
    # the runner-up person (top-1/top-2 margin; None when nobody else was a candidate).
    distance = models.FloatField(null=True, blank=True, help_text="Cosine distance to the profile")
    margin = models.FloatField(null=True, blank=True, help_text="Top-1/top-2 distance gap of the decision")
    threshold = models.FloatField(null=True, blank=True, help_text="The threshold the decision was made at")
    rejected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    rejected_by_label = models.CharField(max_length=255, blank=True, default="", help_text="Who, as audited")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "id"]
        indexes = [models.Index(fields=["profile", "model"], name="match_rejection_profile")]

    def __str__(self) -> str:
        return f"not {self.profile_id} ({self.detection_id})"

    @property
    def similarity(self) -> float | None:
        return None if self.distance is None else 1.0 - self.distance
