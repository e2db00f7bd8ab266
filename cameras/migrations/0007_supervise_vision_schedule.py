from django.db import migrations

from config.schedules import ensure_periodic_task, remove_periodic_task

NAME = "Supervise vision workers"


def create(apps, schema_editor):
    ensure_periodic_task(
        apps,
        name=NAME,
        task="cameras.supervise_vision",
        every_seconds=30,
        description="Every camera with recognition or counting on must have a vision worker with frames; "
        "one alert per camera when it has had none for a minute, resolved when frames flow again.",
    )


def remove(apps, schema_editor):
    remove_periodic_task(apps, NAME)


class Migration(migrations.Migration):
    dependencies = [("cameras", "0006_camera_analysis_settings"), ("django_celery_beat", "0019_alter_periodictasks_options")]
    operations = [migrations.RunPython(create, remove)]
