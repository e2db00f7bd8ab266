from django.db import migrations

from config.schedules import ensure_periodic_task, remove_periodic_task

NAME = "Count people from video"


def remove(apps, schema_editor):
    # Counted cameras are counted continuously by the vision workers; no Beat-dispatched runs any more.
    remove_periodic_task(apps, NAME)


def restore(apps, schema_editor):
    ensure_periodic_task(apps, name=NAME, task="counting.run_counting", every_seconds=60)


class Migration(migrations.Migration):
    dependencies = [("counting", "0002_video_counting_schedule")]
    operations = [migrations.RunPython(remove, restore)]
