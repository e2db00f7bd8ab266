"""Plate events from edge workers, the detector/OCR model registry (003 ``/config/models``) and watchlists."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.utils import timezone

from anpr.choices import ListType, ModelType
from anpr.plates import GRAM, normalize_plate, trigrams

EVENT_ID_MAX = 128
PLATE_MAX = 32
SOURCE_ID_MAX = 100  # camera and zone ids as edge workers name them


class PlateEvent(models.Model):
    """One plate read by an edge worker, as it sent it (003 ``POST /events/ingest``).

    ``camera_id`` and ``zone_id`` are the edge worker's strings, not foreign keys: an event from a
    camera that is not (or no longer) configured here must still land, and the event is a record of
    what was seen, which a later camera rename or delete must not rewrite. Both are indexed for the
    filters; the dashboard links them to a configured camera when one has that id.
    """

    event_id = models.CharField(primary_key=True, max_length=EVENT_ID_MAX)
    timestamp = models.DateTimeField(help_text="When the plate was seen (the edge worker's clock)")
    camera_id = models.CharField(max_length=SOURCE_ID_MAX)
    zone_id = models.CharField(max_length=SOURCE_ID_MAX, blank=True, default="")
    plate_text = models.CharField(max_length=PLATE_MAX, help_text="As read")
    plate_normalized = models.CharField(max_length=PLATE_MAX, help_text="Letters and digits, upper case")
    plate_trigrams = ArrayField(models.CharField(max_length=GRAM), default=list, blank=True)
    confidence = models.FloatField()
    raw_candidates = models.JSONField(default=list, blank=True)
    vehicle_info = models.JSONField(null=True, blank=True)
    tpms_status = models.JSONField(null=True, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    frame_key = models.CharField(max_length=255, blank=True, help_text="Storage key of the full frame")
    crop_key = models.CharField(max_length=255, blank=True, help_text="Storage key of the plate crop")
    watchlist_match = models.CharField(
        max_length=10, choices=ListType.choices, blank=True, help_text="The list the plate was on when it was seen"
    )
    watchlist_entry = models.ForeignKey(
        "WatchlistEntry", null=True, blank=True, on_delete=models.SET_NULL, related_name="events", db_index=False
    )
    created_at = models.DateTimeField(default=timezone.now, help_text="When the platform stored it")

    class Meta:
        ordering = ["-timestamp", "-event_id"]
        indexes = [
            # The default order of every list (and its reverse) and the date range filters.
            models.Index(fields=["-timestamp", "-event_id"], name="anpr_event_time"),
            models.Index(fields=["camera_id", "-timestamp"], name="anpr_event_camera_time"),
            models.Index(fields=["zone_id", "-timestamp"], name="anpr_event_zone_time"),
            # Exact plate lookups and the plate sort.
            models.Index(fields=["plate_normalized", "-timestamp"], name="anpr_event_plate"),
            # Partial plate match: every trigram of the query among the event's (see anpr.plates.trigrams).
            GinIndex(fields=["plate_trigrams"], name="anpr_event_plate_trgm"),
            # Only the few events of listed plates: unlisted ones (nearly all) cost this index nothing.
            models.Index(
                fields=["watchlist_entry"],
                name="anpr_event_watchlist",
                condition=models.Q(watchlist_entry__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_id} {self.plate_text}"

    def set_plate(self, text: str) -> None:
        self.plate_text = text
        self.plate_normalized = normalize_plate(text)
        self.plate_trigrams = trigrams(self.plate_normalized)

    @property
    def image_keys(self) -> list[str]:
        return [key for key in (self.frame_key, self.crop_key) if key]


class DetectionModel(models.Model):
    """A detector or OCR model the edge workers run (003 ``/config/models``)."""

    id = models.CharField(primary_key=True, max_length=50, help_text="e.g. model-001")
    name = models.CharField(max_length=200)
    type = models.CharField(max_length=20, choices=ModelType.choices, db_index=True)
    version = models.CharField(max_length=50, blank=True)
    weights_path = models.CharField(max_length=500, blank=True)
    parameters = models.JSONField(default=dict, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        verbose_name = "detection model"

    def __str__(self) -> str:
        return f"{self.id} {self.name} ({self.type} {self.version})".strip()


class WatchlistEntry(models.Model):
    """A plate on the allow or the deny list.

    A sighting of a deny-listed plate raises an alert (level high) with a notification; a sighting of
    an allow-listed plate is recorded on the event only. Matching is on the normalised plate.
    """

    plate_text = models.CharField(max_length=PLATE_MAX)
    plate_normalized = models.CharField(max_length=PLATE_MAX, editable=False)
    list_type = models.CharField(max_length=10, choices=ListType.choices)
    reason = models.TextField(blank=True)
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["plate_normalized", "list_type"]
        verbose_name = "watchlist entry"
        verbose_name_plural = "watchlist entries"
        constraints = [
            models.UniqueConstraint(fields=["plate_normalized", "list_type"], name="anpr_one_entry_per_plate_and_list")
        ]
        indexes = [models.Index(fields=["plate_normalized"], name="anpr_watch_plate", condition=models.Q(active=True))]

    def __str__(self) -> str:
        return f"{self.plate_text} ({self.list_type})"

    def save(self, *args, **kwargs):
        self.plate_normalized = normalize_plate(self.plate_text)
        if kwargs.get("update_fields") and "plate_text" in kwargs["update_fields"]:
            kwargs["update_fields"] = {*kwargs["update_fields"], "plate_normalized"}
        super().save(*args, **kwargs)
