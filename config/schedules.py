"""Celery Beat schedules live in the database (django-celery-beat) so admins can edit them in Admin.

Apps create their schedules in data migrations through :func:`ensure_periodic_task`; an existing
schedule is left as the admin set it.
"""

from __future__ import annotations


def ensure_periodic_task(
    apps, *, name: str, task: str, every_seconds: int | None = None, crontab: dict | None = None, description: str = ""
) -> None:
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    if PeriodicTask.objects.filter(name=name).exists():
        return
    fields = {"name": name, "task": task, "description": description}
    if every_seconds is not None:
        IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
        fields["interval"], _ = IntervalSchedule.objects.get_or_create(every=every_seconds, period="seconds")
    else:
        CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
        spec = {
            "minute": "0",
            "hour": "*",
            "day_of_week": "*",
            "day_of_month": "*",
            "month_of_year": "*",
            "timezone": "UTC",
            **(crontab or {}),
        }
        fields["crontab"], _ = CrontabSchedule.objects.get_or_create(**spec)
    PeriodicTask.objects.create(**fields)


def remove_periodic_task(apps, name: str) -> None:
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=name).delete()
