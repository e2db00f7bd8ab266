"""Django Admin changes go into the audit trail like API changes do."""

from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry, LogEntryManager
from django.contrib.auth.signals import user_logged_out
from django.db.models.signals import post_save
from django.dispatch import receiver

from accounts import audit
from accounts.choices import Severity

_VERBS = {ADDITION: "create", CHANGE: "update", DELETION: "delete"}


@receiver(post_save, sender=LogEntry, dispatch_uid="audit-admin-log-entry")
def audit_admin_change(sender, instance: LogEntry, created: bool, **kwargs) -> None:
    if created:
        audit_log_entry(instance)


def audit_log_entry(instance: LogEntry) -> None:
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


_original_log_actions = LogEntryManager.log_actions


def _log_actions_and_audit(self, *args, **kwargs):
    result = _original_log_actions(self, *args, **kwargs)
    entries = [result] if isinstance(result, LogEntry) else list(result)
    # One entry is saved (post_save audits it); several are bulk-created, which sends no signal.
    if len(entries) > 1:
        for entry in entries:
            audit_log_entry(entry)
    return result


def install_bulk_admin_audit() -> None:
    """Admin bulk actions (delete selected) write LogEntry rows with bulk_create; audit those too."""
    if LogEntryManager.log_actions is not _log_actions_and_audit:
        LogEntryManager.log_actions = _log_actions_and_audit


# Where the dashboard keeps the access token it minted for its WebSocket and API calls.
DASHBOARD_TOKEN_SESSION_KEY = "cameras:dashboard-token"


@receiver(user_logged_out, dispatch_uid="revoke-dashboard-token")
def revoke_dashboard_token(sender, request, user, **kwargs) -> None:
    """Signing out of the dashboard ends the access token it handed to the page's scripts."""
    from accounts.models import UserSession
    from accounts.tokens import revoke_session

    cached = request.session.get(DASHBOARD_TOKEN_SESSION_KEY) if request is not None else None
    if cached and cached.get("sid"):
        session = UserSession.objects.filter(pk=cached["sid"]).first()
        if session is not None:
            revoke_session(session, reason="logout")
