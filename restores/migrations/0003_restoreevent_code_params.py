# A restore's timeline event keeps what happened as a code and its values, put in words when shown.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('restores', '0002_restore_claim_delete_claim'),
    ]

    operations = [
        migrations.AddField(
            model_name='restoreevent',
            name='code',
            field=models.CharField(blank=True, max_length=32),
        ),
        migrations.AddField(
            model_name='restoreevent',
            name='params',
            field=models.JSONField(blank=True, default=dict),
        ),
    ]
