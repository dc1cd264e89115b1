from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and login tokens"

    def ready(self) -> None:
        from accounts import realtime, schema  # noqa: F401 - schema: drf-spectacular's extension
        from accounts.authentication import authenticate_http_request
        from chat_project.http import ratelimit

        # The rate limits count a signed-in caller's requests under their own name.
        ratelimit.identify_callers_with(authenticate_http_request)
        realtime.register()


class GuardedAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin, with accounts.admin_site.GuardedAdminSite as `admin.site`: its
    password checks go through the login guard. INSTALLED_APPS names it in the admin's place."""

    default = False  # "accounts" in INSTALLED_APPS stays AccountsConfig
    default_site = "accounts.admin_site.GuardedAdminSite"
