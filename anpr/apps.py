from django.apps import AppConfig


class AnprConfig(AppConfig):
    name = "anpr"
    verbose_name = "ANPR"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from anpr import (
            signals,  # noqa: F401  (connects the receivers)
            watchlists,
        )
        from anpr.models import WatchlistEntry
        from anpr.stats import engine_metrics
        from config import health

        health.contribute_edge_metrics(engine_metrics)  # 003's metrics block of /healthz/detailed
        # Every process's copy of the active watchlist follows each change of an entry.
        for name, signal in (("saved", post_save), ("deleted", post_delete)):
            signal.connect(watchlists.entry_changed, sender=WatchlistEntry, dispatch_uid=f"anpr-watchlist-{name}")
