from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "integrations"
    verbose_name = "Integrations"

    def ready(self) -> None:
        from anpr.signals import plate_event_accepted
        from integrations.receivers import owe_plate_event_to_exporters

        plate_event_accepted.connect(owe_plate_event_to_exporters, dispatch_uid="integrations.owe_plate_event")
