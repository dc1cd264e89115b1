from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and login tokens"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from accounts import realtime, schema  # noqa: F401 - schema: drf-spectacular's extension
        from accounts.authentication import authenticate_http_request
        from accounts.models import LoginToken, User
        from accounts.tokens import close_sockets_of_deleted, end_logins_after_save
        from chat_project.http import ratelimit

        # Revocation, whoever writes the rows: the API's services, the Django admin,
        # `manage.py changepassword`, a cascade (accounts/tokens.py says why on the models).
        post_save.connect(end_logins_after_save, sender=User, dispatch_uid="accounts.revoke")
        post_delete.connect(
            close_sockets_of_deleted, sender=LoginToken, dispatch_uid="accounts.revoked"
        )

        # The rate limits count a signed-in caller's requests under their own name.
        ratelimit.identify_callers_with(authenticate_http_request)
        realtime.register()


class GuardedAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin, with accounts.admin_site.GuardedAdminSite as `admin.site`: its
    password checks go through the login guard. INSTALLED_APPS names it in the admin's place."""

    default = False  # "accounts" in INSTALLED_APPS stays AccountsConfig
    default_site = "accounts.admin_site.GuardedAdminSite"
