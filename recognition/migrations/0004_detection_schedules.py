from django.db import migrations

from config.schedules import ensure_periodic_task, remove_periodic_task

SCANS = "Recognition scans"
PROVIDER = "Check detection provider"


def create(apps, schema_editor):
    ensure_periodic_task(
        apps,
        name=SCANS,
        task="recognition.dispatch_scans",
        every_seconds=5,
        description="Scan each camera marked for recognition once per its recognition interval.",
    )
    ensure_periodic_task(
        apps,
        name=PROVIDER,
        task="recognition.check_detection_provider",
        every_seconds=300,
        description="Health and latency of the detection provider; an alert while it is degraded or offline.",
    )


def remove(apps, schema_editor):
    remove_periodic_task(apps, SCANS)
    remove_periodic_task(apps, PROVIDER)


class Migration(migrations.Migration):
    dependencies = [
        ("recognition", "0003_face_service_sessions"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [migrations.RunPython(create, remove)]
