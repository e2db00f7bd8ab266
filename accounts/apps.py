from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and access"

    def ready(self):
        from accounts import signals  # admin actions into the audit trail
        from accounts.audit import audit_mutating_call, audit_service_restart
        from config.api.base import mutating_call_answered
        from config.system.services import service_restart_attempted

        signals.install_bulk_admin_audit()
        from accounts.tokens import service_health
        from config import health

        health.register_service("beAuth", service_health, critical=True)  # 002's auth service

        # Processes serve users and API keys from their own copies while nothing changed them.
        from django.db.models.signals import post_delete, post_save

        from accounts import authentication
        from accounts.models import ApiKey, Role, User

        for name, signal in (("saved", post_save), ("deleted", post_delete)):
            signal.connect(authentication.user_changed, sender=User, dispatch_uid=f"auth-user-{name}")
            signal.connect(authentication.role_changed, sender=Role, dispatch_uid=f"auth-role-{name}")
            signal.connect(authentication.api_key_changed, sender=ApiKey, dispatch_uid=f"auth-key-{name}")

        from config import retention

        retention.register(
            retention.RetentionRule(
                name="audit",
                model="accounts.AuditLog",
                date_field="timestamp",
                setting="RETENTION_AUDIT_DAYS",
                default_days=365,
                description="audit entries",
            )
        )
        mutating_call_answered.connect(audit_mutating_call, dispatch_uid="accounts.audit_mutating_call")
        service_restart_attempted.connect(audit_service_restart, dispatch_uid="accounts.audit_service_restart")
