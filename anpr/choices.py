"""Kinds and orders of the ANPR domain: value, label and the badge colour the dashboard shows."""

from django.db import models


class ModelType(models.TextChoices):
    DETECTOR = "detector", "Detector"
    OCR = "ocr", "OCR"


class ListType(models.TextChoices):
    ALLOW = "allow", "Allow list"
    DENY = "deny", "Deny list"


class StatsInterval(models.TextChoices):
    MINUTE = "minute", "Minute"
    HOUR = "hour", "Hour"
    DAY = "day", "Day"
    WEEK = "week", "Week"


INTERVAL_SECONDS = {
    StatsInterval.MINUTE: 60,
    StatsInterval.HOUR: 3600,
    StatsInterval.DAY: 86400,
    StatsInterval.WEEK: 7 * 86400,
}


class SortField(models.TextChoices):
    TIMESTAMP = "timestamp", "Time"
    CONFIDENCE = "confidence", "Confidence"
    PLATE_TEXT = "plate_text", "Plate"


class SortOrder(models.TextChoices):
    ASC = "asc", "Ascending"
    DESC = "desc", "Descending"


BADGE_COLOURS = {ListType.ALLOW: "green", ListType.DENY: "red"}
