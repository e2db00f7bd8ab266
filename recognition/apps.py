from django.apps import AppConfig


class RecognitionConfig(AppConfig):
    name = "recognition"
    verbose_name = "Face recognition"

    def ready(self) -> None:
        from config import retention

        # Detections themselves are a built-in rule (001); these are the logs around them.
        retention.register(
            retention.RetentionRule(
                name="detection_events",
                model="recognition.DetectionEventLog",
                date_field="timestamp",
                setting="RETENTION_DETECTIONS_DAYS",
                default_days=90,
                description="detection pipeline runs (one per send-frame job or recognition scan)",
                on_delete=None,
            )
        )
        # A stopped face-service session holds its students' embeddings (biometric data sent by the
        # attendance backend): they go with the session once its period has passed.
        retention.register(
            retention.RetentionRule(
                name="face_service_sessions",
                model="recognition.RecognitionSession",
                date_field="stopped_at",
                setting="RETENTION_FACE_SERVICE_SESSIONS_DAYS",
                default_days=30,
                description="stopped face-service sessions with their students, results and deliveries",
                on_delete=None,
            )
        )
