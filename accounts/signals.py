"""Django Admin changes go into the audit trail like API changes do."""

from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.db.models.signals import post_save
from django.dispatch import receiver

from accounts import audit
from accounts.choices import Severity

_VERBS = {ADDITION: "create", CHANGE: "update", DELETION: "delete"}


@receiver(post_save, sender=LogEntry, dispatch_uid="audit-admin-log-entry")
def audit_admin_change(sender, instance: LogEntry, created: bool, **kwargs) -> None:
    if not created:
        return
    user = instance.user
    resource_type = instance.content_type.model if instance.content_type_id else ""
    verb = _VERBS.get(instance.action_flag, "change")
    change = instance.get_change_message() or ""
    audit.record(
        actor=user.email,
        actor_role=getattr(user, "role_id", "") or "",
        action=f"admin.{resource_type}.{verb}",
        resource_type=resource_type,
        resource_id=instance.object_id or "",
        message=f"Admin {verb} {resource_type} {instance.object_repr}" + (f": {change}" if change else ""),
        severity=Severity.WARNING if instance.action_flag == DELETION else Severity.INFO,
    )
