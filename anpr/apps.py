from django.apps import AppConfig


class AnprConfig(AppConfig):
    name = "anpr"
    verbose_name = "ANPR"

    def ready(self) -> None:
        from anpr import signals  # noqa: F401  (connects the receivers)
        from anpr.stats import engine_metrics
        from config import health

        health.contribute_edge_metrics(engine_metrics)  # 003's metrics block of /healthz/detailed
