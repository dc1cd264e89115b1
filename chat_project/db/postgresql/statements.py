"""Statements the PostgreSQL backend (base.py) runs as server-side prepared statements.

Pure Python, importable on any database: registering a statement changes nothing but on
PostgreSQL connections.
"""

from __future__ import annotations

import itertools
import re
import threading
from collections import OrderedDict
from typing import Any

_PLACEHOLDER = re.compile(r"%(?:\((?P<name>[^)]+)\))?s|%%")


class PreparedStatement:
    """A registered statement: its name on every connection, its SQL with $n parameters, and
    the order in which it takes `params` (names for a mapping, else positions)."""

    def __init__(self, name: str, sql: str) -> None:
        self.name = name
        self.names: list[str] = []
        positional = 0

        def number(match: re.Match[str]) -> str:
            nonlocal positional
            if match.group(0) == "%%":
                return "%"
            key = match.group("name")
            if key is None:
                positional += 1
                return f"${positional}"
            if key not in self.names:
                self.names.append(key)
            return f"${self.names.index(key) + 1}"

        body = _PLACEHOLDER.sub(number, sql)
        if positional and self.names:
            raise ValueError("a statement takes %s or %(name)s parameters, not both")
        self.count = positional or len(self.names)
        self.prepare = f"PREPARE {name} AS {body}"
        arguments = f" ({', '.join(['%s'] * self.count)})" if self.count else ""
        self.execute = f"EXECUTE {name}{arguments}"

    def arguments(self, params: Any) -> list[Any]:
        if self.names:
            return [params[key] for key in self.names]
        arguments = list(params or ())
        if len(arguments) != self.count:
            raise ValueError(f"{self.name} takes {self.count} parameters, not {len(arguments)}")
        return arguments


# Registered statements by their SQL text (the same for every connection of the process), the
# least recently used first. At most MAX_STATEMENTS: page queries vary with their count and
# offset, and an odd client must not crowd out the hot ones. A statement is never renamed: one
# dropped and registered again gets a new name.
MAX_STATEMENTS = 1000
registered: OrderedDict[str, PreparedStatement] = OrderedDict()
_names = itertools.count(1)
_lock = threading.Lock()


def prepared_statement(sql: str) -> str:
    """Register `sql` (psycopg2's %s or %(name)s parameters) to run as a prepared statement on
    PostgreSQL connections; returns it unchanged, to be given to cursor.execute as usual."""
    with _lock:  # one name per statement, never two statements under one name
        if sql in registered:
            registered.move_to_end(sql)
        else:
            registered[sql] = PreparedStatement(f"chat_{next(_names)}", sql)
            while len(registered) > MAX_STATEMENTS:
                registered.popitem(last=False)
    return sql


def registered_statement(sql: str) -> PreparedStatement | None:
    """The statement registered for `sql`, marked as just used; None if there is none."""
    with _lock:
        statement = registered.get(sql)
        if statement is not None:
            registered.move_to_end(sql)
        return statement
