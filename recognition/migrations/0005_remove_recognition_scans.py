from django.db import migrations

from config.schedules import ensure_periodic_task, remove_periodic_task

SCANS = "Recognition scans"


def remove(apps, schema_editor):
    # Cameras with recognition on are watched continuously by the vision workers (recognition.vision).
    remove_periodic_task(apps, SCANS)


def restore(apps, schema_editor):
    ensure_periodic_task(
        apps,
        name=SCANS,
        task="recognition.dispatch_scans",
        every_seconds=5,
        description="Scan each camera marked for recognition once per its recognition interval.",
    )


class Migration(migrations.Migration):
    dependencies = [("recognition", "0004_detection_schedules")]
    operations = [migrations.RunPython(remove, restore)]
