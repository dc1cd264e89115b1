"""Rocket.Chat's default roles and permissions, from fixtures/roles_and_permissions.json.

Only what is missing is created, so running this again (or a later migration that calls the same
function after the fixture grows) never undoes an administrator's changes.
"""

from django.db import migrations

from permissions.defaults import apply_defaults


def apply(apps, schema_editor):
    apply_defaults(
        apps.get_model("permissions", "Role"), apps.get_model("permissions", "Permission")
    )


class Migration(migrations.Migration):
    dependencies = [("permissions", "0001_initial")]

    operations = [migrations.RunPython(apply, migrations.RunPython.noop)]
