"""Notifications: stored for the notification list, pushed live on the ``notifications`` channel."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet

from accounts.choices import Severity, UserStatus
from accounts.models import Notification, Role, User
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


def holders_of(permission: str) -> QuerySet[User]:
    """The active users whose role grants ``permission``."""
    roles = [role.pk for role in Role.objects.all() if role.grants(permission)]
    return User.objects.filter(status=UserStatus.ACTIVE, role_id__in=roles)


def notify(
    *,
    title: str,
    message: str = "",
    level: str = Severity.INFO,
    user: User | None = None,
    link: str = "",
    permission: str | None = None,
) -> Notification | None:
    """Store a notification and push it once the transaction commits: to ``user``, else to every holder of
    ``permission`` (one notification each: nobody without it reads it, in the list or live), else to everyone.
    Returns the notification (the last one when fanned out; None when nobody holds ``permission``)."""
    if user is None and permission is not None:
        sent = None
        for holder in holders_of(permission):
            sent = notify(title=title, message=message, level=level, user=holder, link=link)
        return sent
    notification = Notification.objects.create(user=user, title=title[:255], message=message, level=level, link=link)
    payload = notification_payload(notification)
    user_id = str(user.pk) if user else None
    transaction.on_commit(lambda: realtime.notifications.notification(payload, user_id=user_id))
    return notification


def visible_to(user: User) -> QuerySet[Notification]:
    return Notification.objects.filter(Q(user=user) | Q(user__isnull=True))
