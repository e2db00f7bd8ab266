"""What an export is: a plan of sections (rows of one query, in columns) that a source makes from filters.

Every kind of export (attendance logs, the audit log, one person's history) is an :class:`ExportSource`:
it checks the filters a client sent and turns them into an :class:`ExportPlan` that the renderers write.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from config.api.contracts import camel, utc_iso
from config.api.spa import snake


class ExportFilterError(ValueError):
    """Filters an export cannot run with; ``errors`` maps each parameter to its messages."""

    def __init__(self, errors: Mapping[str, list[str]]):
        self.errors = {name: list(messages) for name, messages in errors.items()}
        super().__init__("; ".join(f"{name}: {' '.join(messages)}" for name, messages in self.errors.items()))


@dataclass(frozen=True)
class Column:
    key: str  # the CSV header, 001's camelCase field name
    label: str  # the PDF header
    value: Callable[[Any], Any]
    in_pdf: bool = True


@dataclass(frozen=True)
class Section:
    """One table of an export: rows of one queryset, read in order."""

    title: str
    columns: tuple[Column, ...]
    queryset: QuerySet
    record: str = ""  # the ``record`` cell of a CSV that holds several sections


@dataclass(frozen=True)
class ExportPlan:
    """An export's rows (its sections) and what its PDF says about them."""

    title: str
    sections: tuple[Section, ...]
    filters: tuple[tuple[str, str], ...]
    # Aggregates for the PDF's summary, computed only when a report is rendered.
    summary: Callable[[], tuple[tuple[str, str], ...]] = field(default=tuple)

    def total(self) -> int:
        return sum(section.queryset.count() for section in self.sections)


# --- How a value reads in a cell -----------------------------------------------------------------------


def time_cell(moment: datetime | None) -> str:
    """The site-local time of day."""
    return timezone.localtime(moment).strftime("%H:%M:%S") if moment else ""


def iso_cell(moment: datetime | None) -> str:
    return utc_iso(moment) or ""


def day_cell(value: date | None) -> str:
    return value.isoformat() if value else ""


def number_cell(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


# --- The kinds of export --------------------------------------------------------------------------------


class ExportSource(ABC):
    """One kind of export: which filters it takes, which rows they select, what the report says."""

    type: str
    title: str
    # Accepted parameter names (the filter set's spelling) and other spellings of them.
    params: tuple[str, ...] = ()
    aliases: Mapping[str, str] = {}

    def normalize(self, raw: Mapping[str, Any]) -> dict[str, str]:
        """The filters in canonical spelling, as strings; unknown or non-scalar values are errors."""
        errors: dict[str, list[str]] = {}
        filters: dict[str, str] = {}
        for key, value in raw.items():
            name = self.canonical(str(key))
            if name is None:
                errors[key] = [f"Unknown filter; one of {', '.join(self.params)}."]
            elif isinstance(value, (dict, list, tuple)):
                errors[name] = ["Must be a single value."]
            elif value is not None and str(value).strip() != "":
                filters[name] = str(value).strip()
        if errors:
            raise ExportFilterError(errors)
        return filters

    def canonical(self, key: str) -> str | None:
        """The parameter ``key`` names, in whichever of camelCase, snake_case or an alias it is spelt."""
        for candidate in (key, snake(key), camel(key)):
            if candidate in self.params:
                return candidate
            if candidate in self.aliases:
                return self.aliases[candidate]
        return None

    def clean(self, raw: Mapping[str, Any]) -> dict[str, str]:
        """Validated filters to store on a job; raises :class:`ExportFilterError`."""
        filters = self.normalize(raw)
        self.validate(filters)
        return filters

    @abstractmethod
    def validate(self, filters: Mapping[str, str]) -> None:
        """Raise :class:`ExportFilterError` unless the (canonical) filters can select rows."""

    @abstractmethod
    def plan(self, filters: Mapping[str, str]) -> ExportPlan:
        """The report: its title, sections (with their rows' queries) and summary."""


def _form_errors(errors) -> dict[str, list[str]]:
    return {
        ("non_field_errors" if name == "__all__" else name): [str(m) for m in messages]
        for name, messages in errors.items()
    }


def valid_filterset(filterset_class, queryset: QuerySet, filters: Mapping[str, str]):
    """``filterset_class`` bound to the filters, or :class:`ExportFilterError` with its errors."""
    filterset = filterset_class(data=dict(filters), queryset=queryset)
    if not filterset.is_valid():
        raise ExportFilterError(_form_errors(filterset.errors))
    return filterset
