"""Rocket.Chat's settings (accounts.site_settings), each seeded at its default."""

from django.db import migrations, models


def seed(apps, schema_editor):
    """A row for each setting of the catalogue, at its default (a null value), so the admin
    lists them all; one that exists is left as it is: an administrator's value survives."""
    from accounts.services import setting_description
    from accounts.site_settings import CATALOGUE

    Setting = apps.get_model("accounts", "Setting")
    for entry in CATALOGUE:
        Setting.objects.get_or_create(pk=entry.id, defaults=setting_description(entry))


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="Setting",
            fields=[
                (
                    "id",
                    models.CharField(
                        max_length=100, primary_key=True, serialize=False, verbose_name="_id"
                    ),
                ),
                (
                    "value",
                    models.JSONField(
                        blank=True, help_text="Empty (null): the default, packageValue.", null=True
                    ),
                ),
                (
                    "type",
                    models.CharField(
                        choices=[
                            ("boolean", "Boolean"),
                            ("string", "String"),
                            ("int", "Int"),
                            ("select", "Select"),
                            ("language", "Language"),
                        ],
                        editable=False,
                        max_length=16,
                    ),
                ),
                (
                    "public",
                    models.BooleanField(
                        default=False,
                        editable=False,
                        help_text="Readable by anyone (settings.public).",
                    ),
                ),
                ("group", models.CharField(editable=False, max_length=64)),
                ("section", models.CharField(blank=True, editable=False, max_length=64)),
                (
                    "i18n_label",
                    models.CharField(editable=False, max_length=100, verbose_name="i18nLabel"),
                ),
                ("updated_at", models.DateTimeField(auto_now=True)),
            ],
            options={
                "ordering": ["id"],
            },
        ),
        migrations.RunPython(seed, migrations.RunPython.noop),
    ]
