from django.db import migrations

from config.schedules import ensure_periodic_task, remove_periodic_task

NAME = "Evaluate platform alert rules"


def create(apps, schema_editor):
    ensure_periodic_task(
        apps,
        name=NAME,
        task="cameras.evaluate_platform_alerts",
        every_seconds=60,
        description="002's alerting rules over the last 5 minutes: API error rate over 10 %, average response "
        "time over 5 s, an open circuit breaker; each raises one alert and resolves it when it no longer holds.",
    )


def remove(apps, schema_editor):
    remove_periodic_task(apps, NAME)


class Migration(migrations.Migration):
    dependencies = [("cameras", "0007_supervise_vision_schedule"), ("django_celery_beat", "0019_alter_periodictasks_options")]
    operations = [migrations.RunPython(create, remove)]
