from django.db import migrations

from config.schedules import ensure_periodic_task, remove_periodic_task

NAME = "Count people from video"


def create(apps, schema_editor):
    ensure_periodic_task(
        apps,
        name=NAME,
        task="counting.run_counting",
        every_seconds=60,
        description=(
            "Every minute: start a bounded counting run (COUNTING_VIDEO_RUN_SECONDS, default 300 s) for each "
            "enabled camera whose metadata marks counting enabled and that is not being counted already."
        ),
    )


def remove(apps, schema_editor):
    remove_periodic_task(apps, NAME)


class Migration(migrations.Migration):
    dependencies = [("counting", "0001_initial"), ("django_celery_beat", "0019_alter_periodictasks_options")]
    operations = [migrations.RunPython(create, remove)]
