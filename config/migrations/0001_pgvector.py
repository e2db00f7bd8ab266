from django.db import migrations
from pgvector.django import VectorExtension


class Migration(migrations.Migration):
    """pgvector, for face embeddings (recognition) and any other similarity search."""

    initial = True
    dependencies = []
    operations = [VectorExtension()]
