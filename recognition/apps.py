from django.apps import AppConfig


class RecognitionConfig(AppConfig):
    name = "recognition"
    verbose_name = "Face recognition"

    def ready(self) -> None:
        from cameras import summary as camera_summary
        from cameras.vision import registry as vision
        from config import retention
        from config.system import summary
        from recognition import figures, unknowns
        from recognition.face_service import vision as face_service_vision
        from recognition.signals import person_erased
        from recognition.vision import face_analyzer

        summary.contribute("registered_people", figures.registered_people)
        summary.contribute("people_detected_today", figures.people_detected_today)
        summary.contribute("unknown_face_alerts", figures.unknown_face_alerts)
        camera_summary.contribute(("detections_today", "unknown_faces"), figures.detections_per_camera)
        # Cameras with recognition on: face tracks on the vision workers' frames, one detection per track.
        vision.register_analyzer("faces", face_analyzer, order=50)

        retention.register(
            retention.RetentionRule(
                name="detections",
                model="recognition.Detection",
                date_field="timestamp",
                setting="RETENTION_DETECTIONS_DAYS",
                default_days=90,
                description="recognition detections",
                # 001 detections keep their thumbnail's storage key in a text column.
                on_delete=lambda rows: retention.delete_stored_files(rows, key_fields=("thumbnail",)),
            )
        )
        # The logs around detections:
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
        # Unknown-face clusters not seen within the period go with their sightings' vectors and crops (the
        # crops go with each sighting row: recognition.unknowns._crop_gone).
        retention.register(
            retention.RetentionRule(
                name="unknown_face_clusters",
                model="recognition.UnknownCluster",
                date_field="last_seen",
                setting="ARGUS_UNKNOWN_CLUSTER_RETENTION_DAYS",
                default_days=30,
                description="unknown-face clusters not seen within the period, with their crops and vectors",
                on_delete=unknowns.clusters_expired,
            )
        )
        # ...and in a cluster still seen, the sightings older than the period (after the clusters' rule).
        retention.register(
            retention.RetentionRule(
                name="unknown_face_sightings",
                model="recognition.UnknownSighting",
                date_field="seen_at",
                setting="ARGUS_UNKNOWN_CLUSTER_RETENTION_DAYS",
                default_days=30,
                description="unknown-face sightings (vector, crop) older than the period, in clusters still seen",
                on_delete=unknowns.sightings_expired,
            )
        )
        # Erasing a person erases the clusters enrolled into them.
        person_erased.connect(unknowns.erase_person_clusters, dispatch_uid="recognition.unknowns.erase")
        face_service_vision.register()  # 004 session cameras are watched by the vision workers
