from django.db import migrations

from config.schedules import ensure_periodic_task, remove_periodic_task

NAME = "Fail abandoned exports"


def create(apps, schema_editor):
    ensure_periodic_task(
        apps,
        name=NAME,
        task="attendance.sweep_abandoned_exports",
        every_seconds=300,
        description="Fail export jobs left processing by a worker that stopped mid-run (past the task's hard "
        "time limit), saying so, so no job stays processing for good.",
    )


def remove(apps, schema_editor):
    remove_periodic_task(apps, NAME)


class Migration(migrations.Migration):
    dependencies = [
        ("attendance", "0003_missed_attendance_schedule"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [migrations.RunPython(create, remove)]
