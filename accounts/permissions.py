"""The one DRF permission class: the view declares a permission string, the caller must hold it."""

from __future__ import annotations

import logging

from rest_framework.exceptions import NotAuthenticated, PermissionDenied
from rest_framework.permissions import BasePermission

from config.api.base import AUTHENTICATED, PUBLIC

logger = logging.getLogger("argus.auth")


def holds(user, permission: str) -> bool:
    checker = getattr(user, "has_permission", None)
    return bool(checker and checker(permission))


class HasRequiredPermission(BasePermission):
    def has_permission(self, request, view) -> bool:
        getter = getattr(view, "required_permission", None)
        required = getter(request) if getter else None
        if required is None:
            # Fail closed: a view that declares nothing is a bug, not an open door.
            logger.error("%s declares no permission for %s; refused", type(view).__name__, request.method)
            raise PermissionDenied()
        if required == PUBLIC:
            return True
        if not (request.user and request.user.is_authenticated):
            raise NotAuthenticated()
        if required == AUTHENTICATED or holds(request.user, required):
            return True
        raise PermissionDenied()
