from django.db import migrations

from config.schedules import ensure_periodic_task, remove_periodic_task


def create(apps, schema_editor):
    ensure_periodic_task(
        apps,
        name="Collect system metrics",
        task="cameras.collect_system_metrics",
        every_seconds=60,
        description="Every minute: sample CPU, memory, disk, network and GPU, store them and cache the latest set.",
    )
    ensure_periodic_task(
        apps,
        name="Check platform services",
        task="cameras.check_services",
        every_seconds=60,
        description="Every minute: check worker, beat, database, Redis and storage and store their status.",
    )


def remove(apps, schema_editor):
    remove_periodic_task(apps, "Collect system metrics")
    remove_periodic_task(apps, "Check platform services")


class Migration(migrations.Migration):
    dependencies = [("cameras", "0001_initial"), ("django_celery_beat", "0019_alter_periodictasks_options")]
    operations = [migrations.RunPython(create, remove)]
