"""Integrations' figures in the platform's summary (contributed in ``IntegrationsConfig.ready()``)."""

from __future__ import annotations

from datetime import datetime

from config.system.summary import SummaryDay
from integrations.models import OdooConfig


def last_sync(day: SummaryDay) -> datetime | None:
    """When Odoo was last synced, if ever."""
    return OdooConfig.objects.values_list("last_sync", flat=True).first()
