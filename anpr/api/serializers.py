"""003 shapes of the ANPR API. Events are written by :mod:`anpr.ingest` (the serializers here document them)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from anpr.choices import ListType, ModelType
from anpr.models import PLATE_MAX, DetectionModel, WatchlistEntry
from anpr.payloads import event_payload, model_payload, watchlist_payload
from config.api.fields import SignedUrlField

# --- Events (documentation of the ingest body and of the representation) -----------------------------


class CandidateSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=PLATE_MAX)
    confidence = serializers.FloatField(min_value=0, max_value=1)
    model = serializers.CharField(required=False, max_length=100)


class IngestEventSerializer(serializers.Serializer):
    """The event an edge worker sends (JSON body, or the ``event`` part of a multipart body)."""

    event_id = serializers.CharField(max_length=128)
    timestamp = serializers.DateTimeField(required=False, help_text="ISO 8601 with a zone; default: when received")
    camera_id = serializers.CharField(max_length=100)
    zone_id = serializers.CharField(max_length=100, required=False, allow_null=True)
    plate_text = serializers.CharField(max_length=PLATE_MAX)
    confidence = serializers.FloatField(min_value=0, max_value=1)
    raw_candidates = CandidateSerializer(many=True, required=False)
    vehicle_info = serializers.DictField(required=False, allow_null=True)
    tpms_status = serializers.DictField(required=False, allow_null=True)
    metadata = serializers.DictField(required=False, allow_null=True)


class IngestMultipartSerializer(serializers.Serializer):
    event = serializers.CharField(help_text="The event as JSON (same fields as the JSON body)")
    frame = serializers.FileField(required=False, help_text="Full frame, JPEG or PNG (stored as JPEG)")
    crop = serializers.FileField(required=False, help_text="Plate crop, JPEG or PNG (stored as JPEG)")


class AcceptedSerializer(serializers.Serializer):
    id = serializers.CharField()
    status = serializers.CharField()
    timestamp = serializers.DateTimeField()
    message = serializers.CharField()


class EventSerializer(serializers.Serializer):
    id = serializers.CharField()
    event_id = serializers.CharField()
    timestamp = serializers.DateTimeField()
    camera_id = serializers.CharField()
    zone_id = serializers.CharField(allow_null=True)
    plate_text = serializers.CharField()
    confidence = serializers.FloatField()
    raw_candidates = CandidateSerializer(many=True)
    frame_url = SignedUrlField(allow_null=True, help_text="Signed, expiring")
    crop_url = SignedUrlField(allow_null=True, help_text="Signed, expiring")
    vehicle_info = serializers.DictField(allow_null=True)
    tpms_status = serializers.DictField(allow_null=True)
    metadata = serializers.DictField()
    created_at = serializers.DateTimeField()

    def to_representation(self, instance) -> dict[str, Any]:
        return event_payload(instance)


class FigureSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    avg_confidence = serializers.FloatField(allow_null=True)


class RateSerializer(serializers.Serializer):
    per_second = serializers.FloatField()
    per_minute = serializers.FloatField()
    per_hour = serializers.FloatField()


class BucketSerializer(FigureSerializer):
    timestamp = serializers.DateTimeField()


class StatsSerializer(serializers.Serializer):
    total_events = serializers.IntegerField()
    avg_confidence = serializers.FloatField(allow_null=True)
    min_confidence = serializers.FloatField(allow_null=True)
    max_confidence = serializers.FloatField(allow_null=True)
    unique_plates = serializers.IntegerField()
    event_rate = RateSerializer()
    by_camera = serializers.DictField(child=FigureSerializer())
    by_zone = serializers.DictField(child=FigureSerializer())
    timeline = BucketSerializer(many=True)


# --- Models (/config/models) ------------------------------------------------------------------------


def _object(value: Any, name: str) -> dict:
    if not isinstance(value, dict):
        raise serializers.ValidationError(f"{name} must be an object")
    return value


class DetectionModelSerializer(serializers.ModelSerializer):
    id = serializers.RegexField(
        r"^[A-Za-z0-9][A-Za-z0-9._\-]*$", max_length=50, required=False, help_text="Default: the next model-NNN"
    )
    type = serializers.ChoiceField(choices=ModelType.choices)
    parameters = serializers.JSONField(required=False)
    metadata = serializers.JSONField(required=False)

    class Meta:
        model = DetectionModel
        fields = ["id", "name", "type", "version", "weights_path", "parameters", "metadata", "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]

    def validate_parameters(self, value):
        return _object(value, "parameters")

    def validate_metadata(self, value):
        return _object(value, "metadata")

    def to_representation(self, instance) -> dict[str, Any]:
        return model_payload(instance)


# --- Watchlists (/config/watchlists, beyond 003) -----------------------------------------------------


class WatchlistEntrySerializer(serializers.ModelSerializer):
    list_type = serializers.ChoiceField(choices=ListType.choices)
    created_by = serializers.CharField(read_only=True, allow_null=True, help_text="Email of who listed it")

    class Meta:
        model = WatchlistEntry
        fields = [
            "id",
            "plate_text",
            "plate_normalized",
            "list_type",
            "reason",
            "active",
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "plate_normalized", "created_at", "updated_at"]

    def to_representation(self, instance) -> dict[str, Any]:
        return watchlist_payload(instance)
