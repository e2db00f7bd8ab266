"""Serializers of the unknown-face review queue (``/api/v1/unknown-faces``; 001 envelope, camelCase)."""

from __future__ import annotations

from rest_framework import serializers

from config.storage import signed_url
from recognition.api.serializers import EMPLOYEE_ID, FaceProfileWriteSerializer
from recognition.models import UnknownCluster, UnknownSighting


class UnknownCropSerializer(serializers.ModelSerializer):
    """One of a cluster's best crops: a signed, expiring URL, never a public path."""

    url = serializers.SerializerMethodField()
    camera_id = serializers.CharField(read_only=True)

    class Meta:
        model = UnknownSighting
        fields = ["id", "url", "quality", "seen_at", "camera_id", "detection_id", "crop_box"]
        read_only_fields = fields

    def get_url(self, sighting: UnknownSighting) -> str:
        return signed_url(sighting.storage_key)


class UnknownClusterSerializer(serializers.ModelSerializer):
    """A cluster as the queue lists it: figures and the URL of its best crop (crops prefetched as ``crops``)."""

    thumbnail_url = serializers.SerializerMethodField()
    person_id = serializers.SerializerMethodField()
    profile_id = serializers.UUIDField(read_only=True, allow_null=True)

    class Meta:
        model = UnknownCluster
        fields = [
            "id",
            "status",
            "count",
            "first_seen",
            "last_seen",
            "cameras",
            "thumbnail_url",
            "person_id",
            "profile_id",
            "model",
            "alerted_at",
        ]
        read_only_fields = fields

    def get_thumbnail_url(self, cluster: UnknownCluster) -> str | None:
        crops = getattr(cluster, "crops", None)
        return signed_url(crops[0].storage_key) if crops else None

    def get_person_id(self, cluster: UnknownCluster) -> str | None:
        return cluster.employee_id or None


class UnknownClusterDetailSerializer(UnknownClusterSerializer):
    crops = UnknownCropSerializer(many=True, read_only=True)

    class Meta(UnknownClusterSerializer.Meta):
        fields = [*UnknownClusterSerializer.Meta.fields, "crops"]
        read_only_fields = fields


class UnknownEnrolSerializer(FaceProfileWriteSerializer):
    """``POST /unknown-faces/{id}/enrol``: the new person (``personId`` or ``employeeId``, ``name``, ...)."""

    employee_id = serializers.CharField(max_length=50, required=False)
    person_id = serializers.CharField(max_length=50, required=False)

    def validate(self, data):
        employee_id = data.pop("person_id", None) or data.get("employee_id")
        if not employee_id:
            raise serializers.ValidationError({"person_id": ["This field is required."]})
        if not EMPLOYEE_ID.match(employee_id):
            raise serializers.ValidationError(
                {"person_id": ["Letters, digits, '-', '_', '.' or '/', at most 50 characters"]}
            )
        data["employee_id"] = employee_id
        return data


class UnknownAssignSerializer(serializers.Serializer):
    """``POST /unknown-faces/{id}/assign``: the existing person, by ``profileId`` or ``personId``."""

    profile_id = serializers.UUIDField(required=False)
    person_id = serializers.CharField(max_length=50, required=False)

    def validate(self, data):
        if bool(data.get("profile_id")) == bool(data.get("person_id")):
            raise serializers.ValidationError({"profile_id": ["Send profileId or personId (one of them)"]})
        return data


class UnknownMergeSerializer(serializers.Serializer):
    """``POST /unknown-faces/{id}/merge``: the cluster that takes this one's sightings."""

    into = serializers.UUIDField()
