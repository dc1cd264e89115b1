from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and login tokens"

    def ready(self) -> None:
        from accounts import realtime
        from accounts.authentication import authenticate_http_request
        from chat_project.http import ratelimit

        # The rate limits count a signed-in caller's requests under their own name.
        ratelimit.identify_callers_with(authenticate_http_request)
        realtime.register()
