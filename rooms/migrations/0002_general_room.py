"""The default room every server starts with: id "GENERAL", name "general", public, default.

Created only if missing and never changed afterwards, so an administrator's edits survive a later
migrate. Users who already exist join it.
"""

from django.db import migrations
from django.utils import timezone


def create_general_room(apps, schema_editor):
    Room = apps.get_model("rooms", "Room")
    Subscription = apps.get_model("rooms", "Subscription")
    User = apps.get_model("accounts", "User")
    room, created = Room.objects.get_or_create(
        id="GENERAL", defaults={"name": "general", "t": "c", "is_default": True}
    )
    if created:
        now = timezone.now()
        Subscription.objects.bulk_create(
            [
                Subscription(room=room, user_id=pk, ts=now)
                for pk in User.objects.values_list("pk", flat=True)
            ],
            ignore_conflicts=True,
        )


class Migration(migrations.Migration):
    dependencies = [
        ("rooms", "0001_initial"),
        ("accounts", "0001_initial"),
    ]

    operations = [migrations.RunPython(create_general_room, migrations.RunPython.noop)]
