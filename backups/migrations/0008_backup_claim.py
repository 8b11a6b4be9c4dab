# Each submit claim gets an id of its own (services/leases.py). A nullable column without a
# default: PostgreSQL adds it without rewriting the table.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('backups', '0007_backup_name_upper'),
    ]

    operations = [
        migrations.AddField(
            model_name='backup',
            name='claim',
            field=models.UUIDField(blank=True, editable=False, null=True),
        ),
    ]
