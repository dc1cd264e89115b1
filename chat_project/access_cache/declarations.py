"""What each model says about the access cache: whether a write to its table may change a kept
answer (`Watched`) or may not (`NotWatched`, with the reason). A model says it next to its
fields, so that whoever adds a field or a model sees the question:

    class LoginToken(models.Model):
        ...
        access_cache = Watched(
            "verify_login_token keeps a token with its user",
            harmless_columns=frozenset({"last_used_at"}),
            harmless_inserts=True,
        )

A many-to-many field's auto-created table is classified by the model that declares the field,
in `many_to_many`; a model of an app we do not own (Django's admin, auth, sessions...), in
NOT_OURS below. The statement watcher's tables are derived from these declarations when the app
registry is ready (`watch_list`), and the system check access_cache.E001 names every table that
is not classified (`problems`). A table that is not classified is watched meanwhile: when
unsure, a write counts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.apps import AppConfig, apps
from django.core import checks
from django.db.models import Model


@dataclass(frozen=True)
class Watched:
    """A kept answer is read from this model's table: every write to it replaces the generation,
    but an UPDATE that sets only `harmless_columns` (field names) and, with `harmless_inserts`,
    an INSERT. `reason` says which kept answer reads it."""

    reason: str
    harmless_columns: frozenset[str] = frozenset()
    harmless_inserts: bool = False
    many_to_many: Mapping[str, Watched | NotWatched] = field(default_factory=dict)


@dataclass(frozen=True)
class NotWatched:
    """No kept answer is read from this model's table; `reason` says why. Writes to it leave
    the generation alone."""

    reason: str
    many_to_many: Mapping[str, Watched | NotWatched] = field(default_factory=dict)


Declaration = Watched | NotWatched

_DJANGO_AUTH = NotWatched(
    "Django's own groups and permissions: only the admin reads them (has_perm), for a user it "
    "loads from its session, never from the access cache"
)
# Models of apps we do not own, by label: nothing of theirs is kept.
NOT_OURS: Mapping[str, Declaration] = {
    "admin.logentry": NotWatched("the admin's record of its own edits"),
    "auth.group": _DJANGO_AUTH,
    "auth.group_permissions": _DJANGO_AUTH,
    "auth.permission": _DJANGO_AUTH,
    "contenttypes.contenttype": NotWatched("model names, which no kept answer holds"),
    "sessions.session": NotWatched("the admin's browser sessions; the API's are login tokens"),
}


@dataclass(frozen=True)
class WatchList:
    """The tables whose writes replace the generation, as the statement watcher matches them."""

    tables: frozenset[str]
    # Per table, the columns an UPDATE may set without changing a kept answer.
    harmless_columns: Mapping[str, frozenset[str]]
    # Tables a new row of which changes no kept answer.
    harmless_inserts: frozenset[str]


def declarations(models: Iterable[type[Model]]) -> dict[type[Model], Declaration | None]:
    """What each of `models` says (None: nothing), auto-created many-to-many tables included.
    Proxies are left out: a proxy's table is its concrete model's."""
    said: dict[type[Model], Declaration | None] = {}
    models = [model for model in models if not model._meta.proxy]
    for model in models:
        label = model._meta.label_lower
        if label in NOT_OURS:
            said[model] = NOT_OURS[label]
        elif not model._meta.auto_created:
            # Its own, never a parent's: a child in multi-table inheritance has its own table.
            declared = vars(model).get("access_cache")
            said[model] = declared if isinstance(declared, Watched | NotWatched) else None
    for model, declared in list(said.items()):
        for m2m in model._meta.local_many_to_many:
            through = m2m.remote_field.through
            if isinstance(through, type) and through._meta.auto_created and through not in said:
                said[through] = declared.many_to_many.get(m2m.name) if declared else None
    for model in models:
        said.setdefault(model, None)
    return said


def watch_list(models: Iterable[type[Model]]) -> WatchList:
    """The statement watcher's tables, from what `models` declare. A table that says nothing is
    watched whole; a harmless column that names no field is left out (both are reported by
    `problems`)."""
    tables: set[str] = set()
    harmless_columns: dict[str, frozenset[str]] = {}
    harmless_inserts: set[str] = set()
    for model, declared in declarations(models).items():
        if isinstance(declared, NotWatched):
            continue
        table = model._meta.db_table
        tables.add(table)
        if declared is None:
            continue
        columns = {
            f.column for f in model._meta.concrete_fields if f.name in declared.harmless_columns
        }
        if columns:
            harmless_columns[table] = frozenset(columns)
        if declared.harmless_inserts:
            harmless_inserts.add(table)
    return WatchList(frozenset(tables), harmless_columns, frozenset(harmless_inserts))


def problems(models: Iterable[type[Model]]) -> list[str]:
    """What is wrong with what `models` declare: a table not classified, a harmless column or a
    many-to-many entry that names no field of its model."""
    found = []
    for model, declared in declarations(models).items():
        meta = model._meta
        where = f"{meta.label} (table {meta.db_table})"
        if declared is None:
            if meta.auto_created:
                found.append(
                    f"{where} is not classified for the access cache: name its field in its "
                    "declaring model's access_cache many_to_many, as Watched or NotWatched."
                )
            else:
                found.append(
                    f"{where} does not say whether a kept access answer reads it: give it "
                    "`access_cache = Watched(...)` or `NotWatched(...)` "
                    "(chat_project.access_cache.declarations)."
                )
            continue
        if vars(model).get("access_cache") is not declared:
            continue  # a through table or a model of an app we do not own: nothing more to check
        fields = {f.name for f in meta.concrete_fields}
        if isinstance(declared, Watched):
            for name in sorted(declared.harmless_columns - fields):
                found.append(f"{where}: harmless column {name!r} is no field of the model.")
        m2m_names = {m2m.name for m2m in meta.local_many_to_many}
        for name in sorted(set(declared.many_to_many) - m2m_names):
            found.append(f"{where}: many_to_many names {name!r}, no many-to-many field of it.")
    return found


def check_declarations(
    app_configs: Iterable[AppConfig] | None = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    """access_cache.E001 for every table whose declaration is missing or wrong."""
    if app_configs is None:
        models = apps.get_models(include_auto_created=True)
    else:
        models = [m for config in app_configs for m in config.get_models(include_auto_created=True)]
    return [checks.Error(problem, id="access_cache.E001") for problem in problems(models)]
