# Each submit claim and each delete claim gets an id of its own (services/leases.py). Nullable
# columns without a default: PostgreSQL adds them without rewriting the table.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('restores', '0001_initial'),
    ]

    operations = [
        migrations.AddField(
            model_name='restore',
            name='claim',
            field=models.UUIDField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name='restore',
            name='delete_claim',
            field=models.UUIDField(blank=True, editable=False, null=True),
        ),
    ]
