# System health moves from the cameras app to the platform (config): the tables cameras 0001 created are
# taken over as they are, then renamed to this app's names; their content types (and so the permissions
# granted on them) follow, and the Beat schedules name the tasks by their new names.
import uuid

import django.utils.timezone
from django.db import migrations, models

MODELS = ("systemmetric", "systemservice", "bannermessage")
TASKS = {"cameras.collect_system_metrics": "config.collect_system_metrics", "cameras.check_services": "config.check_services"}


def move_content_types_and_tasks(apps, schema_editor):
    content_type = apps.get_model("contenttypes", "ContentType")
    for model in MODELS:
        if not content_type.objects.filter(app_label="config", model=model).exists():
            content_type.objects.filter(app_label="cameras", model=model).update(app_label="config")
    periodic_task = apps.get_model("django_celery_beat", "PeriodicTask")
    for old, new in TASKS.items():
        periodic_task.objects.filter(task=old).update(task=new)


def move_back(apps, schema_editor):
    content_type = apps.get_model("contenttypes", "ContentType")
    for model in MODELS:
        if not content_type.objects.filter(app_label="cameras", model=model).exists():
            content_type.objects.filter(app_label="config", model=model).update(app_label="cameras")
    periodic_task = apps.get_model("django_celery_beat", "PeriodicTask")
    for old, new in TASKS.items():
        periodic_task.objects.filter(task=new).update(task=old)


class Migration(migrations.Migration):
    dependencies = [
        ("config", "0003_usage_minute"),
        ("cameras", "0005_system_models_to_config"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="SystemMetric",
                    fields=[
                        ("id", models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                        ("category", models.CharField(db_index=True, help_text="cpu, gpu, memory, disk, network", max_length=50)),
                        ("label", models.CharField(max_length=255)),
                        ("value", models.FloatField()),
                        ("unit", models.CharField(blank=True, max_length=20)),
                        ("limit_value", models.FloatField(blank=True, null=True)),
                        ("timestamp", models.DateTimeField(db_index=True, default=django.utils.timezone.now)),
                    ],
                    options={"ordering": ["-timestamp"], "db_table": "cameras_systemmetric"},
                ),
                migrations.CreateModel(
                    name="SystemService",
                    fields=[
                        ("id", models.CharField(max_length=50, primary_key=True, serialize=False)),
                        ("name", models.CharField(max_length=255)),
                        ("status", models.CharField(default="stopped", help_text="running, degraded, stopped", max_length=20)),
                        ("version", models.CharField(blank=True, max_length=50)),
                        ("uptime", models.CharField(blank=True, max_length=100)),
                        ("detail", models.TextField(blank=True)),
                        ("last_restart", models.DateTimeField(blank=True, null=True)),
                        ("last_checked", models.DateTimeField(blank=True, null=True)),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("updated_at", models.DateTimeField(auto_now=True)),
                    ],
                    options={"ordering": ["id"], "db_table": "cameras_systemservice"},
                ),
                migrations.CreateModel(
                    name="BannerMessage",
                    fields=[
                        ("id", models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                        ("message", models.TextField()),
                        ("level", models.CharField(default="info", help_text="info, warning, critical", max_length=20)),
                        ("active", models.BooleanField(default=True)),
                        ("starts_at", models.DateTimeField(default=django.utils.timezone.now)),
                        ("expires_at", models.DateTimeField(blank=True, null=True)),
                        ("created_by", models.CharField(blank=True, max_length=255)),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                    ],
                    options={"ordering": ["-created_at"], "db_table": "cameras_bannermessage"},
                ),
            ],
            database_operations=[],
        ),
        migrations.AlterModelTable(name="SystemMetric", table=None),
        migrations.AlterModelTable(name="SystemService", table=None),
        migrations.AlterModelTable(name="BannerMessage", table=None),
        migrations.RunPython(move_content_types_and_tasks, move_back),
    ]
