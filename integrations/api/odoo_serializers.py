"""001 ``/odoo/*`` bodies (snake_case here; the 001 renderer and parser camel-case them)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from config.crypto import MASK
from integrations.models import OdooConfig, OdooConnectionStatus, OdooEmployeeMatch, OdooSyncLog

MAX_RECORD_IDS = 10_000


class OdooConfigSerializer(serializers.ModelSerializer):
    """001's config shape (``apiKey`` always ``***`` when set), plus the fields Argus adds."""

    api_key = serializers.SerializerMethodField()
    pending_count = serializers.SerializerMethodField()
    failure_count = serializers.SerializerMethodField()

    class Meta:
        model = OdooConfig
        fields = [
            "base_url",
            "database",
            "company",
            "api_key",
            "auto_sync",
            "status",
            "last_sync",
            "pending_count",
            "failure_count",
            "username",
            "employee_match_field",
            "failure_alert_threshold",
            "server_version",
            "last_error",
            "version",
            "updated_at",
        ]
        read_only_fields = fields

    def get_api_key(self, config: OdooConfig) -> str | None:
        return MASK if config.api_key else None

    def _counts(self) -> dict[str, int] | None:
        return self.context.get("counts")

    def get_pending_count(self, config: OdooConfig) -> int:
        counts = self._counts()
        return counts["pending"] if counts else config.pending_count

    def get_failure_count(self, config: OdooConfig) -> int:
        counts = self._counts()
        return counts["failed"] if counts else config.failure_count


class OdooConfigWriteSerializer(serializers.Serializer):
    """``PUT /odoo/config``: any subset of the fields. ``apiKey`` ``***`` keeps the stored key; empty clears it."""

    base_url = serializers.URLField(max_length=2000, allow_blank=True, required=False)
    database = serializers.CharField(max_length=255, allow_blank=True, required=False)
    company = serializers.CharField(max_length=255, allow_blank=True, required=False)
    username = serializers.CharField(max_length=255, allow_blank=True, required=False)
    api_key = serializers.CharField(max_length=512, allow_blank=True, allow_null=True, required=False)
    auto_sync = serializers.BooleanField(required=False)
    employee_match_field = serializers.ChoiceField(choices=OdooEmployeeMatch.choices, required=False)
    failure_alert_threshold = serializers.IntegerField(min_value=0, max_value=1_000_000, required=False)
    version = serializers.IntegerField(min_value=1, required=False, help_text="Optimistic concurrency")

    def validate_base_url(self, value: str) -> str:
        if value and not value.lower().startswith(("http://", "https://")):
            raise serializers.ValidationError("must be an http(s) URL")
        return value.rstrip("/")


class OdooTestSerializer(serializers.Serializer):
    """``POST /odoo/test``: empty tests the stored configuration; fields test unsaved values."""

    base_url = serializers.URLField(max_length=2000, required=False)
    database = serializers.CharField(max_length=255, required=False)
    company = serializers.CharField(max_length=255, allow_blank=True, required=False)
    username = serializers.CharField(max_length=255, required=False)
    api_key = serializers.CharField(max_length=512, required=False)
    employee_match_field = serializers.ChoiceField(choices=OdooEmployeeMatch.choices, required=False)

    def validate_base_url(self, value: str) -> str:
        if not value.lower().startswith(("http://", "https://")):
            raise serializers.ValidationError("must be an http(s) URL")
        return value.rstrip("/")


class OdooTestResultSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=[OdooConnectionStatus.CONNECTED, OdooConnectionStatus.ERROR])
    message = serializers.CharField()
    server_version = serializers.CharField(allow_null=True)
    uid = serializers.IntegerField(allow_null=True)
    employee_count = serializers.IntegerField(required=False)
    latency_ms = serializers.IntegerField()


class OdooSyncRequestSerializer(serializers.Serializer):
    """``POST /odoo/sync``: nothing (the pending logs), ``recordIds`` (exactly those), or ``retryFailed``."""

    record_ids = serializers.ListField(
        child=serializers.CharField(max_length=50), allow_empty=False, max_length=MAX_RECORD_IDS, required=False
    )
    retry_failed = serializers.BooleanField(default=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("record_ids") and attrs.get("retry_failed"):
            raise serializers.ValidationError({"retry_failed": ["cannot be combined with recordIds"]})
        return attrs


class OdooSyncJobSerializer(serializers.Serializer):
    job_id = serializers.CharField()
    status = serializers.CharField()


class OdooSyncLogSerializer(serializers.ModelSerializer):
    class Meta:
        model = OdooSyncLog
        fields = [
            "id",
            "timestamp",
            "employee_id",
            "result",
            "message",
            "action",
            "attendance_log_id",
            "odoo_attendance_id",
            "run_id",
        ]
        read_only_fields = fields


class OdooStatusSerializer(serializers.Serializer):
    configured = serializers.BooleanField()
    status = serializers.CharField()
    auto_sync = serializers.BooleanField()
    last_sync = serializers.DateTimeField(allow_null=True)
    last_error = serializers.CharField()
    server_version = serializers.CharField()
    pending_count = serializers.IntegerField()
    failure_count = serializers.IntegerField()
    synced_count = serializers.IntegerField()
    circuit = serializers.CharField()
    last_run_id = serializers.CharField(allow_null=True)
    last_attempt_at = serializers.DateTimeField(allow_null=True)
