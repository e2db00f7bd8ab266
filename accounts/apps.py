from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and access"

    def ready(self):
        from accounts import signals  # admin actions into the audit trail

        signals.install_bulk_admin_audit()
