"""Admin for face profiles; images and embeddings are managed through the profile (and the API)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.utils.html import format_html

from config.api.contracts import ApiError
from config.storage import signed_url
from recognition import enrolment, feedback, unknown_review
from recognition.choices import UnknownClusterStatus
from recognition.models import (
    CallbackDelivery,
    Detection,
    DetectionEventLog,
    DetectionProviderConfig,
    FaceEmbedding,
    FaceImage,
    FaceProfile,
    MatchRejection,
    RecognitionSession,
    SessionCamera,
    UnknownCluster,
    UnknownSighting,
)


class FaceImageInline(admin.TabularInline):
    model = FaceImage
    extra = 0
    can_delete = False  # deleting an image deletes its file too: done through the API or the profile
    fields = ["preview", "width", "height", "quality_score", "created_at"]
    readonly_fields = fields

    @admin.display(description="image")
    def preview(self, image: FaceImage) -> str:
        return format_html('<img src="{}" style="max-height:80px">', signed_url(image.storage_key))

    @admin.display(description="quality")
    def quality_score(self, image: FaceImage):
        return (image.quality or {}).get("score")

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(FaceProfile)
class FaceProfileAdmin(admin.ModelAdmin):
    list_display = ["employee_id", "name", "department", "status", "created_at"]
    list_filter = ["status", "department"]
    search_fields = ["employee_id", "name", "department"]
    readonly_fields = ["id", "created_at", "updated_at"]
    inlines = [FaceImageInline]

    def delete_model(self, request, obj: FaceProfile) -> None:
        # Through the service: files deleted and the deletion audited, as from the API.
        enrolment.delete_profile(obj, by=enrolment.Editor(getattr(request.user, "email", str(request.user))))

    def delete_queryset(self, request, queryset) -> None:
        for profile in queryset:
            self.delete_model(request, profile)


@admin.register(FaceEmbedding)
class FaceEmbeddingAdmin(admin.ModelAdmin):
    """Read-only: which images have embeddings under which model (the vectors themselves are not shown)."""

    list_display = ["id", "profile", "image", "model", "dimension", "created_at"]
    list_filter = ["model"]
    fields = ["profile", "image", "model", "dimension", "created_at"]
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows the pipeline writes: admins look, filter and delete, but do not invent them."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Detection)
class DetectionAdmin(ReadOnlyAdmin):
    list_display = ["timestamp", "camera", "person_id", "name", "status", "confidence", "track_id", "source"]
    list_filter = ["status", "source", "camera"]
    search_fields = ["person_id", "name", "track_id"]
    date_hierarchy = "timestamp"
    list_select_related = ["camera"]
    actions = ["reject_match"]

    @admin.action(description="Wrong person: reject the match of the selected detections")
    def reject_match(self, request, queryset) -> None:
        editor = enrolment.Editor(
            getattr(request.user, "email", str(request.user)), getattr(request.user, "role_id", "") or "", "admin"
        )
        rejected = 0
        for detection in queryset.select_related("profile", "event"):
            try:
                feedback.reject_detection(detection, by=editor, user=request.user)
            except ApiError as error:
                self.message_user(request, f"{detection}: {error.text()}", messages.WARNING)
            else:
                rejected += 1
        if rejected:
            self.message_user(request, f"Rejected {rejected} match{'es' if rejected != 1 else ''}.", messages.SUCCESS)


@admin.register(MatchRejection)
class MatchRejectionAdmin(ReadOnlyAdmin):
    """Operators' rejections (the vectors are not shown); deleting one lets the profile match that face again."""

    list_display = ["created_at", "profile", "detection", "distance", "margin", "threshold", "rejected_by_label"]
    list_filter = ["model"]
    search_fields = ["profile__employee_id", "profile__name", "rejected_by_label"]
    fields = ["profile", "detection", "model", "distance", "margin", "threshold", "rejected_by_label", "created_at"]
    readonly_fields = fields
    list_select_related = ["profile"]


@admin.register(DetectionEventLog)
class DetectionEventLogAdmin(ReadOnlyAdmin):
    list_display = ["timestamp", "camera", "status", "trigger", "latency_ms", "error_message"]
    list_filter = ["status", "trigger", "camera"]
    date_hierarchy = "timestamp"
    list_select_related = ["camera"]


@admin.register(DetectionProviderConfig)
class DetectionProviderConfigAdmin(admin.ModelAdmin):
    """The singleton provider configuration; the key is never shown (leave it empty to keep the stored one)."""

    list_display = ["provider_name", "kind", "endpoint", "enabled", "status", "last_heartbeat", "average_latency_ms"]
    readonly_fields = ["status", "last_heartbeat", "average_latency_ms", "last_error", "version"]
    exclude = ["api_key"]

    def has_add_permission(self, request) -> bool:
        return not DetectionProviderConfig.objects.exists()

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


# --- Face-service (004) sessions: what the attendance backend started, and what was sent back ------------


class SessionCameraInline(admin.TabularInline):
    model = SessionCamera
    extra = 0
    can_delete = False
    fields = ["camera_id", "name", "status", "error", "scans", "failed_scans", "faces_detected", "faces_matched"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class CallbackDeliveryInline(admin.TabularInline):
    model = CallbackDelivery
    extra = 0
    can_delete = False
    fields = ["created_at", "status", "size", "attempts", "http_status", "last_error", "delivered_at"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(RecognitionSession)
class RecognitionSessionAdmin(ReadOnlyAdmin):
    """Sessions are started and stopped through the face-service API; Admin shows how they went."""

    list_display = ["slot_id", "room_id", "status", "total_students", "active_cameras", "failed_cameras", "started_at"]
    list_filter = ["status"]
    search_fields = ["slot_id", "room_id"]
    date_hierarchy = "started_at"
    exclude = ["callback_url"]
    inlines = [SessionCameraInline, CallbackDeliveryInline]


# --- Unknown faces: the review queue's clusters (recognition.unknowns) -------------------------------------


def _admin_editor(request) -> enrolment.Editor:
    return enrolment.Editor(
        getattr(request.user, "email", str(request.user)), getattr(request.user, "role_id", "") or "", surface="admin"
    )


class UnknownSightingInline(admin.TabularInline):
    model = UnknownSighting
    extra = 0
    can_delete = False
    fields = ["preview", "seen_at", "camera", "quality", "distance"]
    readonly_fields = fields
    ordering = ["-quality"]

    @admin.display(description="crop")
    def preview(self, sighting: UnknownSighting) -> str:
        if not sighting.storage_key:
            return "—"
        return format_html('<img src="{}" style="max-height:80px">', signed_url(sighting.storage_key))

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(UnknownCluster)
class UnknownClusterAdmin(ReadOnlyAdmin):
    """Clusters of unknown faces: look, ignore, delete (crops and vectors with them). Enrolling needs a name and
    an employee id, so it is done from the dashboard or the API."""

    list_display = ["id", "status", "count", "first_seen", "last_seen", "employee_id", "model"]
    list_filter = ["status", "model"]
    search_fields = ["id", "employee_id"]
    date_hierarchy = "last_seen"
    exclude = ["centroid"]
    readonly_fields = ["status", "count", "first_seen", "last_seen", "cameras", "profile", "employee_id", "alerted_at"]
    inlines = [UnknownSightingInline]
    actions = ["ignore_selected", "delete_selected_with_crops"]

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # the service's deletion instead: audited
        return actions

    @admin.action(description="Ignore the selected unknown faces (no more alerts)", permissions=["delete"])
    def ignore_selected(self, request, queryset) -> None:
        done = 0
        for cluster in queryset.exclude(status=UnknownClusterStatus.ENROLLED):
            unknown_review.ignore(cluster, by=_admin_editor(request))
            done += 1
        self.message_user(request, f"{done} unknown face(s) ignored.")

    @admin.action(description="Delete the selected unknown faces with their crops and vectors", permissions=["delete"])
    def delete_selected_with_crops(self, request, queryset) -> None:
        clusters = list(queryset)
        for cluster in clusters:
            unknown_review.delete_cluster(cluster, by=_admin_editor(request))
        self.message_user(request, f"{len(clusters)} unknown face(s) deleted.")

    def delete_model(self, request, obj: UnknownCluster) -> None:
        unknown_review.delete_cluster(obj, by=_admin_editor(request))

    def delete_queryset(self, request, queryset) -> None:
        for cluster in queryset:
            self.delete_model(request, cluster)
