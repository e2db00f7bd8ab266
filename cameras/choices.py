"""Statuses and kinds of the camera domain: value, label and the badge colour the dashboard shows."""

from django.db import models


class StreamType(models.TextChoices):
    RTSP = "RTSP", "RTSP"
    USB = "USB", "USB"
    HTTP = "HTTP", "HTTP"
    SOCKET = "Socket", "Socket"
    LOCAL_FILE = "Local File", "Local file"


class CameraStatus(models.TextChoices):
    ONLINE = "online", "Online"
    OFFLINE = "offline", "Offline"
    MAINTENANCE = "maintenance", "Maintenance"


# 000 spells camera status active/inactive; both spellings are accepted on its endpoints.
COUNTING_STATUS_ALIASES = {"active": CameraStatus.ONLINE, "inactive": CameraStatus.OFFLINE}


class ZoneType(models.TextChoices):
    ENTER = "enter", "Entry"
    EXIT = "exit", "Exit"
    BOTH = "both", "Entry and exit"
    DETECTION = "detection", "Detection area"
    COUNTING = "counting", "Counting area"
    RESTRICTED = "restricted", "Restricted area"
    PARKING = "parking", "Parking"


class SensorType(models.TextChoices):
    TPMS = "tpms", "Tyre pressure (TPMS)"
    BARRIER = "barrier", "Barrier"
    RFID = "rfid", "RFID reader"


class AlertLevel(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"
    CRITICAL = "critical", "Critical"


BADGE_COLOURS = {
    CameraStatus.ONLINE: "green",
    CameraStatus.OFFLINE: "red",
    CameraStatus.MAINTENANCE: "amber",
    AlertLevel.LOW: "blue",
    AlertLevel.MEDIUM: "amber",
    AlertLevel.HIGH: "red",
    AlertLevel.CRITICAL: "red",
}
