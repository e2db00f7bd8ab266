from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from accounts.models import UserSession


@shared_task(name="accounts.purge_expired_sessions")
def purge_expired_sessions() -> int:
    """Delete refresh sessions that expired over a day ago; returns how many."""
    cutoff = timezone.now() - timedelta(days=1)
    deleted, _ = UserSession.objects.filter(expires_at__lt=cutoff).delete()
    return deleted
