from django.apps import AppConfig


class PermissionsConfig(AppConfig):
    name = "permissions"
    verbose_name = "Roles and permissions"

    def ready(self) -> None:
        from chat_project.http import ratelimit
        from permissions import realtime
        from permissions.checks import bypasses_rate_limits

        ratelimit.exempt_callers_when(bypasses_rate_limits)
        realtime.register()
