"""Exporters (003 ``/config/exporters``), their transactional outbox and the delivery log; the Odoo sync's
configuration (singleton) and its log."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

from django.db import models
from django.utils import timezone

from config.crypto import EncryptedTextField
from integrations import masking


class ExporterType(models.TextChoices):
    REST = "rest", "REST (HTTP POST)"
    MQTT = "mqtt", "MQTT publish"


class AuthType(models.TextChoices):
    BEARER = "bearer", "Bearer token"
    BASIC = "basic", "Basic (username and password)"
    API_KEY = "api_key", "API key header"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"  # not tried yet (or sent back for a new round)
    FAILED = "failed", "Failed, retry scheduled"
    DELIVERED = "delivered", "Delivered"
    DEAD = "dead", "Dead (attempts exhausted)"


OPEN_STATUSES = (DeliveryStatus.PENDING, DeliveryStatus.FAILED)


class Exporter(models.Model):
    """Where accepted events go: a REST endpoint (POST) or an MQTT topic.

    ``headers``, ``auth`` and ``config`` hold the masked form (``"***"`` for each secret); the secrets
    themselves are in the encrypted ``secrets`` column. Use :meth:`plain` to read the real values.
    """

    id = models.CharField(primary_key=True, max_length=50, help_text="e.g. exporter-001")
    name = models.CharField(max_length=255)
    type = models.CharField(max_length=10, choices=ExporterType.choices)
    url = models.CharField(max_length=2000, help_text="http(s)://... for REST, mqtt(s)://host:port for MQTT")
    enabled = models.BooleanField(default=True, db_index=True)
    headers = models.JSONField(default=dict, blank=True, help_text="Extra request headers (secrets shown as ***)")
    auth = models.JSONField(default=dict, blank=True, help_text="REST auth: bearer, basic or api_key (masked)")
    config = models.JSONField(default=dict, blank=True, help_text="MQTT: topic, qos, username, password (masked)")
    secrets = EncryptedTextField(blank=True, default="", editable=False, help_text="Encrypted JSON of the secrets")
    retry_config = models.JSONField(default=dict, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    delivered_count = models.PositiveIntegerField(default=0, help_text="Events delivered")
    failed_count = models.PositiveIntegerField(default=0, help_text="Failed delivery attempts")
    last_delivery_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    failing_since = models.DateTimeField(
        null=True, blank=True, help_text="Set when a delivery gave up; cleared by the next successful one"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.pk} ({self.name})"

    # --- secrets ---------------------------------------------------------------------------------

    def _hidden(self) -> dict[str, dict[str, str]]:
        return json.loads(self.secrets) if self.secrets else {}

    def plain(self, section: str) -> dict[str, Any]:
        """The real values of ``headers``, ``auth`` or ``config``, secrets included. Never send these out."""
        return masking.join(getattr(self, section) or {}, self._hidden().get(section, {}))

    def set_plain(self, section: str, values: dict[str, Any]) -> None:
        """Store ``values`` for ``section``: the masked form in its column, the secrets encrypted."""
        masked, hidden = masking.split(section, values)
        setattr(self, section, masked)
        bag = self._hidden()
        if hidden:
            bag[section] = hidden
        else:
            bag.pop(section, None)
        self.secrets = json.dumps(bag, sort_keys=True) if bag else ""

    def secret_values(self) -> list[str]:
        """Every secret value, and the forms it travels in, for scrubbing error texts and logs."""
        values = [value for section in self._hidden().values() for value in section.values()]
        auth = self.plain("auth")
        if auth.get("type") == AuthType.BASIC:
            values.append(base64.b64encode(f"{auth.get('username', '')}:{auth.get('password', '')}".encode()).decode())
        return values


class OutboxMessage(models.Model):
    """One event owed to one exporter. Written in the same transaction as the event it carries."""

    id = models.BigAutoField(primary_key=True)
    exporter = models.ForeignKey(Exporter, on_delete=models.CASCADE, related_name="messages")
    kind = models.CharField(max_length=50, default="anpr.event", help_text="e.g. anpr.event")
    key = models.CharField(max_length=255, help_text="The event id: one message per exporter and event")
    payload = models.JSONField()
    status = models.CharField(
        max_length=20, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING, db_index=True
    )
    attempts = models.PositiveIntegerField(default=0, help_text="Delivery attempts made, all rounds together")
    round_offset = models.PositiveIntegerField(
        default=0, help_text="Attempts made before the current round (a redrive or 'retry now' starts a new one)"
    )
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # A retried ingest of the same event never owes a peer a second delivery.
            models.UniqueConstraint(fields=["exporter", "kind", "key"], name="integrations_outbox_once_per_exporter"),
        ]
        indexes = [
            # What the retry sweep reads: open messages by due time.
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(status__in=["pending", "failed"]),
                name="integrations_outbox_due",
            ),
            models.Index(fields=["exporter", "status"], name="integrations_outbox_exp_status"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.key} -> {self.exporter_id} ({self.status})"

    @property
    def round_attempts(self) -> int:
        """Attempts made in the current round, which the exporter's ``max_attempts`` bounds."""
        return self.attempts - self.round_offset


class DeliveryAttempt(models.Model):
    """One try at delivering a message: the delivery log."""

    id = models.BigAutoField(primary_key=True)
    message = models.ForeignKey(OutboxMessage, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveIntegerField(help_text="1 for the first attempt of this message")
    at = models.DateTimeField(default=timezone.now, db_index=True)
    ok = models.BooleanField()
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["message_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["message", "number"], name="integrations_attempt_number_once"),
        ]

    def __str__(self) -> str:
        return f"attempt {self.number} of message {self.message_id}: {'ok' if self.ok else self.error}"


# --- Odoo HR attendance sync (001 odoo_config, odoo_sync_logs) ---------------------------------------


class OdooConnectionStatus(models.TextChoices):
    CONNECTED = "connected", "Connected"
    DISCONNECTED = "disconnected", "Disconnected"
    ERROR = "error", "Error"


class OdooEmployeeMatch(models.TextChoices):
    """The hr.employee field that holds our ``employee_id`` (one field, no fallback: a second field could
    match a different person)."""

    BARCODE = "barcode", "Badge ID (barcode)"
    IDENTIFICATION_ID = "identification_id", "Identification No (identification_id)"
    PIN = "pin", "PIN (pin)"
    WORK_EMAIL = "work_email", "Work email (work_email)"


class OdooSyncResult(models.TextChoices):
    SUCCESS = "success", "Success"
    FAILURE = "failure", "Failure"


class OdooSyncAction(models.TextChoices):
    CREATE = "create", "Created hr.attendance"
    WRITE = "write", "Updated hr.attendance"
    ADOPT = "adopt", "Adopted an existing hr.attendance"
    MATCH = "match", "Matched the employee"
    AUTHENTICATE = "authenticate", "Authenticated"


class OdooConfig(models.Model):
    """The Odoo connection, a singleton (id 1). Beyond 001's columns: ``username`` (an Odoo API key
    authenticates a user login), ``employee_match_field``, ``failure_alert_threshold``, ``last_error``
    and ``server_version``. ``pending_count`` and ``failure_count`` are recomputed from the attendance logs
    after every batch, never incremented, so they cannot drift."""

    SINGLETON_ID = 1

    id = models.PositiveSmallIntegerField(primary_key=True, default=SINGLETON_ID, editable=False)
    base_url = models.TextField(blank=True, default="", help_text="e.g. https://odoo.example.com")
    database = models.CharField(max_length=255, blank=True, default="")
    company = models.CharField(
        max_length=255, blank=True, default="", help_text="Only employees of this company (res.company name)"
    )
    username = models.CharField(max_length=255, blank=True, default="", help_text="The Odoo login the API key is of")
    api_key = EncryptedTextField(blank=True, default="", help_text="Stored encrypted; shown as ***")
    employee_match_field = models.CharField(
        max_length=32, choices=OdooEmployeeMatch.choices, default=OdooEmployeeMatch.BARCODE
    )
    auto_sync = models.BooleanField(default=False, help_text="Sync pending logs every 30 minutes")
    failure_alert_threshold = models.PositiveIntegerField(
        default=10, help_text="Raise an alert when more attendance logs than this have failed to sync"
    )
    status = models.CharField(
        max_length=20, choices=OdooConnectionStatus.choices, default=OdooConnectionStatus.DISCONNECTED
    )
    last_sync = models.DateTimeField(null=True, blank=True, help_text="End of the last sync run that reached Odoo")
    last_error = models.TextField(blank=True, default="")
    server_version = models.CharField(max_length=50, blank=True, default="")
    pending_count = models.PositiveIntegerField(default=0)
    failure_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = "Odoo configuration"
        verbose_name_plural = "Odoo configuration"
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="integrations_odoo_config_singleton")]

    def __str__(self) -> str:
        return f"Odoo {self.base_url or '(not configured)'} {self.database}".strip()

    @classmethod
    def load(cls) -> OdooConfig:
        """The configuration row, created empty on first use."""
        config, _ = cls.objects.get_or_create(pk=cls.SINGLETON_ID)
        return config

    @property
    def is_configured(self) -> bool:
        return bool(self.base_url and self.database and self.username and self.api_key)


class OdooSyncLog(models.Model):
    """One attempt to send one attendance log (or to authenticate) to Odoo: 001's odoo_sync_logs, plus which
    log, what was done, the hr.attendance id and the run it belongs to (the Celery task id)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    timestamp = models.DateTimeField(default=timezone.now)
    employee_id = models.CharField(max_length=50, blank=True, default="")
    result = models.CharField(max_length=20, choices=OdooSyncResult.choices)
    message = models.TextField(blank=True, default="")
    action = models.CharField(max_length=20, choices=OdooSyncAction.choices, blank=True, default="")
    attendance_log_id = models.CharField(max_length=50, blank=True, default="", db_index=True)
    odoo_attendance_id = models.PositiveIntegerField(null=True, blank=True)
    run_id = models.CharField(max_length=64, blank=True, default="", db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-timestamp", "-created_at"]
        indexes = [
            models.Index(fields=["-timestamp"], name="odoo_sync_logs_timestamp"),
            models.Index(fields=["result"], name="odoo_sync_logs_result"),
        ]

    def __str__(self) -> str:
        return f"{self.timestamp:%Y-%m-%d %H:%M:%S} {self.employee_id} {self.result}"
