from django.db import migrations

# 002's manager role, as it was added (the catalogue may change later; this migration may not).
MANAGER = {
    "name": "Manager",
    "permissions": ["cameras:read", "cameras:write", "analytics:read", "users:read"],
    "description": "Manager access (002)",
}


def seed_manager(apps, schema_editor):
    Role = apps.get_model("accounts", "Role")
    Role.objects.get_or_create(id="ROLE-MANAGER", defaults=MANAGER)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0005_user_preference")]
    operations = [migrations.RunPython(seed_manager, migrations.RunPython.noop)]
