"""The audit log's export: accounts' trail, with the filters of ``GET /audit``, through the exports' machinery.

It lives with the exports rather than in ``accounts``: the export machinery is attendance's, and accounts
sits below attendance, so it may not build on it.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.db.models import Count, Max, Min

from attendance.choices import ExportType
from attendance.exports.plans import Column, ExportPlan, ExportSource, Section, iso_cell, valid_filterset

AUDIT_COLUMNS = (
    Column("timestamp", "Time (UTC)", lambda entry: iso_cell(entry.timestamp)),
    Column("actor", "Actor", lambda entry: entry.actor),
    Column("actorRole", "Role", lambda entry: entry.actor_role),
    Column("action", "Action", lambda entry: entry.action),
    Column("resourceType", "Resource", lambda entry: entry.resource_type),
    Column("resourceId", "Resource ID", lambda entry: entry.resource_id),
    Column("severity", "Severity", lambda entry: entry.severity),
    Column("message", "Message", lambda entry: entry.message),
    Column("ipAddress", "IP address", lambda entry: entry.ip_address or "", in_pdf=False),
)


class AuditExport(ExportSource):
    type = ExportType.AUDIT
    title = "Audit log report"
    params = ("actor", "action", "severity", "resource_type", "resource_id", "date_from", "date_to", "search")
    # The request parser has already turned camelCase into snake_case; 001 also says ``from``/``to``.
    aliases = {"from": "date_from", "to": "date_to"}

    def _filterset(self, filters: Mapping[str, str]):
        from accounts.api.filters import AuditLogFilterSet
        from accounts.models import AuditLog

        return valid_filterset(AuditLogFilterSet, AuditLog.objects.all(), filters)

    def validate(self, filters: Mapping[str, str]) -> None:
        self._filterset(filters)

    def plan(self, filters: Mapping[str, str]) -> ExportPlan:
        entries = self._filterset(filters).qs.order_by("timestamp", "id")

        def summary() -> tuple[tuple[str, str], ...]:
            counts = dict(entries.order_by().values_list("severity").annotate(n=Count("id")))
            span = entries.aggregate(first=Min("timestamp"), last=Max("timestamp"))
            return (
                ("Audit entries", str(sum(counts.values()))),
                *((severity.title(), str(count)) for severity, count in sorted(counts.items())),
                ("Period (UTC)", f"{iso_cell(span['first'])} to {iso_cell(span['last'])}" if span["first"] else "none"),
            )

        return ExportPlan(
            title=self.title,
            sections=(Section("Audit entries", AUDIT_COLUMNS, entries),),
            filters=tuple((name, value) for name, value in filters.items()),
            summary=summary,
        )
