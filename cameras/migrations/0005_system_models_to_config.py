# System health is the platform's, not the cameras': its tables move to the config app
# (config 0004 takes them over and renames them). Only Django's state changes here.
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("cameras", "0004_camera_recognition_loop")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="SystemMetric"),
                migrations.DeleteModel(name="SystemService"),
                migrations.DeleteModel(name="BannerMessage"),
            ],
            database_operations=[],
        )
    ]
