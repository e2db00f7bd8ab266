from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.http import HttpResponse

from accounts import services
from accounts.models import ApiKey, AuditLog, Role, User, UserPreference, UserSession
from accounts.permissions_catalogue import PERMISSIONS
from accounts.tokens import revoke_all, revoke_session
from config.api.contracts import ApiError
from config.clients import client_ip

# The admin is Argus's, not "Django administration".
admin.site.site_header = "Argus administration"
admin.site.site_title = "Argus admin"
admin.site.index_title = "Data and settings"


class RoleForm(forms.ModelForm):
    class Meta:
        model = Role
        fields = ["id", "name", "permissions", "description"]

    def clean_permissions(self):
        permissions = self.cleaned_data["permissions"]
        if not isinstance(permissions, list) or not all(isinstance(p, str) for p in permissions):
            raise forms.ValidationError("A list of permission strings")
        unknown = [p for p in permissions if p != "*" and p not in PERMISSIONS and not p.endswith(":*")]
        if unknown:
            raise forms.ValidationError(f"Unknown permissions: {', '.join(unknown)}")
        return permissions


@admin.register(Role)
class RoleAdmin(admin.ModelAdmin):
    form = RoleForm
    list_display = ["id", "name", "permission_list", "user_count", "description"]
    search_fields = ["id", "name", "description"]

    @admin.display(description="Permissions")
    def permission_list(self, role: Role) -> str:
        return ", ".join(role.permissions)

    @admin.display(description="Users")
    def user_count(self, role: Role) -> int:
        return role.users.count()


class ArgusUserCreationForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ["email", "name", "role"]


class ArgusUserChangeForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    add_form = ArgusUserCreationForm
    form = ArgusUserChangeForm
    ordering = ["email"]
    list_display = ["email", "name", "role", "status", "is_staff", "last_active", "created_at"]
    list_filter = ["role", "status", "is_staff", "is_superuser"]
    search_fields = ["email", "name"]
    readonly_fields = ["last_active", "last_login", "created_at", "updated_at", "version"]
    actions = ["suspend_users", "end_sessions"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Profile", {"fields": ["name", "role", "status"]}),
        ("Admin access", {"fields": ["is_staff", "is_superuser"]}),
        ("Activity", {"fields": ["last_active", "last_login", "created_at", "updated_at", "version"]}),
    ]
    add_fieldsets = [
        (None, {"classes": ["wide"], "fields": ["email", "name", "role", "password1", "password2"]}),
    ]
    filter_horizontal = []

    @admin.action(description="Suspend selected users and end their sessions")
    def suspend_users(self, request, queryset):
        for user in queryset.exclude(pk=request.user.pk):
            user.status = "suspended"
            user.save(update_fields=["status", "updated_at"])
            revoke_all(user, reason="suspended")
            # Actions write no LogEntry of their own, and the audit trail is fed from LogEntry.
            self.log_change(request, user, "Suspended and signed out")
        self.message_user(request, "Suspended.", messages.SUCCESS)

    @admin.action(description="End all sessions of selected users")
    def end_sessions(self, request, queryset):
        ended = 0
        for user in queryset:
            ended += revoke_all(user, reason="admin")
            self.log_change(request, user, "Ended all sessions")
        self.message_user(request, f"Ended {ended} sessions.", messages.SUCCESS)


@admin.register(UserSession)
class UserSessionAdmin(admin.ModelAdmin):
    list_display = ["user", "created_at", "expires_at", "revoked_at", "revoked_reason", "ip_address"]
    list_filter = ["revoked_reason", ("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["user__email", "ip_address"]
    readonly_fields = [f.name for f in UserSession._meta.fields]
    actions = ["revoke_sessions"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description="Revoke selected sessions")
    def revoke_sessions(self, request, queryset):
        sessions = list(queryset.filter(revoked_at__isnull=True))
        for session in sessions:
            revoke_session(session, reason="admin")  # not a bare update: its access tokens must end too
            self.log_change(request, session, "Revoked")
        self.message_user(request, f"Revoked {len(sessions)} sessions.", messages.SUCCESS)


def scope_choices(current: list[str] | None = None) -> list[tuple[str, str]]:
    """The catalogue's permissions as checkbox choices (what each grants beside its name), after "everything",
    plus any wildcard (``resource:*``) a key already holds, so editing it does not drop it."""
    choices = [("*", "* — everything")]
    choices += [(name, f"{name} — {meaning}") for name, meaning in PERMISSIONS.items()]
    known = {value for value, _ in choices}
    choices += [(scope, f"{scope} — every {scope[:-2]} action") for scope in current or [] if scope not in known]
    return choices


class ApiKeyForm(forms.ModelForm):
    # Ticked from the permissions catalogue: no JSON to type, no scope that does not exist.
    scopes = forms.MultipleChoiceField(
        choices=scope_choices, widget=forms.CheckboxSelectMultiple, help_text="What the key may do."
    )

    class Meta:
        model = ApiKey
        fields = ["name", "scopes", "tier", "is_active", "expires_at"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        current = [scope for scope in (self.instance.scopes or []) if isinstance(scope, str)]
        self.fields["scopes"].choices = scope_choices([s for s in current if s.endswith(":*")])


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    form = ApiKeyForm
    list_display = ["name", "key_prefix", "scope_list", "tier", "is_active", "expires_at", "last_used_at", "created_by"]
    list_filter = ["tier", "is_active"]
    search_fields = ["name", "key_prefix"]
    readonly_fields = ["key_prefix", "last_used_at", "created_by", "created_at"]
    actions = ["deactivate_keys"]

    @admin.display(description="Scopes")
    def scope_list(self, key: ApiKey) -> str:
        return ", ".join(key.scopes)

    def save_model(self, request, obj: ApiKey, form, change):
        if not change:
            raw = ApiKey.generate()
            obj.set_key(raw)
            obj.created_by = request.user
            # The only time the key is ever shown: only its hash is stored.
            self.message_user(
                request,
                f"API key for {obj.name}: {raw} — copy it now, it will not be shown again.",
                messages.WARNING,
            )
        super().save_model(request, obj, form, change)

    @admin.action(description="Deactivate selected keys")
    def deactivate_keys(self, request, queryset):
        keys = list(queryset.filter(is_active=True))
        for key in keys:
            key.is_active = False
            key.save(update_fields=["is_active"])
            self.log_change(request, key, "Deactivated")
        self.message_user(request, f"Deactivated {len(keys)} keys.", messages.SUCCESS)


@admin.register(AuditLog)
class AuditLogAdmin(admin.ModelAdmin):
    list_display = [
        "timestamp",
        "actor",
        "actor_role",
        "action",
        "resource_type",
        "resource_id",
        "severity",
        "ip_address",
    ]
    list_filter = ["severity", "resource_type", "actor_role", ("timestamp", admin.DateFieldListFilter)]
    search_fields = ["actor", "action", "message", "resource_id", "request_id"]
    date_hierarchy = "timestamp"
    readonly_fields = [f.name for f in AuditLog._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # the trail is pruned by the retention job only


@admin.register(UserPreference)
class UserPreferenceAdmin(admin.ModelAdmin):
    list_display = ["user", "theme", "grid_mode", "auto_rotate", "language", "timezone", "updated_at"]
    list_filter = ["theme", "grid_mode", "language"]
    search_fields = ["user__email", "user__name", "timezone"]
    raw_id_fields = ["user"]
    readonly_fields = ["created_at", "updated_at"]


# --- The Admin's sign-in: the same rate limit and lockout as the dashboard and the API -------------------

_admin_login = admin.site.login


def guarded_admin_login(request, extra_context=None):
    if request.method != "POST":
        return _admin_login(request, extra_context)
    email = request.POST.get("username", "")
    try:
        services.check_sign_in_allowed(client_ip(request) or "unknown", email)
    except ApiError as error:
        response = HttpResponse(error.text(), status=429, content_type="text/plain; charset=utf-8")
        response["Retry-After"] = error.headers.get("Retry-After", "60")
        return response
    response = _admin_login(request, extra_context)
    if response.status_code == 200:  # the form came back: the credentials were wrong
        services.record_failed_sign_in(email)
    elif request.user.is_authenticated:
        services.record_sign_in(request.user, "admin")
    return response


admin.site.login = guarded_admin_login
