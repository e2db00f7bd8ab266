"""Notifications: stored for the notification list, pushed live on the ``notifications`` channel."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet

from accounts.choices import Severity
from accounts.models import Notification, User
from config import realtime
from config.api.contracts import utc_iso


def notification_payload(notification: Notification) -> dict[str, Any]:
    """A notification as 001 shows it (camelCase: it goes to clients as is)."""
    return {
        "id": str(notification.id),
        "title": notification.title,
        "message": notification.message,
        "level": notification.level,
        "acknowledged": notification.acknowledged,
        "link": notification.link,
        "timestamp": utc_iso(notification.timestamp),
        "userId": str(notification.user_id) if notification.user_id else None,
    }


def notify(
    *, title: str, message: str = "", level: str = Severity.INFO, user: User | None = None, link: str = ""
) -> Notification:
    """Store a notification (``user`` None: for everyone) and push it once the transaction commits."""
    notification = Notification.objects.create(user=user, title=title[:255], message=message, level=level, link=link)
    payload = notification_payload(notification)
    user_id = str(user.pk) if user else None
    transaction.on_commit(lambda: realtime.notifications.notification(payload, user_id=user_id))
    return notification


def visible_to(user: User) -> QuerySet[Notification]:
    return Notification.objects.filter(Q(user=user) | Q(user__isnull=True))
