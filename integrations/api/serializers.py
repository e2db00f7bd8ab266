"""003 exporter shapes. Secrets are never in an answer: the stored ``headers``/``auth``/``config`` are masked."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from config.resilience import BackoffStrategy
from integrations.models import OPEN_STATUSES, AuthType, DeliveryAttempt, Exporter, ExporterType, OutboxMessage


# A pattern, not an enum: drf-spectacular would make the enum a component shared by three schemas and
# name it by a hash (with a warning that fails ``check --deploy``) without an ENUM_NAME_OVERRIDES entry.
@extend_schema_field({"type": "string", "pattern": "^(rest|mqtt)$", "description": "rest or mqtt"})
class ExporterTypeField(serializers.ChoiceField):
    """The exporter type: ``rest`` or ``mqtt``."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=ExporterType.values, **kwargs)


class RetryConfigSerializer(serializers.Serializer):
    enabled = serializers.BooleanField(required=False, default=True)
    max_attempts = serializers.IntegerField(required=False, min_value=1, max_value=100, default=4)
    backoff_strategy = serializers.ChoiceField(choices=[s.value for s in BackoffStrategy], required=False)
    initial_delay_ms = serializers.IntegerField(required=False, min_value=1, default=1000)
    max_delay_ms = serializers.IntegerField(required=False, min_value=1, default=60000)


class AuthSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=AuthType.values)
    token = serializers.CharField(required=False, help_text="bearer: the token (*** in answers)")
    username = serializers.CharField(required=False, help_text="basic")
    password = serializers.CharField(required=False, help_text="basic (*** in answers)")
    key = serializers.CharField(required=False, help_text="api_key: the key (*** in answers)")
    header_name = serializers.CharField(required=False, help_text="api_key: header to send it in (X-API-Key)")


class MqttConfigSerializer(serializers.Serializer):
    topic = serializers.CharField(help_text="No wildcards")
    qos = serializers.IntegerField(required=False, min_value=0, max_value=2, default=1)
    username = serializers.CharField(required=False)
    password = serializers.CharField(required=False, help_text="*** in answers")
    client_id = serializers.CharField(required=False)
    retain = serializers.BooleanField(required=False)
    keepalive = serializers.IntegerField(required=False, min_value=5, max_value=3600)


class ExporterWriteSerializer(serializers.Serializer):
    """The body of create and update (update takes any subset). Writing ``***`` keeps a stored secret."""

    name = serializers.CharField(max_length=255)
    type = ExporterTypeField()
    url = serializers.CharField(max_length=2000, help_text="http(s)://... (rest) or mqtt(s)://host:port (mqtt)")
    enabled = serializers.BooleanField(required=False, default=True)
    headers = serializers.DictField(child=serializers.CharField(), required=False, help_text="rest only")
    auth = AuthSerializer(required=False, allow_null=True, help_text="rest only")
    config = MqttConfigSerializer(required=False, help_text="mqtt only")
    retry_config = RetryConfigSerializer(required=False)
    metadata = serializers.DictField(required=False)


class ExporterSerializer(serializers.Serializer):
    """An exporter as 003 shows it: ``headers`` and ``auth`` for rest, ``config`` for mqtt, secrets as ***."""

    id = serializers.CharField()
    name = serializers.CharField()
    type = ExporterTypeField()
    url = serializers.CharField()
    enabled = serializers.BooleanField()
    headers = serializers.DictField(child=serializers.CharField(), required=False)
    auth = AuthSerializer(required=False, allow_null=True)
    config = MqttConfigSerializer(required=False)
    retry_config = RetryConfigSerializer()
    metadata = serializers.DictField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    def to_representation(self, exporter: Exporter) -> dict[str, Any]:
        stamp = serializers.DateTimeField().to_representation
        body: dict[str, Any] = {
            "id": exporter.pk,
            "name": exporter.name,
            "type": exporter.type,
            "url": exporter.url,
            "enabled": exporter.enabled,
        }
        # The columns hold the masked form already (see integrations.masking): shown as stored.
        if exporter.type == ExporterType.MQTT:
            body["config"] = dict(exporter.config or {})
        else:
            body["headers"] = dict(exporter.headers or {})
            body["auth"] = dict(exporter.auth) if exporter.auth else None
        body.update(
            retry_config=dict(exporter.retry_config or {}),
            metadata=dict(exporter.metadata or {}),
            created_at=stamp(exporter.created_at),
            updated_at=stamp(exporter.updated_at),
        )
        return body


class DeliveryAttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = DeliveryAttempt
        fields = ["number", "at", "ok", "http_status", "error", "duration_ms"]
        read_only_fields = fields


class DeliverySerializer(serializers.ModelSerializer):
    """One event owed to the exporter, with its attempts (beyond 003: the delivery log)."""

    event_id = serializers.CharField(source="key")
    next_attempt_at = serializers.SerializerMethodField()
    history = DeliveryAttemptSerializer(source="attempt_log", many=True)

    class Meta:
        model = OutboxMessage
        fields = [
            "id",
            "kind",
            "event_id",
            "status",
            "attempts",
            "next_attempt_at",
            "last_attempt_at",
            "last_error",
            "delivered_at",
            "created_at",
            "history",
        ]
        read_only_fields = fields

    def get_next_attempt_at(self, message: OutboxMessage) -> str | None:
        if message.status not in OPEN_STATUSES:
            return None
        return serializers.DateTimeField().to_representation(message.next_attempt_at)
