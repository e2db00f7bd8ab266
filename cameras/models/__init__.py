from cameras.models.alerts import Alert
from cameras.models.fleet import Camera, Sensor, Snapshot, Zone
from cameras.models.system import BannerMessage, SystemMetric, SystemService

__all__ = ["Alert", "BannerMessage", "Camera", "Sensor", "Snapshot", "SystemMetric", "SystemService", "Zone"]
