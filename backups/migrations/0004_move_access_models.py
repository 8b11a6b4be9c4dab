# Written by hand: cloud projects, memberships, initial passwords and the audit trail move to
# the `access` app (access/0001 takes them into its state, under their existing tables).
#
# Here `backups` lets go of them in the migration state only: no table is created, renamed or
# dropped, and no row of them changes. The one database change is in django_content_type:
# the four models' rows are relabelled from `backups` to `access`, so permissions granted on
# them and admin log entries that point at them keep pointing at the same models.

import django.db.models.deletion
from django.db import migrations, models

MOVED = ["cloudproject", "membership", "initialpassword", "auditevent"]


def relabel_content_types(from_app, to_app):
    def relabel(apps, schema_editor):
        ContentType = apps.get_model("contenttypes", "ContentType")
        db = schema_editor.connection.alias
        for model in MOVED:
            if not ContentType.objects.using(db).filter(app_label=to_app, model=model).exists():
                ContentType.objects.using(db).filter(app_label=from_app, model=model).update(app_label=to_app)

    return relabel


class Migration(migrations.Migration):

    dependencies = [
        ("access", "0001_initial"),
        ("backups", "0003_backup_name_trigram"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="instance",
                    name="project",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="instances",
                        to="access.cloudproject",
                    ),
                ),
                migrations.RemoveField(model_name="membership", name="project"),
                migrations.RemoveField(model_name="membership", name="user"),
                migrations.RemoveField(model_name="initialpassword", name="set_by"),
                migrations.RemoveField(model_name="initialpassword", name="user"),
                migrations.DeleteModel(name="AuditEvent"),
                migrations.DeleteModel(name="Membership"),
                migrations.DeleteModel(name="InitialPassword"),
                migrations.DeleteModel(name="CloudProject"),
            ],
            database_operations=[
                migrations.RunPython(
                    relabel_content_types("backups", "access"),
                    relabel_content_types("access", "backups"),
                    elidable=False,
                ),
            ],
        ),
    ]
