from django.apps import AppConfig


class CamerasConfig(AppConfig):
    name = "cameras"
    verbose_name = "Cameras"

    def ready(self) -> None:
        from cameras import figures
        from config.system import summary

        summary.contribute("active_cameras", figures.active_cameras)
