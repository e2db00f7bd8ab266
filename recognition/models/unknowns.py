"""Unknown faces as work (issue 20): each unknown track is a sighting, and sightings of one stranger form a
cluster that an operator reviews (enrol, assign, merge, ignore, delete).

A cluster's centroid is the mean of its sightings' unit embeddings: the nearest open or ignored cluster within
the threshold takes a new sighting (``recognition.unknowns``). Like ``FaceEmbedding``, the vectors have no fixed
dimension (it follows the face model) and each model has a partial HNSW expression index, so the one search a
sighting costs stays an index scan however many clusters a site keeps.
"""

from __future__ import annotations

import uuid

from django.contrib.postgres.indexes import OpClass
from django.db import models
from django.db.models.functions import Cast
from pgvector.django import HnswIndex, VectorField

from recognition.choices import FACE_MODELS, UnknownClusterStatus
from recognition.models.profiles import HNSW_EF_CONSTRUCTION, HNSW_M


def cluster_index_name(model_name: str) -> str:
    return f"unk_cluster_{model_name.lower()}_hnsw"[:30]


class UnknownCluster(models.Model):
    """One stranger, as far as their face says: every unknown track close to the same centroid."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    model = models.CharField(max_length=50)  # the face model of the centroid and the sightings' embeddings
    dimension = models.PositiveSmallIntegerField()
    centroid = VectorField()
    count = models.PositiveIntegerField(default=0, help_text="Sightings (unknown tracks) in the cluster")
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField(db_index=True)
    cameras = models.JSONField(default=list, blank=True, help_text="Ids of the cameras that saw them")
    status = models.CharField(
        max_length=20, choices=UnknownClusterStatus.choices, default=UnknownClusterStatus.OPEN, db_index=True
    )
    # Who the cluster was enrolled as (or added to): erasing that person erases the cluster too.
    profile = models.ForeignKey(
        "recognition.FaceProfile", null=True, blank=True, on_delete=models.SET_NULL, related_name="unknown_clusters"
    )
    employee_id = models.CharField(max_length=50, blank=True, default="", db_index=True)
    # The profile's id, kept when the link above is cleared (the profile deleted) and whatever employee id the
    # person takes later: erasing the person finds the clusters enrolled into them by it (person_erased sends it).
    enrolled_profile_id = models.UUIDField(null=True, blank=True, db_index=True)
    alerted_at = models.DateTimeField(null=True, blank=True, help_text="When its last recurrence alert was raised")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-last_seen", "id"]
        indexes = [
            models.Index(fields=["status", "-last_seen"], name="unknown_cluster_status_seen"),
            *(
                HnswIndex(
                    OpClass(Cast("centroid", VectorField(dimensions=spec.dimension)), name="vector_cosine_ops"),
                    name=cluster_index_name(spec.name),
                    condition=models.Q(model=spec.name),
                    m=HNSW_M,
                    ef_construction=HNSW_EF_CONSTRUCTION,
                )
                for spec in FACE_MODELS.values()
            ),
        ]

    def __str__(self) -> str:
        return f"unknown {str(self.pk)[:8]} ({self.count} sightings, {self.status})"


class UnknownSighting(models.Model):
    """One unknown track in a cluster: its embedding, when and where, and (for the cluster's best few by
    quality) its face crop, a file of its own so it lives and dies with the cluster, not the detection."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    cluster = models.ForeignKey(UnknownCluster, on_delete=models.CASCADE, related_name="sightings")
    detection = models.OneToOneField(
        "recognition.Detection",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="unknown_sighting",
    )
    camera = models.ForeignKey(
        "cameras.Camera", null=True, blank=True, on_delete=models.SET_NULL, related_name="unknown_sightings"
    )
    seen_at = models.DateTimeField()
    embedding = VectorField()
    quality = models.FloatField(default=0.0, help_text="recognition.quality score of the crop's shot")
    distance = models.FloatField(null=True, blank=True, help_text="Cosine distance to the centroid it joined")
    # Storage key of the crop ("" once a better crop of the cluster replaced it); URLs are signed on reads.
    storage_key = models.CharField(max_length=512, blank=True, default="")
    # Where the face is in the crop: {top, left, width, height} (the crop has a margin around it).
    crop_box = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-seen_at", "id"]
        indexes = [models.Index(fields=["cluster", "-seen_at"], name="unknown_sighting_cluster_seen")]

    def __str__(self) -> str:
        return f"{self.cluster_id} @ {self.seen_at:%Y-%m-%d %H:%M:%S}"
