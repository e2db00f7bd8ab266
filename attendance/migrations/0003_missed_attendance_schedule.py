from django.db import migrations

from config.schedules import ensure_periodic_task, remove_periodic_task

NAME = "Mark missed attendance"


def create(apps, schema_editor):
    ensure_periodic_task(
        apps,
        name=NAME,
        task="attendance.mark_missed",
        every_seconds=300,
        description="After each shift's end, log active enrolled people not seen that day as missed; "
        "refresh shift compliance.",
    )


def remove(apps, schema_editor):
    remove_periodic_task(apps, NAME)


class Migration(migrations.Migration):
    dependencies = [
        ("attendance", "0002_shift_weekdays"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [migrations.RunPython(create, remove)]
