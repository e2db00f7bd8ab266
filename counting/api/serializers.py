"""000's count models, plain snake_case JSON. The ingest body is validated by ``counting.ingest`` (one set
of rules for the API and the video counter); the request serializers here document it in the schema."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from counting.models import CountRecord, CountSource


class CountDataInSerializer(serializers.Serializer):
    """000 ``CountData`` as a counter sends it."""

    camera_id = serializers.CharField(required=False, help_text="The path's camera, if given at all")
    count = serializers.IntegerField(min_value=0, help_text="Number of people (objects) counted")
    timestamp = serializers.DateTimeField(help_text="When, ISO 8601 with a time zone")
    confidence = serializers.FloatField(min_value=0, max_value=1, help_text="Detection confidence (0-1)")
    image_url = serializers.CharField(required=False, allow_null=True, allow_blank=True, max_length=500)
    zone_id = serializers.CharField(
        required=False, allow_null=True, allow_blank=True, max_length=50, help_text="Zone or line"
    )


class CountBatchInSerializer(serializers.Serializer):
    counts = CountDataInSerializer(many=True)


class CountDataSerializer(serializers.ModelSerializer):
    """000 ``CountDataResponse``, with the stored row's id, source and zone."""

    camera_id = serializers.CharField(read_only=True)
    image_url = serializers.SerializerMethodField()
    zone_id = serializers.SerializerMethodField()
    source = serializers.ChoiceField(choices=CountSource.choices, read_only=True)

    class Meta:
        model = CountRecord
        fields = ["id", "camera_id", "count", "timestamp", "confidence", "image_url", "zone_id", "source", "created_at"]
        read_only_fields = fields

    def get_image_url(self, record: CountRecord) -> str | None:
        return record.image_url or None

    def get_zone_id(self, record: CountRecord) -> str | None:
        return record.zone_id or None


class CountBatchSerializer(serializers.Serializer):
    counts = CountDataSerializer(many=True)


class RealtimeCountSerializer(serializers.Serializer):
    camera_id = serializers.CharField()
    camera_name = serializers.CharField()
    status = serializers.CharField(help_text="active, inactive or maintenance")
    count = serializers.IntegerField(allow_null=True, help_text="Latest count; null when the camera has none")
    confidence = serializers.FloatField(allow_null=True)
    timestamp = serializers.DateTimeField(allow_null=True)
    image_url = serializers.CharField(allow_null=True)
    zone_id = serializers.CharField(allow_null=True)


class FiguresSerializer(serializers.Serializer):
    total_records = serializers.IntegerField(help_text="Count records in the range")
    total_count = serializers.IntegerField(help_text="Sum of the counts")
    avg_count = serializers.FloatField(allow_null=True, help_text="total_count / total_records")
    min_count = serializers.IntegerField(allow_null=True)
    max_count = serializers.IntegerField(allow_null=True)
    avg_confidence = serializers.FloatField(allow_null=True)


class TotalsSerializer(FiguresSerializer):
    """Figures over the whole range, with 000's names for two of them."""

    overall_avg = serializers.FloatField(allow_null=True, help_text="000's name for avg_count")
    peak_count = serializers.IntegerField(allow_null=True, help_text="000's name for max_count")


class CameraFiguresSerializer(TotalsSerializer):
    camera_id = serializers.CharField()
    camera_name = serializers.CharField(allow_null=True)


class DailyFiguresSerializer(FiguresSerializer):
    date = serializers.DateField(help_text="UTC day")


class HourlyFiguresSerializer(FiguresSerializer):
    hour = serializers.DateTimeField(help_text="Start of the UTC hour")


class AnalyticsSerializer(serializers.Serializer):
    """``GET /api/v1/counts/analytics``. Buckets with no counts are left out."""

    camera_id = serializers.CharField(allow_null=True, help_text="The camera asked for; null for every camera")
    start_date = serializers.DateTimeField(help_text="Start of the range covered (the first whole hour)")
    end_date = serializers.DateTimeField(help_text="End of the range covered, exclusive (a whole hour)")
    granularity = serializers.CharField(help_text="Always 'hour': the range is widened to whole UTC hours")
    summary = TotalsSerializer(help_text="Every camera asked for, over the whole range")
    cameras = CameraFiguresSerializer(many=True, help_text="Per camera, over the whole range")
    daily = DailyFiguresSerializer(many=True, help_text="Per UTC day (of the cameras asked for)")
    hourly = HourlyFiguresSerializer(
        many=True, allow_null=True, help_text="Per UTC hour; null for ranges longer than 31 days (configurable)"
    )


def count_payload(records: list[CountRecord]) -> list[dict[str, Any]]:
    return CountDataSerializer(records, many=True).data


# "in" is a Python keyword: serializers with an "in" field are built from a dict of their fields.
IntervalSerializer = type(
    "IntervalSerializer",
    (serializers.Serializer,),
    {
        "start": serializers.DateTimeField(),
        "end": serializers.DateTimeField(),
        "in": serializers.IntegerField(help_text="Crossings towards the in side (entries into a zone)"),
        "out": serializers.IntegerField(help_text="Crossings the other way (exits from a zone)"),
        "total": serializers.IntegerField(),
        "confidence": serializers.FloatField(),
    },
)
RunTotalsSerializer = type(
    "RunTotalsSerializer",
    (serializers.Serializer,),
    {"in": serializers.IntegerField(), "out": serializers.IntegerField()},
)


class CounterStateSerializer(serializers.Serializer):
    """``GET /api/v1/counts/counters``: one per camera."""

    camera_id = serializers.CharField()
    counting = serializers.BooleanField(help_text="A run is queued or under way (the camera's lock is held)")
    running = serializers.BooleanField(help_text="A run is reading the stream now")
    last_interval = IntervalSerializer(allow_null=True, help_text="The last interval counted, with its in/out split")
    run_totals = RunTotalsSerializer(allow_null=True, help_text="In and out so far in the current (or last) run")
    updated = serializers.DateTimeField(allow_null=True, help_text="When the counter last reported")
    stopped = serializers.CharField(help_text="Why the last run ended ('' while running or never run)")
    error = serializers.CharField(help_text="The last run's error, if any")


class PointSerializer(serializers.Serializer):
    x = serializers.FloatField()
    y = serializers.FloatField()


class LineSerializer(serializers.Serializer):
    x1 = serializers.FloatField()
    y1 = serializers.FloatField()
    x2 = serializers.FloatField()
    y2 = serializers.FloatField()


class ZoneSerializer(serializers.Serializer):
    type = serializers.CharField(required=False, help_text="polygon")
    points = PointSerializer(many=True, help_text="At least 3 points")


class FrameSerializer(serializers.Serializer):
    width = serializers.IntegerField()
    height = serializers.IntegerField()


class CountingSetupInSerializer(serializers.Serializer):
    """A counting set-up as ``PUT`` sends it (validated by ``counting.video.config``; every problem is listed)."""

    mode = serializers.ChoiceField(choices=["line", "zone"], required=False, help_text="Default line")
    line = LineSerializer(required=False, help_text="Mode line: the line, first point to second")
    in_side = serializers.ChoiceField(
        choices=["right", "left"], required=False, help_text="The side of the directed line that is 'in'"
    )
    zone = ZoneSerializer(required=False, help_text="Mode zone: the polygon")
    interval = serializers.IntegerField(required=False, help_text="Seconds per stored count (10-3600, default 60)")
    enabled = serializers.BooleanField(required=False, help_text="Count the camera's stream (default false)")
    frame = FrameSerializer(required=False, help_text="The frame the coordinates refer to (the camera's by default)")
    version = serializers.IntegerField(
        required=False, help_text="The camera's version the change is based on: a stale one is refused with 409"
    )


class CountingSetupSerializer(serializers.Serializer):
    """A camera's counting set-up, as stored (null when it has none), and the camera's version."""

    camera_id = serializers.CharField()
    counting = serializers.JSONField(allow_null=True, help_text="mode, line/in_side or zone, interval, enabled, frame")
    problem = serializers.CharField(help_text="Why a stored set-up cannot be used ('' when it can)")
    version = serializers.IntegerField(help_text="The camera's version")
