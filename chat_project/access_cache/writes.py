"""Seeing writes: every statement on every connection is matched against the tables the models
declare Watched (declarations.py); one that may change a kept answer replaces the generation.

Matching statements, not calling invalidation from the services, is what also catches the
admin's saves, bulk updates, cascades and raw SQL. The tables are set once the app registry is
ready (apps.py), from the models' declarations.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.db.backends.base.base import BaseDatabaseWrapper

from chat_project.access_cache import enabled, forget_everything
from chat_project.access_cache.declarations import WatchList

_WRITE = re.compile(r'\b(UPDATE|INSERT\s+INTO|DELETE\s+FROM)\s+"?(\w+)"?', re.IGNORECASE)
_SET_CLAUSE = re.compile(r"\bSET\b(.*?)(?:\bWHERE\b|\bRETURNING\b|$)", re.IGNORECASE | re.DOTALL)
_ASSIGNED = re.compile(r'(?:^|,)\s*"?(\w+)"?\s*=', re.DOTALL)

# None until the app registry is ready: every write counts meanwhile.
_watched: WatchList | None = None


def watch(tables: WatchList) -> None:
    """From now on, writes to `tables` replace the generation (AccessCacheConfig.ready)."""
    global _watched
    _watched = tables
    changes_kept_answers.cache_clear()


def watched() -> WatchList | None:
    """The tables being watched, or None before the app registry is ready."""
    return _watched


@functools.lru_cache(maxsize=4096)  # the same few statements again and again (values apart)
def changes_kept_answers(sql: str) -> bool:
    """Whether this statement may change something a kept answer holds. When unsure, yes."""
    if sql.lstrip()[:6].upper() == "SELECT":
        return False
    if _watched is None:
        return True
    for match in _WRITE.finditer(sql):
        verb, table = match.group(1).split()[0].upper(), match.group(2).lower()
        if table not in _watched.tables:
            continue
        if verb == "INSERT" and table in _watched.harmless_inserts:
            continue
        harmless = _watched.harmless_columns.get(table)
        if verb == "UPDATE" and harmless:
            clause = _SET_CLAUSE.search(sql, match.end())
            columns = set(_ASSIGNED.findall(clause.group(1))) if clause else set()
            if columns and columns <= harmless:
                continue
        return True
    return False


def watch_writes(
    execute: Callable[..., Any], sql: Any, params: Any, many: bool, context: dict[str, Any]
) -> Any:
    """A database execute wrapper: a statement that changes what answers are kept from replaces
    the generation once it has run, and again once its transaction commits (readers elsewhere
    may have kept what they read before the commit)."""
    result = execute(sql, params, many, context)
    # A statement given as something other than text (psycopg2's sql.Composed) is not read:
    # it counts as a change.
    if enabled() and (not isinstance(sql, str) or changes_kept_answers(sql)):
        connection = context["connection"]
        forget_everything()
        if connection.in_atomic_block:
            transaction.on_commit(forget_everything, using=connection.alias, robust=True)
    return result


def watch_connection(sender: Any, connection: BaseDatabaseWrapper, **kwargs: Any) -> None:
    """connection_created's receiver: every connection's writes are watched."""
    if watch_writes not in connection.execute_wrappers:
        connection.execute_wrappers.append(watch_writes)
