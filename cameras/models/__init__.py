from cameras.models.alerts import Alert
from cameras.models.fleet import Camera, Sensor, Snapshot, Zone

__all__ = ["Alert", "Camera", "Sensor", "Snapshot", "Zone"]
