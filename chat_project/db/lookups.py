"""Lookups that several apps share."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import Model
from django.db.models.functions import Lower


def pks_by_lowercase(model: type[Model], field: str, values: Iterable[str]) -> dict[str, Any]:
    """{lowercased value: primary key} for the rows whose `field` equals one of `values`,
    ignoring case: one query, served by the field's functional unique index. A value holding a
    NUL character (which PostgreSQL refuses in a query) matches nothing, as no stored value has
    one."""
    return dict(
        model._default_manager.alias(lower=Lower(field))
        .filter(lower__in={value.lower() for value in values if "\x00" not in value})
        .annotate(key=Lower(field))
        .values_list("key", "pk")
    )
