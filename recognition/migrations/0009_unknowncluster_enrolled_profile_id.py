from django.db import migrations, models


def keep_profile_ids(apps, schema_editor):
    """Clusters enrolled before this column keep the id of the profile they still link to."""
    UnknownCluster = apps.get_model("recognition", "UnknownCluster")
    UnknownCluster.objects.filter(profile__isnull=False).update(enrolled_profile_id=models.F("profile_id"))


class Migration(migrations.Migration):
    dependencies = [
        ("recognition", "0008_unknown_clusters"),
    ]

    operations = [
        migrations.AddField(
            model_name="unknowncluster",
            name="enrolled_profile_id",
            field=models.UUIDField(blank=True, db_index=True, null=True),
        ),
        migrations.RunPython(keep_profile_ids, migrations.RunPython.noop),
    ]
