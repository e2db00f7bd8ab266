"""What the API's filtersets share: query parameters under the names the contracts use.

001 spells query parameters in camelCase (``cameraId``, ``dateFrom``) and some as ``from``/``to``;
filters are declared under Python names. A filterset lists ``query_aliases`` (spelling → filter name);
a spelling is copied to its filter unless the filter's own name was sent too.
"""

from __future__ import annotations

from typing import ClassVar


class QueryAliases:
    """Mixin for a ``django_filters.FilterSet``: accept each alias of ``query_aliases`` for its filter."""

    query_aliases: ClassVar[dict[str, str]] = {}

    def __init__(self, data=None, *args, **kwargs):
        if data is not None and any(alias in data for alias in self.query_aliases):
            data = data.copy()
            for alias, name in self.query_aliases.items():
                if alias in data and name not in data:
                    data[name] = data[alias]
        super().__init__(data, *args, **kwargs)
