from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and login tokens"

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from accounts import realtime
        from accounts.authentication import authenticate_http_request
        from chat_project.access_cache import watch_connection
        from chat_project.http import ratelimit

        # Every write to what the access cache keeps is seen, whoever makes it.
        connection_created.connect(watch_connection, dispatch_uid="access_cache.watch")
        # The rate limits count a signed-in caller's requests under their own name.
        ratelimit.identify_callers_with(authenticate_http_request)
        realtime.register()
