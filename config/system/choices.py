"""Statuses and kinds of system health: value, label and the badge colour the dashboard shows."""

from django.db import models


class ServiceStatus(models.TextChoices):
    RUNNING = "running", "Running"
    DEGRADED = "degraded", "Degraded"
    STOPPED = "stopped", "Stopped"


class BannerLevel(models.TextChoices):
    INFO = "info", "Info"
    WARNING = "warning", "Warning"
    CRITICAL = "critical", "Critical"


class MetricCategory(models.TextChoices):
    """In the order the API and the dashboard list them."""

    CPU = "cpu", "CPU"
    GPU = "gpu", "GPU"
    MEMORY = "memory", "Memory"
    DISK = "disk", "Disk"
    NETWORK = "network", "Network"


BADGE_COLOURS = {
    ServiceStatus.RUNNING: "green",
    ServiceStatus.DEGRADED: "amber",
    ServiceStatus.STOPPED: "red",
    BannerLevel.INFO: "blue",
    BannerLevel.WARNING: "amber",
    BannerLevel.CRITICAL: "red",
}
