"""Our PostgreSQL backend (chat_project/db/postgresql): the hot statements run as prepared
statements, planned once per connection, with the same answers; the pooled connection's health
check sees a server that dropped it without asking the server anything."""

import time
from collections import OrderedDict

import pytest
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext

from chat_project.db.postgresql.statements import (
    PreparedStatement,
    prepared_statement,
    registered_statement,
)
from rooms.models import Message, Room
from tests.factories import RoomFactory, SubscriptionFactory, UserFactory

ON_POSTGRESQL = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs PostgreSQL: set DATABASE_URL=postgres://... (CI does)",
)


def prepared_here() -> dict[str, str]:
    """This session's prepared statements: name -> SQL."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, statement FROM pg_prepared_statements")
        return dict(cursor.fetchall())


def send(api, auth_headers, user, room, text):
    response = api.post(
        f"/api/rooms/{room.pk}/send", {"msg": text}, format="json", **auth_headers(user)
    )
    assert response.status_code == 200, response.json()
    return response.json()


@pytest.fixture
def member(db):
    user = UserFactory(username="preparer")
    room = RoomFactory(name="prepared")
    SubscriptionFactory(user=user, room=room)
    return user, room


def test_a_statement_takes_positional_or_named_parameters_in_order():
    positional = PreparedStatement("p1", "SELECT %s, '100%%' WHERE x = %s")
    assert positional.prepare == "PREPARE p1 AS SELECT $1, '100%' WHERE x = $2"
    assert positional.execute == "EXECUTE p1 (%s, %s)"
    assert positional.arguments(["a", 2]) == ["a", 2]
    with pytest.raises(ValueError, match="takes 2 parameters"):
        positional.arguments(["a"])

    named = PreparedStatement("p2", "SELECT %(b)s, %(a)s, %(b)s")
    assert named.prepare == "PREPARE p2 AS SELECT $1, $2, $1"
    assert named.execute == "EXECUTE p2 (%s, %s)"
    assert named.arguments({"a": 1, "b": 2}) == [2, 1]

    assert PreparedStatement("p3", "SELECT 1").execute == "EXECUTE p3"
    with pytest.raises(ValueError, match="not both"):
        PreparedStatement("p4", "SELECT %s, %(a)s")


def test_statements_are_named_once_and_the_least_recently_used_make_room(monkeypatch):
    from chat_project.db.postgresql import statements

    monkeypatch.setattr(statements, "registered", OrderedDict())
    monkeypatch.setattr(statements, "MAX_STATEMENTS", 2)

    first, second, third = (f"SELECT {n} AS bounded" for n in (1, 2, 3))
    assert prepared_statement(first) == first
    name = statements.registered[first].name
    prepared_statement(first)
    assert statements.registered[first].name == name
    prepared_statement(second)
    second_name = statements.registered[second].name
    assert registered_statement(first).name == name  # used: the second is now the oldest
    prepared_statement(third)
    assert list(statements.registered) == [first, third]
    assert registered_statement(second) is None  # runs unprepared
    # Registered again, it gets a name never used before (a connection may still hold the old).
    prepared_statement(second)
    assert list(statements.registered) == [third, second]
    assert statements.registered[second].name not in {name, second_name}


@ON_POSTGRESQL
def test_a_send_and_a_page_run_as_prepared_statements(api, auth_headers, member):
    user, room = member
    given = []

    def record(execute, sql, params, many, context):
        given.append(sql)
        return execute(sql, params, many, context)

    with CaptureQueriesContext(connection) as sent, connection.execute_wrapper(record):
        send(api, auth_headers, user, room, "first")
        send(api, auth_headers, user, room, "second")
        page = api.get(f"/api/rooms/{room.pk}/messages", **auth_headers(user))

    assert [m["msg"] for m in page.json()["messages"]] == ["second", "first"]
    # Django's execute wrappers (the access cache's write watch among them) get the statement
    # itself; the server gets it prepared once on this connection, then EXECUTE.
    held = prepared_here()
    inserts = {name for name, sql in held.items() if "INSERT INTO rooms_message" in sql}
    pages = {name for name, sql in held.items() if 'FROM "rooms_message"' in sql}
    assert sum("INSERT INTO rooms_message" in sql for sql in given) == 2
    executed = [
        q.split()[1] for q in (q["sql"] for q in sent.captured_queries) if q[:8] == "EXECUTE "
    ]
    assert len([name for name in executed if name in inserts]) == 2, executed
    assert len([name for name in executed if name in pages]) == 1, executed
    room.refresh_from_db()
    assert room.msgs == 2


@ON_POSTGRESQL
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_inside_a_transaction_dropped_statements_fail_once(api, auth_headers, member):
    user, room = member
    send(api, auth_headers, user, room, "before")
    api.get(f"/api/rooms/{room.pk}/messages", **auth_headers(user))  # the page's prepared too
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")

    # Inside a transaction the statement fails and aborts it: the client is asked to retry...
    # (A page, not a send: a send owns its transaction and refuses to run inside another.)
    with transaction.atomic():
        response = api.get(f"/api/rooms/{room.pk}/messages", **auth_headers(user))
    assert (response.status_code, response.json()["errorType"]) == (
        503,
        "error-service-unavailable",
    )
    # ... and the next statement prepares it anew.
    page = api.get(f"/api/rooms/{room.pk}/messages", **auth_headers(user))
    assert [m["msg"] for m in page.json()["messages"]] == ["before"]
    send(api, auth_headers, user, room, "after")
    messages = Message.objects.filter(room=room).order_by("ts").values_list("msg", flat=True)
    assert list(messages) == ["before", "after"]
    assert Room.objects.get(pk=room.pk).msgs == 2


@ON_POSTGRESQL
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_outside_a_transaction_dropped_statements_are_prepared_again_at_once(
    api, auth_headers, member
):
    user, room = member
    send(api, auth_headers, user, room, "before")
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")
    send(api, auth_headers, user, room, "after")
    assert Room.objects.get(pk=room.pk).msgs == 2


@ON_POSTGRESQL
def test_prepared_statements_can_be_turned_off(api, auth_headers, member, settings):
    settings.DATABASE_PREPARED_STATEMENTS = False
    user, room = member
    with CaptureQueriesContext(connection) as sent:
        send(api, auth_headers, user, room, "unprepared")
        page = api.get(f"/api/rooms/{room.pk}/messages", **auth_headers(user))
    assert [m["msg"] for m in page.json()["messages"]] == ["unprepared"]
    on_the_wire = [q["sql"] for q in sent.captured_queries]
    assert not [q for q in on_the_wire if q.startswith(("PREPARE", "EXECUTE"))], on_the_wire
    assert any(q.lstrip().startswith("WITH queued AS") for q in on_the_wire), on_the_wire


@ON_POSTGRESQL
def test_a_connection_keeps_at_most_so_many_statements_prepared(monkeypatch, db):
    from chat_project.db.postgresql import base

    monkeypatch.setattr(base, "MAX_PER_CONNECTION", 2)
    texts = [prepared_statement(f"SELECT %s + {n} AS kept") for n in range(3)]
    answers = []
    with connection.cursor() as cursor:
        for n, sql in enumerate(texts):
            cursor.execute(sql, [10])
            answers.append(cursor.fetchone()[0])
            if n == 0:
                cursor.execute(sql, [20])  # prepared already: only run
                answers.append(cursor.fetchone()[0])
    assert answers == [10, 20, 11, 12]
    held = {sql for sql in prepared_here().values() if "AS kept" in sql}
    assert held == {
        "PREPARE " + registered_statement(sql).name + " AS " + sql.replace("%s", "$1")
        for sql in texts[1:]
    }


@ON_POSTGRESQL
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_health_check_sees_a_connection_the_server_dropped():
    spare = connections.create_connection("default")  # not the test's own connection
    try:
        spare.ensure_connection()
        assert spare.is_usable()
        pid = spare.connection.get_backend_pid()
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])

        deadline = time.monotonic() + 5
        while spare.is_usable():
            assert time.monotonic() < deadline, "the dropped connection still looks usable"
            time.sleep(0.01)

        # What Django does before a request's first statement: a fresh connection, no error.
        spare.health_check_enabled = True
        spare.health_check_done = False
        spare.close_if_health_check_failed()
        with spare.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            assert cursor.fetchone()[0] != pid
    finally:
        spare.close()


@ON_POSTGRESQL
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_health_check_asks_the_server_nothing():
    spare = connections.create_connection("default")
    try:
        spare.ensure_connection()
        with CaptureQueriesContext(spare) as queries:
            assert spare.is_usable()
        assert queries.captured_queries == []
        # A transaction left failed is not usable either.
        spare.connection.autocommit = False
        with pytest.raises(Exception, match="division by zero"):
            spare.connection.cursor().execute("SELECT 1/0")
        assert not spare.is_usable()
    finally:
        spare.close()
