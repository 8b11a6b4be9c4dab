# A timeline event keeps what happened as a code and its values, put in words when shown.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('backups', '0008_backup_claim'),
    ]

    operations = [
        migrations.AddField(
            model_name='backupevent',
            name='code',
            field=models.CharField(blank=True, max_length=32),
        ),
        migrations.AddField(
            model_name='backupevent',
            name='params',
            field=models.JSONField(blank=True, default=dict),
        ),
    ]
