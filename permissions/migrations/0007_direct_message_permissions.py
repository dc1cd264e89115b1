"""The direct-message permission delete-d, and any other
default added to the fixture since: the same apply_defaults as 0002, which only creates what is
missing."""

from django.db import migrations

from permissions.defaults import apply_defaults


def apply(apps, schema_editor):
    apply_defaults(
        apps.get_model("permissions", "Role"), apps.get_model("permissions", "Permission")
    )


class Migration(migrations.Migration):
    dependencies = [("permissions", "0006_settings_permissions")]

    operations = [migrations.RunPython(apply, migrations.RunPython.noop)]
