"""The Django admin, on our own site (chat_project/admin.py)."""

from __future__ import annotations

from django.contrib.admin import apps


class ChatAdminConfig(apps.AdminConfig):
    default_site = "chat_project.admin.ChatAdminSite"
    # Listed by its path in INSTALLED_APPS; not the config of the `chat_project` entry itself.
    default = False
