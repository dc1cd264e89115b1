from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and login tokens"

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from chat_project.access_cache import watch_connection

        # Every write to what the access cache keeps is seen, whoever makes it.
        connection_created.connect(watch_connection, dispatch_uid="access_cache.watch")
