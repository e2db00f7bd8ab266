from django.conf import settings
from django.db import migrations

from config.schedules import ensure_periodic_task, remove_periodic_task

NAME = "Clean up old data"


def create(apps, schema_editor):
    ensure_periodic_task(
        apps,
        name=NAME,
        task="config.cleanup_old_data",
        # 02:00 in the site's time zone (ARGUS_TIME_ZONE when migrated); editable in Admin afterwards.
        crontab={"minute": "0", "hour": "2", "timezone": settings.TIME_ZONE},
        description="Daily: delete detections, audit entries and system metrics past their retention "
        "period and expired exports with their files (settings ARGUS_RETENTION_*).",
    )


def remove(apps, schema_editor):
    remove_periodic_task(apps, NAME)


class Migration(migrations.Migration):
    dependencies = [("config", "0001_pgvector"), ("django_celery_beat", "0019_alter_periodictasks_options")]
    operations = [migrations.RunPython(create, remove)]
