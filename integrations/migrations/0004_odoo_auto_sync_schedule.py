from django.db import migrations

from config.schedules import ensure_periodic_task, remove_periodic_task

NAME = "Odoo auto-sync"


def create(apps, schema_editor):
    # 001: every 30 minutes; the task itself does nothing while the config's auto_sync is off, so the
    # switch lives in one place (PUT /odoo/config) and the schedule stays editable in Admin.
    ensure_periodic_task(
        apps,
        name=NAME,
        task="integrations.scheduled_odoo_sync",
        crontab={"minute": "*/30"},
        description="Send pending attendance logs to Odoo (hr.attendance) when auto-sync is on.",
    )


def remove(apps, schema_editor):
    remove_periodic_task(apps, NAME)


class Migration(migrations.Migration):
    dependencies = [("integrations", "0003_odoo"), ("django_celery_beat", "0019_alter_periodictasks_options")]
    operations = [migrations.RunPython(create, remove)]
