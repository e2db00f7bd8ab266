from config.models.system import BannerMessage, SystemMetric, SystemService
from config.models.usage import UsageMinute

__all__ = ["BannerMessage", "SystemMetric", "SystemService", "UsageMinute"]
