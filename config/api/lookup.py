"""Finding the one object a detail endpoint names, the same way in every contract family."""

from __future__ import annotations

from typing import Any, ClassVar

from django.core.exceptions import ValidationError as DjangoValidationError

from config.api.contracts import ApiError, Kind


class NamedObjectLookup:
    """``get_object`` of the generic views: the view's queryset by its lookup field, without the list's
    filters (a detail is found whatever the query string says). A missing object, or an id of the wrong
    shape, is the family's not-found error saying ``not_found`` (``{pk}``: the id asked for), or the
    family's default message when a view names none."""

    not_found: ClassVar[str | None] = None

    def get_object(self) -> Any:
        value = self.kwargs[self.lookup_url_kwarg or self.lookup_field]
        try:
            obj = self.get_queryset().filter(**{self.lookup_field: value}).first()
        except (ValueError, TypeError, DjangoValidationError):  # not even the shape of an id of this model
            obj = None
        if obj is None:
            raise ApiError(Kind.NOT_FOUND, self.not_found.format(pk=value) if self.not_found else None)
        self.check_object_permissions(self.request, obj)
        return obj
