"""Odoo HR attendance sync (001 "Odoo Integration"): the JSON-RPC client, the configuration and the sync run.

- :mod:`.client`: Odoo's external JSON-RPC API, behind the platform's retry policy and the ``odoo`` breaker;
- :mod:`.config`: the configuration singleton, the connection test, the counters and the status;
- :mod:`.sync`: asking for a run, and the run that sends attendance logs as ``hr.attendance`` records.

The Celery tasks (``integrations.sync_attendance_to_odoo``, ``integrations.scheduled_odoo_sync``) are in
:mod:`integrations.tasks`.
"""
