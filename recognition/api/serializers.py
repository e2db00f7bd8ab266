"""Serializers of the face API (001 contract: the renderer turns snake_case keys into camelCase)."""

from __future__ import annotations

import re

from rest_framework import serializers

from config.storage import signed_url
from recognition.choices import FaceStatus, ProfileStatus
from recognition.models import FaceImage, FaceProfile

EMPLOYEE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-/]{0,49}$")


def _validate_employee_id(value: str) -> str:
    if not EMPLOYEE_ID.match(value):
        raise serializers.ValidationError("Letters, digits, '-', '_', '.' or '/', at most 50 characters")
    return value


class FaceImageSerializer(serializers.ModelSerializer):
    profile_id = serializers.UUIDField(read_only=True)
    url = serializers.SerializerMethodField()

    class Meta:
        model = FaceImage
        fields = [
            "id",
            "profile_id",
            "url",
            "content_type",
            "size_bytes",
            "width",
            "height",
            "bounding_box",
            "quality",
            "created_at",
        ]
        read_only_fields = fields

    def get_url(self, image: FaceImage) -> str:
        """A signed, expiring URL (never a public path)."""
        return signed_url(image.storage_key)


class FaceProfileSerializer(serializers.ModelSerializer):
    """A profile as lists show it: its image count and the signed URL of its first image."""

    image_count = serializers.SerializerMethodField()
    thumbnail_url = serializers.SerializerMethodField()

    class Meta:
        model = FaceProfile
        fields = [
            "id",
            "employee_id",
            "name",
            "department",
            "status",
            "notes",
            "image_count",
            "thumbnail_url",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def _images(self, profile: FaceProfile) -> list[FaceImage]:
        # Prefetched by the views: no query per profile.
        return list(profile.images.all())

    def get_image_count(self, profile: FaceProfile) -> int:
        return len(self._images(profile))

    def get_thumbnail_url(self, profile: FaceProfile) -> str | None:
        images = self._images(profile)
        return signed_url(images[0].storage_key) if images else None


class FaceProfileDetailSerializer(FaceProfileSerializer):
    images = FaceImageSerializer(many=True, read_only=True)

    class Meta(FaceProfileSerializer.Meta):
        fields = [*FaceProfileSerializer.Meta.fields, "images"]
        read_only_fields = fields


class FaceProfileWriteSerializer(serializers.Serializer):
    """POST /faces form fields (multipart) or JSON; PUT /faces/{id} takes any subset."""

    employee_id = serializers.CharField(max_length=50, validators=[_validate_employee_id])
    name = serializers.CharField(max_length=255)
    department = serializers.CharField(max_length=255, required=False, allow_blank=True)
    status = serializers.ChoiceField(choices=ProfileStatus.choices, required=False)
    notes = serializers.CharField(required=False, allow_blank=True, max_length=5000)


class FaceProfileCreateSchemaSerializer(FaceProfileWriteSerializer):
    """The multipart body of POST /faces, for the OpenAPI document."""

    images = serializers.ListField(child=serializers.ImageField(), required=False, max_length=5)


class FaceImagesUploadSerializer(serializers.Serializer):
    images = serializers.ListField(child=serializers.ImageField(), max_length=5)


class IdentifyOptionsSerializer(serializers.Serializer):
    limit = serializers.IntegerField(required=False, min_value=1, max_value=10, default=3)


class IdentifyRequestSerializer(IdentifyOptionsSerializer):
    """The multipart body of POST /faces/identify, for the OpenAPI document."""

    image = serializers.ImageField()


class VerifyRequestSerializer(serializers.Serializer):
    image1 = serializers.ImageField()
    image2 = serializers.ImageField(required=False)
    employee_id = serializers.CharField(required=False, max_length=50)


class BoundingBoxSerializer(serializers.Serializer):
    top = serializers.IntegerField()
    left = serializers.IntegerField()
    width = serializers.IntegerField()
    height = serializers.IntegerField()


class MatchSerializer(serializers.Serializer):
    employee_id = serializers.CharField()
    name = serializers.CharField()
    similarity = serializers.FloatField()


class IdentifiedFaceSerializer(serializers.Serializer):
    bounding_box = BoundingBoxSerializer()
    quality = serializers.JSONField()
    status = serializers.ChoiceField(choices=FaceStatus.choices)
    matches = MatchSerializer(many=True)


class IdentifyResponseSerializer(serializers.Serializer):
    faces = IdentifiedFaceSerializer(many=True)
    model = serializers.CharField()
    threshold = serializers.FloatField()


class VerifyResponseSerializer(serializers.Serializer):
    verified = serializers.BooleanField()
    similarity = serializers.FloatField()
    distance = serializers.FloatField()
    threshold = serializers.FloatField()
    model = serializers.CharField()
