from django.apps import AppConfig
from django.db.backends.signals import connection_created


class AccessCacheConfig(AppConfig):
    """Watches every connection's writes to the tables kept answers are read from."""

    name = "chat_project.access_cache"
    label = "access_cache"
    verbose_name = "Access cache"

    def ready(self) -> None:
        from chat_project.access_cache import writes

        # Every write to what the access cache keeps is seen, whoever makes it.
        connection_created.connect(writes.watch_connection, dispatch_uid="access_cache.watch")
