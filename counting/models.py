"""Count data (000 ``CountData``) and its rollups.

``CountRecord`` holds every count a counter (an edge device through the API, or Argus's own video
counter) reports. ``CountHourly`` and ``CountDaily`` hold, per camera and UTC hour / UTC day, what the
analytics need (records, sum, min, max, sum of confidences); they are maintained in the same
transaction as the raw rows (``counting.ingest``), so analytics never scan the raw table and raw rows
can be pruned by retention without changing any figure.
"""

from __future__ import annotations

from django.contrib.postgres.indexes import BrinIndex
from django.db import models

from cameras.models import Camera


class CountSource(models.TextChoices):
    API = "api", "API"
    VIDEO = "video", "Video counter"


class CountRecord(models.Model):
    """One count at one moment from one camera (000 ``count_data``)."""

    camera = models.ForeignKey(
        Camera,
        on_delete=models.CASCADE,
        related_name="count_records",
        # The (camera, timestamp) index below serves every lookup by camera; a second one is dead weight.
        db_index=False,
    )
    timestamp = models.DateTimeField()
    count = models.IntegerField()
    confidence = models.FloatField()
    image_url = models.CharField(max_length=500, blank=True, default="")
    source = models.CharField(max_length=10, choices=CountSource.choices, default=CountSource.API)
    zone_id = models.CharField(max_length=50, blank=True, default="", help_text="Zone or line the count is for")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["camera", "timestamp"], name="counting_record_cam_ts"),
            # Retention deletes by timestamp across all cameras; rows arrive in time order, so a BRIN
            # index finds old ones for a few kilobytes instead of a second B-tree over the whole table.
            BrinIndex(fields=["timestamp"], name="counting_record_ts_brin"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(count__gte=0), name="counting_record_count_gte_0"),
            models.CheckConstraint(
                condition=models.Q(confidence__gte=0, confidence__lte=1), name="counting_record_confidence_0_1"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.camera_id} {self.timestamp:%Y-%m-%d %H:%M:%S} count={self.count}"


class CountRollup(models.Model):
    """What every rollup holds: enough to merge exactly (avg = total/records, avg conf = sum_conf/records)."""

    camera = models.ForeignKey(Camera, on_delete=models.CASCADE, related_name="+", db_index=False)
    records = models.BigIntegerField(default=0)
    total = models.BigIntegerField(default=0, help_text="Sum of the counts")
    min_count = models.IntegerField()
    max_count = models.IntegerField()
    sum_confidence = models.FloatField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True

    @property
    def avg_count(self) -> float:
        return self.total / self.records if self.records else 0.0

    @property
    def avg_confidence(self) -> float:
        return self.sum_confidence / self.records if self.records else 0.0


class CountHourly(CountRollup):
    """Counts of one camera in one UTC hour (``hour`` is the hour's start)."""

    hour = models.DateTimeField()

    class Meta:
        verbose_name = "hourly count rollup"
        constraints = [models.UniqueConstraint(fields=["camera", "hour"], name="counting_hourly_camera_hour")]
        # Across all cameras (overall analytics) the range is on the hour alone.
        indexes = [models.Index(fields=["hour"], name="counting_hourly_hour")]

    def __str__(self) -> str:
        return f"{self.camera_id} {self.hour:%Y-%m-%d %H}:00 records={self.records}"


class CountDaily(CountRollup):
    """Counts of one camera in one UTC day: what year-long analytics read (24 times fewer rows than hourly)."""

    day = models.DateField()

    class Meta:
        verbose_name = "daily count rollup"
        constraints = [models.UniqueConstraint(fields=["camera", "day"], name="counting_daily_camera_day")]
        indexes = [models.Index(fields=["day"], name="counting_daily_day")]

    def __str__(self) -> str:
        return f"{self.camera_id} {self.day} records={self.records}"
