from django.apps import AppConfig


class ConfigConfig(AppConfig):
    name = "config"
    verbose_name = "Platform"

    def ready(self):
        from config.logging import install_record_factory

        install_record_factory()

        # Celery task outcome counters, connected wherever Django starts (the worker included).
        from config import metrics

        metrics.install_celery_signals()
