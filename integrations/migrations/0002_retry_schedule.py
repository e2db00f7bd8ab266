from django.db import migrations

from config.schedules import ensure_periodic_task, remove_periodic_task

NAME = "Retry due exporter deliveries"


def create(apps, schema_editor):
    ensure_periodic_task(
        apps,
        name=NAME,
        task="integrations.retry_due_deliveries",
        every_seconds=30,
        description="Deliver every due exporter outbox message: retries, lost tasks, peers that are back.",
    )


def remove(apps, schema_editor):
    remove_periodic_task(apps, NAME)


class Migration(migrations.Migration):
    dependencies = [("integrations", "0001_initial"), ("django_celery_beat", "0019_alter_periodictasks_options")]
    operations = [migrations.RunPython(create, remove)]
