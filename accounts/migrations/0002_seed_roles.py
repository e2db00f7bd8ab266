from django.db import migrations

from accounts.permissions_catalogue import SEEDED_ROLES


def seed_roles(apps, schema_editor):
    Role = apps.get_model("accounts", "Role")
    for role in SEEDED_ROLES:
        Role.objects.update_or_create(id=role["id"], defaults={k: v for k, v in role.items() if k != "id"})


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]
    operations = [migrations.RunPython(seed_roles, migrations.RunPython.noop)]
