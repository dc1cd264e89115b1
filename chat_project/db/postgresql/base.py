"""Django's PostgreSQL backend (psycopg2), with two savings on every request's hot path.

1. **The pooled connection's health check without a round trip.** Django's CONN_HEALTH_CHECKS
   runs `SELECT 1` on a kept connection before a request's first statement, so that a database
   that restarted since costs no failed request. Here the check asks the connection's socket
   instead: a server that restarted, or terminated our backend, has sent a farewell or closed the
   socket, which is then readable while we expect nothing; libpq's own state says whether the
   connection is broken or stuck in a failed transaction. Any of these, and Django opens a fresh
   connection. (A peer gone silently, with no packet at all, is not seen; nor would `SELECT 1`
   see it before its TCP timeout.)

2. **Server-side prepared statements for the few hot statements that register themselves**
   (`prepared_statement(sql)`): PostgreSQL plans such a statement once per connection instead of
   for every request (planning a history page's joins costs more than running it). The cursor
   turns a registered statement into `EXECUTE name (...)` below Django's execute wrappers, so
   everything above it (query counting, the access cache's write watch, logging) still sees
   the statement's own SQL. Off with DATABASE_PREPARED_STATEMENTS=false, which a pooler that
   hands one session's statements to another (PgBouncer in transaction mode) needs.
"""

from __future__ import annotations

import select
from collections import OrderedDict
from typing import Any

import psycopg2.errors
import psycopg2.extensions
from django.conf import settings
from django.db.backends.postgresql import base

from chat_project.db.postgresql.statements import PreparedStatement, registered_statement

# The most prepared statements one connection keeps on the server; past it, the least recently
# used is deallocated.
MAX_PER_CONNECTION = 100


class PreparingConnection(psycopg2.extensions.connection):
    """A psycopg2 connection that knows which registered statements it has prepared, the least
    recently used first."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.prepared: OrderedDict[str, None] = OrderedDict()


class PreparingCursor(psycopg2.extensions.cursor):
    connection: PreparingConnection

    def execute(self, query: Any, vars: Any = None) -> Any:
        statement = registered_statement(query) if isinstance(query, str) else None
        if statement is None or not settings.DATABASE_PREPARED_STATEMENTS:
            return super().execute(query, vars)
        arguments = statement.arguments(vars)
        try:
            self.prepare_statement(statement)
            return super().execute(statement.execute, arguments)
        except psycopg2.errors.InvalidSqlStatementName:
            # The session's statements were dropped (DEALLOCATE or DISCARD ALL, by hand or by a
            # pooler). Outside a transaction, prepare it again and run it; inside one, the
            # transaction is aborted: the statement fails, and the next one prepares anew.
            self.connection.prepared.clear()
            if not self.connection.autocommit:
                raise
            self.prepare_statement(statement)
            return super().execute(statement.execute, arguments)

    def prepare_statement(self, statement: PreparedStatement) -> None:
        prepared = self.connection.prepared
        if statement.name in prepared:
            prepared.move_to_end(statement.name)
            return
        while len(prepared) >= MAX_PER_CONNECTION:
            oldest, _ = prepared.popitem(last=False)
            super().execute(f"DEALLOCATE {oldest}")
        super().execute(statement.prepare)
        prepared[statement.name] = None


class DatabaseWrapper(base.DatabaseWrapper):
    def get_connection_params(self) -> dict[str, Any]:
        params: dict[str, Any] = super().get_connection_params()
        params["connection_factory"] = PreparingConnection
        params["cursor_factory"] = PreparingCursor
        return params

    def is_usable(self) -> bool:
        """Whether the kept connection can take a statement, without asking the server."""
        raw = self.connection
        if raw is None or raw.closed:
            return False
        status = raw.get_transaction_status()
        if status in (
            psycopg2.extensions.TRANSACTION_STATUS_UNKNOWN,  # broken
            psycopg2.extensions.TRANSACTION_STATUS_INERROR,  # a failed transaction left open
            psycopg2.extensions.TRANSACTION_STATUS_ACTIVE,  # a statement still running
        ):
            return False
        try:
            poller = select.poll()  # not select.select, which fails on descriptors past 1023
            poller.register(raw.fileno(), select.POLLIN | select.POLLPRI)
            events = poller.poll(0)
        except (OSError, ValueError, psycopg2.Error):
            return False
        # Nothing is due from an idle server: anything readable is a farewell (an error
        # message before it closes) or the closed socket itself.
        return not events
