"""What every API view of every family shares: its contract, permission, rate category and audit."""

from __future__ import annotations

from typing import ClassVar

from django.dispatch import Signal

from config.api.contracts import Contract

#: A mutating API call was answered (successfully or not); sent with ``request``, ``view`` and ``response``.
#: The audit trail (``accounts``) subscribes; a view with ``audit_enabled = False`` records its own entry.
mutating_call_answered = Signal()

# Declarations for ``required_permissions``.
PUBLIC = "public"  # no authentication at all (login, health)
AUTHENTICATED = "authenticated"  # any signed-in user or valid API key


class ContractMixin:
    """Mixed into every API view.

    ``required_permissions`` maps a DRF action (``list``, ``create``...) or an HTTP method to the
    permission string it needs; a plain string applies to every method. A view that declares nothing
    is refused: permissions fail closed.
    """

    contract: ClassVar[Contract]
    required_permissions: ClassVar[str | dict[str, str] | None] = None
    rate_category: ClassVar[str | None] = "standard"
    # Mutating calls are written to the audit log unless a view records its own entry.
    audit_enabled: ClassVar[bool] = True
    audit_resource: ClassVar[str | None] = None
    audit_action: ClassVar[str | None] = None  # e.g. "logout" where the HTTP verb would mislead

    def required_permission(self, request) -> str | None:
        declared = self.required_permissions
        if declared is None or isinstance(declared, str):
            return declared
        action = getattr(self, "action", None)
        if action and action in declared:
            return declared[action]
        if request.method == "HEAD" and "HEAD" not in declared:
            return declared.get("GET")  # Django answers HEAD with the GET handler, so it needs what GET needs
        return declared.get(request.method)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if self.audit_enabled and request.method not in ("GET", "HEAD", "OPTIONS"):
            mutating_call_answered.send(sender=type(self), request=request, view=self, response=response)
        return response


def validated(serializer_class, data, **kwargs) -> dict:
    """``data`` checked by ``serializer_class``: its validated data, or the contract's validation error."""
    serializer = serializer_class(data=data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)
