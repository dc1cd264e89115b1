from django.apps import AppConfig, apps
from django.core import checks
from django.db.backends.signals import connection_created

from chat_project.access_cache import writes
from chat_project.access_cache.declarations import check_declarations, watch_list


class AccessCacheConfig(AppConfig):
    """Watches every connection's writes, to the tables the models declare (declarations.py),
    and checks that every model declares whether it is watched."""

    name = "chat_project.access_cache"
    label = "access_cache"
    verbose_name = "Access cache"

    def ready(self) -> None:
        # Every model of every app is imported by now: the watch list is read from them through
        # the registry, without importing any app.
        writes.watch(watch_list(apps.get_models(include_auto_created=True)))
        checks.register(check_declarations, checks.Tags.models)
        # Every write to what the access cache keeps is seen, whoever makes it.
        connection_created.connect(writes.watch_connection, dispatch_uid="access_cache.watch")
