"""The Celery app: Redis broker, Django settings under CELERY_*, tasks found in every app."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("argus")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
