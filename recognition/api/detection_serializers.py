"""Serializers of 001 section 3 (detections and the detection provider) and the person history."""

from __future__ import annotations

from urllib.parse import urlsplit

from rest_framework import serializers

from config import outbound
from config.api.fields import SignedUrlField
from config.crypto import MASK
from config.resilience import CircuitBreaker
from recognition.choices import ProviderKind
from recognition.models import DetectionEventLog, DetectionProviderConfig
from recognition.providers import BREAKER_NAME


class LiveQuerySerializer(serializers.Serializer):
    camera_id = serializers.CharField(required=False, allow_blank=True, max_length=50)
    limit = serializers.IntegerField(required=False, min_value=1, max_value=200, default=50)


class SendFrameSerializer(serializers.Serializer):
    camera_id = serializers.CharField(max_length=50)


class SendFrameResponseSerializer(serializers.Serializer):
    job_id = serializers.UUIDField()
    status = serializers.CharField()


class DetectionSerializer(serializers.Serializer):
    """001's detection (built by recognition.detections.detection_payload)."""

    id = serializers.UUIDField()
    person_id = serializers.CharField(allow_null=True)
    name = serializers.CharField(allow_null=True)
    camera_id = serializers.CharField()
    confidence = serializers.FloatField()
    timestamp = serializers.DateTimeField()
    track_id = serializers.CharField(allow_null=True)
    bounding_box = serializers.DictField()
    thumbnail = SignedUrlField(allow_null=True)
    status = serializers.CharField()


class PersonDetectionSerializer(DetectionSerializer):
    """A detection in a person's history: where it was seen, by name too."""

    camera_name = serializers.CharField()


class DetectionEventSerializer(serializers.ModelSerializer):
    camera_id = serializers.CharField(read_only=True)

    class Meta:
        model = DetectionEventLog
        fields = [
            "id",
            "camera_id",
            "camera_name",
            "timestamp",
            "status",
            "latency_ms",
            "payload",
            "error_message",
            "trigger",
        ]
        read_only_fields = fields


class ProviderConfigSerializer(serializers.ModelSerializer):
    """GET and PUT ``/detections/provider/config``. The key is write-only in effect: it reads back as ``***``,
    and a PUT that sends ``***`` (or leaves it out) keeps the stored one."""

    # Reads back null when no key is stored; a client that sends that null back means "no key".
    api_key = serializers.CharField(
        required=False, allow_blank=True, allow_null=True, max_length=512, trim_whitespace=False
    )
    provider_name = serializers.CharField(required=False, max_length=255)
    kind = serializers.ChoiceField(choices=ProviderKind.choices, required=False)
    endpoint = serializers.CharField(required=False, allow_blank=True)
    timeout_seconds = serializers.FloatField(required=False, min_value=0.5, max_value=60)

    class Meta:
        model = DetectionProviderConfig
        fields = [
            "provider_name",
            "kind",
            "endpoint",
            "api_key",
            "enabled",
            "timeout_seconds",
            "status",
            "last_heartbeat",
            "average_latency_ms",
            "last_error",
            "version",
        ]
        read_only_fields = ["status", "last_heartbeat", "average_latency_ms", "last_error", "version"]

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["api_key"] = MASK if instance.api_key else None
        return data

    def validate_api_key(self, value: str | None) -> str:
        return "" if value is None else value

    def validate_endpoint(self, value: str) -> str:
        value = value.strip()
        if value:
            parts = urlsplit(value)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise serializers.ValidationError("An http:// or https:// URL with a host")
            try:
                outbound.check_target(value, "The endpoint")
            except outbound.BlockedTarget as exc:
                raise serializers.ValidationError(str(exc)) from None
        return value

    def validate(self, attrs):
        kind = attrs.get("kind", self.instance.kind if self.instance else ProviderKind.BUILTIN)
        endpoint = attrs.get("endpoint", self.instance.endpoint if self.instance else "")
        if kind == ProviderKind.HTTP and not endpoint:
            raise serializers.ValidationError({"endpoint": "An HTTP provider needs its endpoint"})
        if attrs.get("api_key") == MASK:
            attrs.pop("api_key")  # the masked value the client was shown: keep the stored key
        stored = self.instance.api_key if self.instance else ""
        if (
            stored
            and endpoint
            and "api_key" not in attrs
            and not outbound.same_destination(self.instance.endpoint, endpoint)
        ):
            # Every camera frame would go to the new endpoint with the stored key: it must be typed again.
            raise serializers.ValidationError(
                {
                    "api_key": "The endpoint's address changed: enter the API key again (*** keeps it only for the "
                    "same scheme, host and port)"
                }
            )
        return attrs

    def update(self, instance, validated_data):
        provider_changed = any(
            name in validated_data and validated_data[name] != getattr(instance, name)
            for name in ("kind", "endpoint", "api_key")
        )
        for name, value in validated_data.items():
            setattr(instance, name, value)
        instance.version += 1
        if provider_changed:
            # Another provider: its health is unknown until the next check, and the old one's failures do
            # not keep its circuit open.
            instance.status = "offline"
            instance.last_heartbeat = None
            CircuitBreaker(BREAKER_NAME).reset()
        instance.save()
        return instance


class ProviderTestSerializer(serializers.Serializer):
    status = serializers.CharField()
    latency_ms = serializers.IntegerField()
    message = serializers.CharField()


class MatchRejectionSerializer(serializers.Serializer):
    """``POST /detections/{id}/reject``'s answer: the rejected pair and the decision that made the mistake."""

    id = serializers.UUIDField()
    detection_id = serializers.UUIDField(allow_null=True)
    person_id = serializers.CharField(source="profile.employee_id")
    name = serializers.CharField(source="profile.name")
    similarity = serializers.FloatField(allow_null=True)
    distance = serializers.FloatField(allow_null=True)
    margin = serializers.FloatField(allow_null=True, help_text="Top-1/top-2 distance gap of the decision")
    threshold = serializers.FloatField(allow_null=True)
    model = serializers.CharField()
    rejected_by = serializers.CharField(source="rejected_by_label")
    created_at = serializers.DateTimeField()
