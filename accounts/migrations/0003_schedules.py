from django.db import migrations

from config.schedules import ensure_periodic_task, remove_periodic_task


def create(apps, schema_editor):
    ensure_periodic_task(
        apps,
        name="Purge expired refresh sessions",
        task="accounts.purge_expired_sessions",
        crontab={"minute": "30", "hour": "3"},
        description="Daily: delete refresh-token sessions that expired over a day ago.",
    )


def remove(apps, schema_editor):
    remove_periodic_task(apps, "Purge expired refresh sessions")


class Migration(migrations.Migration):
    dependencies = [("accounts", "0002_seed_roles"), ("django_celery_beat", "0019_alter_periodictasks_options")]
    operations = [migrations.RunPython(create, remove)]
