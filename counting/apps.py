from django.apps import AppConfig


class CountingConfig(AppConfig):
    name = "counting"
    verbose_name = "Counting"

    def ready(self) -> None:
        from cameras.vision import registry
        from config import retention
        from counting.video.live import count_stream, counting_demands

        # Counted cameras are counted on the vision workers' frames (the camera's one decoder).
        registry.register_demands("counting", counting_demands)
        registry.register_analyzer("counting", count_stream, order=50)

        retention.register(
            retention.RetentionRule(
                name="counts",
                model="counting.CountRecord",
                date_field="timestamp",
                setting="RETENTION_COUNTS_DAYS",
                default_days=90,
                description="raw count rows (the hourly and daily rollups are kept)",
                # A count's image_url points outside Argus's storage: there is no file to delete, so the
                # rows are not even loaded.
                on_delete=None,
            )
        )
