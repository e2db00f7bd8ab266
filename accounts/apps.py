from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and access"

    def ready(self):
        from accounts import signals  # admin actions into the audit trail
        from accounts.audit import audit_mutating_call
        from config.api.base import mutating_call_answered

        signals.install_bulk_admin_audit()
        mutating_call_answered.connect(audit_mutating_call, dispatch_uid="accounts.audit_mutating_call")
