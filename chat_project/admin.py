"""The Django admin's site: named for the product, its "View site" link to the page at `/`.

accounts.admin_site.GuardedAdminSite builds on it (its password checks behind the login guard),
and accounts.apps.GuardedAdminConfig makes that `admin.site`, where the apps register models.
"""

from __future__ import annotations

from django.contrib import admin

from chat_project import PRODUCT_NAME


class ChatAdminSite(admin.AdminSite):
    site_header = f"{PRODUCT_NAME} administration"
    site_title = f"{PRODUCT_NAME} admin"
    index_title = "Users, rooms, roles and permissions"
    site_url = "/"  # chat_project.http.home: name, version, health, URLs
