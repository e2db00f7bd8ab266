"""Dashboard pages of the accounts app: sign-in (with the API's lockout) and the audit trail."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import render

from accounts import services
from accounts.api.filters import AuditLogFilterSet
from accounts.models import AuditLog
from config.api.contracts import ApiError


class SignInView(auth_views.LoginView):
    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def post(self, request, *args, **kwargs):
        email = request.POST.get("username", "")
        try:
            services.wait_before_attempt(email)
        except ApiError as error:
            messages.error(request, f"{error.text()} ({error.headers.get('Retry-After', '?')} s)")
            return self.get(request, *args, **kwargs)
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form):
        services.record_failed_sign_in(self.request.POST.get("username", ""))
        return super().form_invalid(form)

    def form_valid(self, form):
        response = super().form_valid(form)
        services.record_sign_in(form.get_user(), "dashboard")
        return response


@login_required
def audit_page(request):
    if not request.user.has_permission("audit:read"):
        raise PermissionDenied  # the dashboard honours the role permissions the API checks
    filterset = AuditLogFilterSet(request.GET or None, queryset=AuditLog.objects.order_by("-timestamp"))
    queryset = filterset.qs if filterset.is_bound and filterset.is_valid() else AuditLog.objects.order_by("-timestamp")
    page = Paginator(queryset, 50).get_page(request.GET.get("page"))
    return render(request, "accounts/audit.html", {"page": page, "filters": request.GET})
