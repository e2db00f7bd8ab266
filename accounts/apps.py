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
