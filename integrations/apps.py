from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "integrations"
    verbose_name = "Integrations"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from anpr.signals import plate_event_accepted
        from config.system import summary
        from integrations import figures, outbox
        from integrations.models import Exporter
        from integrations.receivers import owe_plate_event_to_exporters

        summary.contribute("last_sync", figures.last_sync)

        plate_event_accepted.connect(owe_plate_event_to_exporters, dispatch_uid="integrations.owe_plate_event")
        # Every process's list of enabled exporters (asked per event) follows each change of an exporter.
        for name, signal in (("saved", post_save), ("deleted", post_delete)):
            signal.connect(outbox.exporters_changed, sender=Exporter, dispatch_uid=f"integrations-exporters-{name}")
