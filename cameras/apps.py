from django.apps import AppConfig


class CamerasConfig(AppConfig):
    name = "cameras"
    verbose_name = "Cameras"

    def ready(self) -> None:
        from cameras import figures
        from cameras.home import alerts_panel, cameras_panel
        from cameras.vision import registry
        from cameras.vision.camera_streams import camera_demands
        from cameras.vision.health import report_health, service_health
        from cameras.vision.live import keep_live_image
        from config import health, home
        from config.system import summary

        summary.contribute("active_cameras", figures.active_cameras)
        home.register(home.HomePanel("cameras", "home/_cameras.html", cameras_panel, order=10))
        home.register(home.HomePanel("alerts", "home/_alerts.html", alerts_panel, order=20))
        # Every enabled camera is watched: its health and its live picture come from the vision workers.
        registry.register_demands("cameras", camera_demands)
        registry.register_analyzer("camera-health", report_health, order=10)
        registry.register_analyzer("live-image", keep_live_image, order=20)
        # 002's beCamera: the API answers without the vision workers, so their absence only degrades.
        health.register_service("beCamera", service_health, critical=False)
