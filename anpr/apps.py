from django.apps import AppConfig


class AnprConfig(AppConfig):
    name = "anpr"
    verbose_name = "ANPR"

    def ready(self) -> None:
        from anpr import signals  # noqa: F401  (connects the receivers)
