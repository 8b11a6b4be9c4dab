# Accounts still signing in with an initial password an admin chose lose that password, then the
# model that marked them goes. Written by hand.

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import migrations
from django.utils import timezone


def retire_initial_passwords(apps, schema_editor):
    """The admin who chose such a password could still sign in as its owner, in every project
    the owner belongs to: it becomes unusable. The owner gets in again by a new invitation to
    their address or a password a site administrator sets (Django's admin); their sessions end
    now, as the password they were opened with is gone. Each account is noted in the trail."""
    InitialPassword = apps.get_model("access", "InitialPassword")
    AuditEvent = apps.get_model("access", "AuditEvent")
    User = apps.get_model(settings.AUTH_USER_MODEL)
    now = timezone.now()
    for user in User.objects.filter(pk__in=InitialPassword.objects.values("user_id")).order_by("pk"):
        user.password = make_password(None)
        user.save(update_fields=["password"])
        AuditEvent.objects.create(
            at=now,
            action="password_changed",
            target=user.username,
            target_user_id=user.pk,
            details={"initial_password_retired": True},
        )


class Migration(migrations.Migration):

    dependencies = [
        ("access", "0004_invitations"),
    ]

    operations = [
        migrations.RunPython(retire_initial_passwords, migrations.RunPython.noop, elidable=False),
        migrations.DeleteModel(name="InitialPassword"),
    ]
