from django.apps import AppConfig


class CountingConfig(AppConfig):
    name = "counting"
    verbose_name = "Counting"

    def ready(self) -> None:
        from config import retention

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
