"""Recognition Celery tasks."""

from recognition.face_service import tasks as face_service_tasks  # noqa: F401  (registers the 004 tasks)
