"""Serializers of the camera domain, one set per contract family over the same models."""

from __future__ import annotations

import copy
import re

from rest_framework import serializers

from accounts.models import Notification
from cameras import services, streams
from cameras.choices import AlertLevel, CameraStatus, SensorType, StreamType, ZoneType
from cameras.models import Alert, Camera, Sensor, Zone
from cameras.models.fleet import MAX_MATCH_THRESHOLD, MIN_MATCH_THRESHOLD
from config.storage import signed_url

CAMERA_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,49}$")
RESOLUTION = re.compile(r"^(\d{1,5})x(\d{1,5})$")


def _thumbnail(camera: Camera) -> str | None:
    return signed_url(camera.thumbnail) if camera.thumbnail else None


class KeptFieldsMixin:
    """ModelSerializer introspects the model for every serializer it makes (each request), and always gets the
    same fields: they are worked out once per class and copied (as DRF copies declared fields) from then on.
    A list's rows each walked the fields again to pick the readable ones: they are picked once per serializer.
    Rows render as DRF's own (tests/cameras/test_camera_rows.py)."""

    _kept_fields: dict | None = None

    def get_fields(self):
        cls = type(self)
        if cls.__dict__.get("_kept_fields") is None:
            cls._kept_fields = super().get_fields()
        return {name: _fresh(field) for name, field in cls._kept_fields.items()}

    @property
    def _readable_fields(self):
        readable = self.__dict__.get("_readable_kept")
        if readable is None:
            readable = self.__dict__["_readable_kept"] = tuple(
                field for field in self.fields.values() if not field.write_only
            )
        return readable


# Arguments a field is made with that are shared between copies, as they cannot change: DRF's own copy shares
# validators and patterns; numbers, strings, flags and classes are immutable.
_SHARED_ARGUMENTS = (str, int, float, bool, type(None), type, re.Pattern)


def _fresh(field):
    """A new unbound field made with the arguments the kept one was made with, as DRF's ``__deepcopy__`` makes
    it, without copying what cannot change (copying every argument of every field was a quarter of a camera
    list's rendering)."""

    def fresh(key, value):
        if key in ("validators", "regex") or isinstance(value, _SHARED_ARGUMENTS):
            return value
        return copy.deepcopy(value)

    args = [fresh(None, value) for value in field._args]
    return field.__class__(*args, **{key: fresh(key, value) for key, value in field._kwargs.items()})


# --- 001 (/api/v1/cameras) --------------------------------------------------------------------------


class CameraSerializer(KeptFieldsMixin, serializers.ModelSerializer):
    stream_url = serializers.SerializerMethodField()
    port = serializers.SerializerMethodField(help_text="Port of the stream URL (000)")
    username = serializers.SerializerMethodField(help_text="User name of the stream URL (000)")
    thumbnail = serializers.SerializerMethodField()
    resolution = serializers.CharField(read_only=True, allow_null=True)  # null until the stream was probed

    class Meta:
        model = Camera
        fields = [
            "id",
            "name",
            "location",
            "stream_type",
            "status",
            "fps",
            "latency",
            "bitrate",
            "resolution",
            "codec",
            "last_seen",
            "ip_address",
            "port",
            "username",
            "tags",
            "thumbnail",
            "stream_url",
            "last_checked",
            "enabled",
            "recognition_enabled",
            "analysis_fps",
            "detect_width",
            "detect_height",
            "match_threshold",
            "zone_id",
            "metadata",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_stream_url(self, camera: Camera) -> str:
        return services.stream_url_for_client(camera)

    def get_port(self, camera: Camera) -> int | None:
        return streams.port_of(camera.stream_url)

    def get_username(self, camera: Camera) -> str | None:
        return streams.user_of(camera.stream_url)

    def get_thumbnail(self, camera: Camera) -> str | None:
        return _thumbnail(camera)


def _validate_camera_id(value: str) -> str:
    if not CAMERA_ID.match(value):
        raise serializers.ValidationError("Letters, digits, '-', '_' or '.', at most 50 characters")
    return value


class CameraWriteSerializer(serializers.Serializer):
    id = serializers.CharField(required=False, validators=[_validate_camera_id])
    name = serializers.CharField(max_length=255)
    location = serializers.CharField(max_length=255, required=False, allow_blank=True)
    stream_type = serializers.ChoiceField(choices=StreamType.choices, required=False)
    stream_url = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    enabled = serializers.BooleanField(required=False)
    status = serializers.CharField(required=False)
    tags = serializers.ListField(child=serializers.CharField(max_length=50), required=False, max_length=50)
    ip_address = serializers.IPAddressField(required=False, allow_null=True)
    fps = serializers.FloatField(required=False, min_value=0, max_value=240)
    resolution = serializers.RegexField(RESOLUTION, required=False, help_text="e.g. 1920x1080")
    zone_id = serializers.CharField(required=False, allow_null=True, allow_blank=True)
    detection_model = serializers.CharField(required=False, allow_blank=True, max_length=100)
    ocr_models = serializers.ListField(child=serializers.CharField(max_length=100), required=False)
    metadata = serializers.DictField(required=False)
    recognition_enabled = serializers.BooleanField(required=False, help_text="Faces on this camera are recognised")
    analysis_fps = serializers.FloatField(
        required=False, min_value=0.2, max_value=30, help_text="Frames analysed per second"
    )
    detect_width = serializers.IntegerField(
        required=False, min_value=160, max_value=3840, help_text="Frames are scaled down to fit this width"
    )
    detect_height = serializers.IntegerField(
        required=False, min_value=120, max_value=2160, help_text="Frames are scaled down to fit this height"
    )
    match_threshold = serializers.FloatField(
        required=False,
        allow_null=True,
        min_value=MIN_MATCH_THRESHOLD,
        max_value=MAX_MATCH_THRESHOLD,
        help_text="This camera's face match threshold (cosine distance); null: the model's default",
    )
    version = serializers.IntegerField(required=False, min_value=1, help_text="Send it to refuse stale updates (409)")
    # 000's camera: the address's port and credentials, folded into stream_url (the password kept encrypted)
    port = serializers.IntegerField(
        required=False, min_value=1, max_value=65535, help_text="Port of the stream URL (000); default 554"
    )
    username = serializers.CharField(
        required=False, allow_blank=True, max_length=100, help_text="User name of the stream URL (000)"
    )
    password = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=255,
        write_only=True,
        style={"input_type": "password"},
        help_text="Stream password (000): stored encrypted, shown as *** in stream_url; *** keeps the stored one",
    )

    def validate_match_threshold(self, value):
        ceiling = services.match_threshold_ceiling()
        if value is not None and value > ceiling:
            raise serializers.ValidationError(f"At most {ceiling} (twice the face model's default threshold)")
        return value

    def validate(self, attrs):
        resolution = attrs.pop("resolution", None)
        if resolution:
            width, height = (int(part) for part in resolution.split("x"))
            attrs.update(width=width, height=height)
        return attrs


class CameraExportSerializer(serializers.Serializer):
    """One camera as ``GET /cameras/export`` writes it and ``POST /cameras/import`` reads it."""

    id = serializers.CharField()
    name = serializers.CharField()
    location = serializers.CharField()
    stream_type = serializers.ChoiceField(choices=StreamType.choices)
    stream_url = serializers.CharField(help_text="Password masked; importing *** keeps the stored one")
    enabled = serializers.BooleanField()
    fps = serializers.FloatField()
    tags = serializers.ListField(child=serializers.CharField())
    ip_address = serializers.IPAddressField(allow_null=True)
    detection_model = serializers.CharField()
    ocr_models = serializers.ListField(child=serializers.CharField())
    metadata = serializers.DictField()
    width = serializers.IntegerField(allow_null=True)
    height = serializers.IntegerField(allow_null=True)
    zone_id = serializers.CharField(allow_null=True)


class CameraImportRequestSerializer(serializers.Serializer):
    """The body of ``POST /cameras/import`` (a bare list of the same documents is accepted too)."""

    cameras = CameraExportSerializer(many=True)


class CameraImportResultSerializer(serializers.Serializer):
    created = serializers.ListField(child=serializers.CharField())
    updated = serializers.ListField(child=serializers.CharField())
    total = serializers.IntegerField()


class CameraImportSerializer(CameraWriteSerializer):
    """One document of ``POST /cameras/import``: what a create takes, plus the ``width``/``height`` that
    ``GET /cameras/export`` writes, so an export can be imported as it is."""

    width = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=20000)
    height = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=20000)


class CameraStateSerializer(serializers.Serializer):
    enabled = serializers.BooleanField()


class CameraStatusSerializer(serializers.Serializer):
    status = serializers.CharField(help_text="online, offline, maintenance (000: active, inactive)")


class ConnectionTestSerializer(serializers.Serializer):
    """``POST /cameras/{id}/test-connection`` (the probe's figures; null where no frame was read)."""

    success = serializers.BooleanField()
    latency_ms = serializers.IntegerField(allow_null=True)
    bitrate = serializers.FloatField(allow_null=True, help_text="Mbit/s")
    fps = serializers.FloatField(allow_null=True)
    resolution = serializers.CharField(allow_null=True, help_text="e.g. 1920x1080")
    codec = serializers.CharField(allow_null=True)
    message = serializers.CharField()


class SnapshotSerializer(serializers.Serializer):
    """``POST /cameras/{id}/snapshot``: the stored frame."""

    asset_id = serializers.UUIDField()
    url = serializers.CharField(help_text="Signed, expiring")
    timestamp = serializers.DateTimeField()
    width = serializers.IntegerField(allow_null=True)
    height = serializers.IntegerField(allow_null=True)


class CameraSummarySerializer(serializers.Serializer):
    id = serializers.CharField()
    detections_today = serializers.IntegerField(allow_null=True)
    unknown_faces = serializers.IntegerField(allow_null=True)
    uptime_percent = serializers.FloatField(allow_null=True)


class AlertSerializer(serializers.ModelSerializer):
    camera_id = serializers.CharField(read_only=True, allow_null=True)

    class Meta:
        model = Alert
        fields = [
            "id",
            "title",
            "description",
            "level",
            "timestamp",
            "camera_id",
            "acknowledged",
            "muted",
            "tags",
            "resolved_at",
        ]
        read_only_fields = fields


class AlertMuteSerializer(serializers.Serializer):
    muted = serializers.BooleanField(default=True)


class NotificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Notification
        fields = ["id", "title", "message", "level", "acknowledged", "link", "timestamp"]
        read_only_fields = fields


# --- 003 (/config/...) ------------------------------------------------------------------------------


class NotificationsClearedSerializer(serializers.Serializer):
    deleted = serializers.IntegerField(help_text="How many notifications were cleared")


class ResolutionSerializer(serializers.Serializer):
    width = serializers.IntegerField(min_value=1, max_value=20000)
    height = serializers.IntegerField(min_value=1, max_value=20000)


class EdgeCameraSerializer(serializers.ModelSerializer):
    rtsp_url = serializers.SerializerMethodField()
    resolution = serializers.SerializerMethodField()

    class Meta:
        model = Camera
        fields = [
            "id",
            "name",
            "rtsp_url",
            "enabled",
            "zone_id",
            "fps",
            "resolution",
            "detection_model",
            "ocr_models",
            "metadata",
            "status",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_rtsp_url(self, camera: Camera) -> str:
        return services.stream_url_for_client(camera)

    def get_resolution(self, camera: Camera) -> dict | None:
        return {"width": camera.width, "height": camera.height} if camera.width and camera.height else None


class StreamInfoSerializer(serializers.Serializer):
    codec = serializers.CharField(allow_null=True)
    width = serializers.IntegerField(allow_null=True)
    height = serializers.IntegerField(allow_null=True)
    fps = serializers.FloatField(allow_null=True)


class EdgeCameraTestSerializer(serializers.Serializer):
    """003 ``POST /config/cameras/{id}/test``: 200 with ``stream_info``, or 503 with ``error``."""

    status = serializers.ChoiceField(choices=["success", "failed"])
    message = serializers.CharField()
    response_time_ms = serializers.IntegerField()
    stream_info = StreamInfoSerializer(required=False)
    error = serializers.CharField(required=False)


class EdgeCameraWriteSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=255)
    rtsp_url = serializers.CharField(max_length=2000)
    enabled = serializers.BooleanField(required=False)
    zone_id = serializers.CharField(required=False, allow_null=True, allow_blank=True)
    fps = serializers.FloatField(required=False, min_value=0, max_value=240)
    resolution = ResolutionSerializer(required=False)
    detection_model = serializers.CharField(required=False, allow_blank=True, max_length=100)
    ocr_models = serializers.ListField(child=serializers.CharField(max_length=100), required=False)
    metadata = serializers.DictField(required=False)

    def to_service(self) -> dict:
        data = dict(self.validated_data)
        if "rtsp_url" in data:
            data["stream_url"] = data.pop("rtsp_url")
            data["stream_type"] = StreamType.RTSP
        resolution = data.pop("resolution", None)
        if resolution:
            data.update(width=resolution["width"], height=resolution["height"])
        return data


class PointSerializer(serializers.Serializer):
    x = serializers.FloatField()
    y = serializers.FloatField()


class EdgeZoneSerializer(serializers.ModelSerializer):
    camera_id = serializers.CharField(read_only=True, allow_null=True)

    class Meta:
        model = Zone
        fields = ["id", "name", "camera_id", "type", "geometry", "metadata", "created_at", "updated_at"]
        read_only_fields = fields


class EdgeZoneWriteSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=255)
    camera_id = serializers.CharField(required=False, allow_null=True, allow_blank=True)
    type = serializers.ChoiceField(choices=ZoneType.choices, required=False)
    geometry = serializers.JSONField(help_text='{"type": "polygon", "points": [{"x": 100, "y": 200}, ...]}')
    metadata = serializers.DictField(required=False)


class EdgeSensorSerializer(serializers.ModelSerializer):
    camera_id = serializers.CharField(read_only=True, allow_null=True)
    zone_id = serializers.CharField(read_only=True, allow_null=True)

    class Meta:
        model = Sensor
        fields = ["id", "name", "type", "camera_id", "zone_id", "config", "metadata", "created_at", "updated_at"]
        read_only_fields = fields


class EdgeSensorWriteSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=255)
    type = serializers.ChoiceField(choices=SensorType.choices)
    camera_id = serializers.CharField(required=False, allow_null=True, allow_blank=True)
    zone_id = serializers.CharField(required=False, allow_null=True, allow_blank=True)
    config = serializers.DictField(required=False)
    metadata = serializers.DictField(required=False)


# --- 000 (/api/v2/cameras) --------------------------------------------------------------------------

_COUNTING_STATUS = {
    CameraStatus.ONLINE: "active",
    CameraStatus.OFFLINE: "inactive",
    CameraStatus.MAINTENANCE: "maintenance",
}


class CountingCameraSerializer(serializers.ModelSerializer):
    """000's camera model: ip_address, port, username, status active/inactive."""

    port = serializers.SerializerMethodField()
    username = serializers.SerializerMethodField()
    status = serializers.SerializerMethodField()
    last_connected = serializers.DateTimeField(source="last_seen", read_only=True, allow_null=True)

    class Meta:
        model = Camera
        fields = [
            "id",
            "name",
            "location",
            "ip_address",
            "port",
            "username",
            "status",
            "stream_type",
            "enabled",
            "last_connected",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_port(self, camera: Camera) -> int | None:
        return streams.port_of(camera.stream_url)

    def get_username(self, camera: Camera) -> str | None:
        return streams.user_of(camera.stream_url)

    def get_status(self, camera: Camera) -> str:
        return _COUNTING_STATUS.get(camera.status, camera.status)


ALERT_LEVELS = AlertLevel.values


class CountingCameraPageSerializer(serializers.Serializer):
    """000's ``GET /api/v2/cameras``: a page of cameras, with the version that answered."""

    items = CountingCameraSerializer(many=True)
    total = serializers.IntegerField()
    skip = serializers.IntegerField()
    limit = serializers.IntegerField()
    version = serializers.CharField()
