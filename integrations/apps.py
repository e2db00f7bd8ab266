from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "integrations"
    verbose_name = "Integrations"

    def ready(self) -> None:
        from anpr.signals import plate_event_accepted
        from config.system import summary
        from integrations import figures
        from integrations.receivers import owe_plate_event_to_exporters

        summary.contribute("last_sync", figures.last_sync)

        plate_event_accepted.connect(owe_plate_event_to_exporters, dispatch_uid="integrations.owe_plate_event")
