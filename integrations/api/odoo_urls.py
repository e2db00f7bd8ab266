"""001 Odoo integration routes, under /api/v1/."""

from django.urls import path

from integrations.api import odoo_views

urlpatterns = [
    path("odoo/config", odoo_views.OdooConfigView.as_view(), name="odoo-config"),
    path("odoo/test", odoo_views.OdooTestView.as_view(), name="odoo-test"),
    path("odoo/sync", odoo_views.OdooSyncView.as_view(), name="odoo-sync"),
    path("odoo/logs", odoo_views.OdooSyncLogListView.as_view(), name="odoo-logs"),
    path("odoo/status", odoo_views.OdooStatusView.as_view(), name="odoo-status"),
]
