from django.db import migrations

from config.schedules import ensure_periodic_task, remove_periodic_task

NAME = "Check camera health"


def create(apps, schema_editor):
    ensure_periodic_task(
        apps,
        name=NAME,
        task="cameras.check_camera_health",
        every_seconds=120,
        description="Probe every enabled camera; offline for over 5 minutes raises an alert.",
    )


def remove(apps, schema_editor):
    remove_periodic_task(apps, NAME)


class Migration(migrations.Migration):
    dependencies = [("cameras", "0002_system_schedules"), ("django_celery_beat", "0019_alter_periodictasks_options")]
    operations = [migrations.RunPython(create, remove)]
