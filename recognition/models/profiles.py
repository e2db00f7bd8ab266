"""Face profiles (001's face_profiles), their images (face_images) and one embedding per image (pgvector).

Embeddings of every model live in one table, in a ``vector`` column without a fixed dimension, because
the dimension follows the configured model (Dlib 128, ArcFace and Facenet512 512). An HNSW index needs
a fixed dimension, so each supported model has its own *partial expression* index:

    CREATE INDEX ... USING hnsw ((embedding::vector(128)) vector_cosine_ops) WHERE model = 'Dlib'

and a search that repeats the cast and the condition (recognition/matching.py) uses it, as EXPLAIN
shows (tests/recognition/test_matching.py). A new model in ``FACE_MODELS`` needs a migration for its index.
"""

from __future__ import annotations

import uuid

from django.contrib.postgres.indexes import OpClass
from django.db import models
from django.db.models.functions import Cast
from pgvector.django import HnswIndex, VectorField

from recognition.choices import FACE_MODELS, ProfileStatus

# HNSW build parameters: pgvector's defaults, written down so a change is a visible migration.
HNSW_M = 16
HNSW_EF_CONSTRUCTION = 64


def embedding_index_name(model_name: str) -> str:
    return f"face_emb_{model_name.lower()}_hnsw"[:30]


class FaceProfile(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    employee_id = models.CharField(max_length=50, unique=True)
    name = models.CharField(max_length=255)
    department = models.CharField(max_length=255, blank=True, default="", db_index=True)
    status = models.CharField(
        max_length=20, choices=ProfileStatus.choices, default=ProfileStatus.PENDING, db_index=True
    )
    notes = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "employee_id"]

    def __str__(self) -> str:
        return f"{self.employee_id} {self.name}"


class FaceImage(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    profile = models.ForeignKey(FaceProfile, on_delete=models.CASCADE, related_name="images")
    # The file's name in the storage layer (001's s3_key); URLs are signed on every read.
    storage_key = models.CharField(max_length=512)
    content_type = models.CharField(max_length=50)
    size_bytes = models.PositiveIntegerField()
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    # Where the face is in the image: {top, left, width, height} in pixels.
    bounding_box = models.JSONField(default=dict)
    # recognition.quality.quality() of the face: score, metrics, feedback.
    quality = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.profile_id}/{self.pk}"


class FaceEmbedding(models.Model):
    """The embedding of an enrolled image's face under one model (biometric data: deleted with its image)."""

    image = models.ForeignKey(FaceImage, on_delete=models.CASCADE, related_name="embeddings")
    # Denormalised from the image, so a search joins one table less.
    profile = models.ForeignKey(FaceProfile, on_delete=models.CASCADE, related_name="embeddings")
    model = models.CharField(max_length=50)
    dimension = models.PositiveSmallIntegerField()
    embedding = VectorField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["image", "model"], name="face_embedding_one_per_image_model"),
        ]
        indexes = [
            HnswIndex(
                OpClass(Cast("embedding", VectorField(dimensions=spec.dimension)), name="vector_cosine_ops"),
                name=embedding_index_name(spec.name),
                condition=models.Q(model=spec.name),
                m=HNSW_M,
                ef_construction=HNSW_EF_CONSTRUCTION,
            )
            for spec in FACE_MODELS.values()
        ]

    def __str__(self) -> str:
        return f"{self.model}[{self.dimension}] of {self.image_id}"
