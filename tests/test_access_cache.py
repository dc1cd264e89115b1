"""The access cache: a login token with its user, and a room with the caller's membership, kept
between requests, and never trusted after anything they come from was written, however it was
written (a service, the admin's ORM calls, a bulk update, raw SQL)."""

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts import tokens
from accounts.models import LoginToken, User
from chat_project import access_cache
from chat_project.access_cache.writes import changes_kept_answers
from rooms.access import get_room
from rooms.models import Room, Subscription
from tests.factories import RoomFactory, SubscriptionFactory
from tests.test_authentication import assert_not_logged_in

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def cache_on(settings):
    """The cache as one process keeps it (the generation in the process): what every test here
    proves holds alike with the generation in Redis, which the last tests exercise."""
    settings.ACCESS_CACHE_SECONDS = 30
    settings.ACCESS_CACHE_GENERATION = "local"
    access_cache.forget_everything()
    yield
    access_cache.forget_everything()


@pytest.fixture
def member(api, user, auth_headers):
    room = RoomFactory(name="kept")
    SubscriptionFactory(room=room, user=user)
    api.credentials(**auth_headers(user))
    return api, room


def send(api, room, text="hi"):
    return api.post(f"/api/rooms/{room.pk}/send", {"msg": text}, format="json")


def statements(call):
    with CaptureQueriesContext(connection) as captured:
        response = call()
    return response, [q["sql"] for q in captured if "SAVEPOINT" not in q["sql"]]


def test_a_second_request_asks_the_database_only_for_its_work(member):
    api, room = member
    send(api, room, "warm")

    response, sql = statements(lambda: send(api, room))

    assert response.status_code == 200
    assert not any("accounts_logintoken" in q for q in sql)  # the token, kept
    assert not any("viewer_is_member" in q for q in sql)  # the room with the membership, kept
    # On PostgreSQL the one statement that counts and inserts the message; elsewhere the room's
    # lock, the insert, the counter, the author's read mark.
    assert len(sql) == (1 if connection.vendor == "postgresql" else 4)


@pytest.mark.parametrize(
    ("method", "path", "body", "postgresql", "elsewhere"),
    [
        ("post", "/api/rooms/{rid}/send", {"msg": "hi"}, 1, 4),
        ("post", "/api/v1/chat.postMessage", {"roomId": "{rid}", "text": "hi"}, 1, 4),
        ("get", "/api/rooms/{rid}/messages", None, 1, 1),
        ("get", "/api/v1/channels.history?roomId={rid}", None, 1, 1),
    ],
)
def test_each_hot_endpoint_asks_for_its_work_alone(
    member, method, path, body, postgresql, elsewhere
):
    api, room = member
    path = path.format(rid=room.pk)
    body = {k: v.format(rid=room.pk) for k, v in body.items()} if body else None

    def call():
        return getattr(api, method)(path, body, format="json") if body else api.get(path)

    call()  # the token and the room are kept from here on

    response, sql = statements(call)

    assert response.status_code == 200
    # The page; or on PostgreSQL the one statement that counts and inserts a message, elsewhere
    # the room's lock, the insert, the counter and the author's read mark.
    assert len(sql) == (postgresql if connection.vendor == "postgresql" else elsewhere), sql


def test_logout_ends_a_kept_token_at_once(member):
    api, room = member
    assert send(api, room).status_code == 200

    assert api.post("/api/logout").status_code == 200

    assert_not_logged_in(send(api, room))


def test_a_token_deleted_in_bulk_ends_at_once(member, user):
    api, room = member
    assert send(api, room).status_code == 200

    LoginToken.objects.filter(user=user).delete()

    assert_not_logged_in(send(api, room))


def test_a_user_deactivated_by_a_bulk_update_is_refused_at_once(member, user):
    api, room = member
    assert send(api, room).status_code == 200

    User.objects.filter(pk=user.pk).update(is_active=False)

    assert_not_logged_in(send(api, room))


def test_a_renamed_user_is_seen_at_once(member, user):
    api, room = member
    assert send(api, room).json()["data"]["u"]["username"] == "sing"

    User.objects.filter(pk=user.pk).update(username="sung")

    assert send(api, room).json()["data"]["u"]["username"] == "sung"


def test_leaving_a_room_ends_posting_at_once(member):
    api, room = member
    assert send(api, room).status_code == 200

    assert api.post(f"/api/rooms/{room.pk}/leave").status_code == 200

    response = send(api, room)
    assert response.status_code == 403
    assert response.json()["error"] == "You must join the room to post in it."


def test_a_membership_removed_with_raw_sql_ends_posting_at_once(member, user):
    api, room = member
    assert send(api, room).status_code == 200

    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM rooms_subscription WHERE room_id = %s AND user_id = %s",
            [room.pk, user.pk],
        )

    assert send(api, room).status_code == 403


def test_joining_after_a_refusal_lets_the_next_post_through(api, user, auth_headers):
    room = RoomFactory(name="open")
    api.credentials(**auth_headers(user))
    assert send(api, room).status_code == 403  # kept: not a member

    assert api.post(f"/api/rooms/{room.pk}/join").status_code == 200

    assert send(api, room).status_code == 200


def test_a_room_archived_in_bulk_takes_no_more_messages(member):
    api, room = member
    assert send(api, room).status_code == 200

    Room.objects.filter(pk=room.pk).update(archived=True)

    response = send(api, room)
    assert response.status_code == 400
    assert response.json()["errorType"] == "error-room-archived"


def test_a_deleted_room_is_gone_at_once(member):
    api, room = member
    assert send(api, room).status_code == 200

    Room.objects.filter(pk=room.pk).delete()

    response = send(api, room)
    assert response.status_code == 404


def test_a_kept_room_never_shows_old_counters(member):
    api, room = member
    for text in ("one", "two", "three"):
        assert send(api, room, text).status_code == 200

    info = api.get(f"/api/v1/channels.info?roomId={room.pk}").json()["channel"]
    assert info["msgs"] == 3
    history = api.get(f"/api/v1/channels.history?roomId={room.pk}").json()["messages"]
    assert [m["msg"] for m in history] == ["three", "two", "one"]


def test_a_change_inside_a_transaction_counts_within_it(member, user):
    api, room = member
    assert send(api, room).status_code == 200

    with transaction.atomic():
        Subscription.objects.filter(room=room, user=user).delete()
        assert send(api, room).status_code == 403


def test_kept_answers_expire(member, monkeypatch):
    api, room = member
    send(api, room)
    later = access_cache._clock() + 31
    monkeypatch.setattr(access_cache, "_clock", lambda: later)

    response, sql = statements(lambda: send(api, room))

    assert response.status_code == 200
    assert any("accounts_logintoken" in q for q in sql)


def test_off_it_keeps_nothing(member, settings):
    settings.ACCESS_CACHE_SECONDS = 0
    api, room = member
    send(api, room)

    response, sql = statements(lambda: send(api, room))

    assert response.status_code == 200
    assert any("accounts_logintoken" in q for q in sql)


@pytest.mark.parametrize(
    "sql",
    [
        'UPDATE "accounts_user" SET "is_active" = %s WHERE "accounts_user"."id" = %s',
        'UPDATE "rooms_room" SET "archived" = %s, "updated_at" = %s WHERE "rooms_room"."id" = %s',
        'DELETE FROM "accounts_logintoken" WHERE "accounts_logintoken"."id" IN (%s)',
        'INSERT INTO "rooms_subscription" ("room_id", "user_id", "ts") VALUES (%s, %s, %s)',
        'DELETE FROM "rooms_subscription_roles" WHERE "subscription_id" = %s',
        'INSERT INTO "accounts_user_roles" ("user_id", "role_id") VALUES (%s, %s)',
        'INSERT INTO "permissions_permission_roles" ("permission_id", "role_id") VALUES (%s, %s)',
        "update rooms_room set t = 'p' where id = 'x'",
        "WITH gone AS (DELETE FROM rooms_subscription WHERE user_id = %s RETURNING 1) SELECT 1",
    ],
)
def test_writes_to_what_is_kept_replace_the_generation(sql):
    assert changes_kept_answers(sql)


@pytest.mark.parametrize(
    "sql",
    [
        'SELECT "rooms_room"."id" FROM "rooms_room" WHERE "rooms_room"."id" = %s FOR UPDATE',
        'INSERT INTO "rooms_message" ("id", "room_id") VALUES (%s, %s)',
        'UPDATE "rooms_room" SET "msgs" = ("rooms_room"."msgs" + %s), "lm" = %s, '
        '"updated_at" = %s WHERE "rooms_room"."id" = %s',
        'UPDATE "accounts_logintoken" SET "last_used_at" = %s WHERE "accounts_logintoken"."id" = %s',
        'INSERT INTO "accounts_logintoken" ("user_id", "digest") VALUES (%s, %s) RETURNING "id"',
    ],
)
def test_writes_nothing_kept_depends_on_leave_it(sql):
    assert not changes_kept_answers(sql)


def test_sending_a_message_leaves_the_generation_alone(member):
    api, room = member
    send(api, room)
    before = access_cache.generation()

    send(api, room)

    assert access_cache.generation() == before


# --- with the generation in Redis, as several processes share it ----------------------------------


@pytest.fixture
def shared(settings):
    if not settings.REDIS_URL:
        pytest.skip("needs Redis: set REDIS_URL=redis://... (CI does)")
    settings.ACCESS_CACHE_GENERATION = "redis"
    access_cache.forget_everything()
    return access_cache._redis()


def replace_elsewhere(shared, settings, value="replaced-elsewhere"):
    """What another process's write does: the key set and its channel told, in one MULTI."""
    with shared.pipeline(transaction=True) as both:
        both.set(settings.ACCESS_CACHE_KEY, value)
        both.publish(settings.ACCESS_CACHE_KEY, value)
        both.execute()


def calls(shared, command):
    """How many times Redis has run `command`, from its own statistics."""
    return shared.info("commandstats").get(f"cmdstat_{command}", {}).get("calls", 0)


def test_a_write_in_another_process_counts_here_at_once(member, shared, settings):
    api, room = member
    send(api, room)
    # Another process wrote a membership (or a token, a user...): its watcher replaced the
    # generation in Redis. Here, nothing kept under the old one counts any more.
    replace_elsewhere(shared, settings)

    response, sql = statements(lambda: send(api, room))

    assert response.status_code == 200
    assert any("accounts_logintoken" in q for q in sql)


def test_a_write_here_replaces_the_shared_generation(member, shared, settings, user):
    api, room = member
    send(api, room)
    before = shared.get(settings.ACCESS_CACHE_KEY)

    Subscription.objects.filter(room=room, user=user).delete()

    now = shared.get(settings.ACCESS_CACHE_KEY)
    assert now != before
    # ... and this process goes by the new one at once (its own subscription's message may
    # still be on its way: it asks with a PING).
    assert access_cache.generation() == now.decode()


def test_requests_take_the_generation_from_the_subscription_not_a_round_trip(
    member, shared, settings
):
    api, room = member
    send(api, room)
    gets, pings = calls(shared, "get"), calls(shared, "ping")

    for _ in range(20):
        assert send(api, room).status_code == 200

    # Within WATCH_FRESH_SECONDS of the last word from Redis, at most one PING (if a second
    # passed), and no GET at all.
    assert calls(shared, "get") == gets
    assert calls(shared, "ping") - pings <= 1


def test_a_replacement_arrives_through_the_subscription(member, shared, settings):
    api, room = member
    send(api, room)
    gets = calls(shared, "get")

    replace_elsewhere(shared, settings, "pushed-1")
    with access_cache.request_scope():
        assert access_cache.generation() == "pushed-1"
    replace_elsewhere(shared, settings, "pushed-2")
    with access_cache.request_scope():
        assert access_cache.generation() == "pushed-2"

    assert calls(shared, "get") == gets


def test_a_silent_subscription_is_confirmed_with_a_ping_before_it_is_trusted(
    member, shared, settings, monkeypatch
):
    api, room = member
    send(api, room)
    pings = calls(shared, "ping")
    later = access_cache._clock() + access_cache.WATCH_FRESH_SECONDS + 1
    monkeypatch.setattr(access_cache, "_clock", lambda: later)

    with access_cache.request_scope():
        access_cache.generation()
    with access_cache.request_scope():
        access_cache.generation()

    assert calls(shared, "ping") == pings + 1  # then heard from again: trusted


def test_a_lost_subscription_asks_the_database_then_resubscribes_and_misses_nothing(
    member, shared, settings, monkeypatch
):
    api, room = member
    send(api, room)
    # Redis drops this process's subscription (a restart, a proxy, an output buffer overrun),
    # and a replacement is published while nobody here listens.
    host, port = access_cache._watch.connection._sock.getsockname()[:2]
    address = f"{host}:{port}"
    shared.execute_command("CLIENT", "KILL", "ADDR", address)
    replace_elsewhere(shared, settings, "while-away")

    response, sql = statements(lambda: send(api, room))

    assert response.status_code == 200
    assert any("accounts_logintoken" in q for q in sql)  # nothing kept is trusted meanwhile
    monkeypatch.setattr(access_cache, "_redis_down_until", 0.0)  # the pause is over
    with access_cache.request_scope():
        assert access_cache.generation() == "while-away"
    replace_elsewhere(shared, settings, "after")
    with access_cache.request_scope():
        assert access_cache.generation() == "after"


def test_with_redis_unreachable_every_request_asks_the_database(member, settings, monkeypatch):
    settings.ACCESS_CACHE_GENERATION = "redis"

    class Unreachable:
        def get(self, key):
            raise ConnectionError("Redis is down")

        set = pipeline = get

    monkeypatch.setattr(access_cache, "_redis", Unreachable)
    # Nothing listens where the subscription would go (port 9, discard), and whatever
    # subscription this process held is gone with Redis.
    settings.REDIS_URL = "redis://127.0.0.1:9/0"
    access_cache._watch.drop()
    monkeypatch.setattr(access_cache, "_redis_down_until", 0.0)
    api, room = member
    assert send(api, room).status_code == 200

    response, sql = statements(lambda: send(api, room))

    assert response.status_code == 200
    assert any("accounts_logintoken" in q for q in sql)
    monkeypatch.setattr(access_cache, "_redis_down_until", 0.0)


def test_a_kept_token_still_records_its_use_once_a_minute(member, user, monkeypatch):
    api, room = member
    send(api, room)
    first = LoginToken.objects.get(user=user).last_used_at
    later = timezone.now() + timedelta(seconds=61)
    monkeypatch.setattr(tokens.timezone, "now", lambda: later)

    response, sql = statements(lambda: send(api, room))

    assert response.status_code == 200
    assert [q for q in sql if "accounts_logintoken" in q] == [
        next(q for q in sql if q.startswith('UPDATE "accounts_logintoken"'))
    ]
    assert LoginToken.objects.get(user=user).last_used_at == later > first


def test_a_kept_room_reads_its_counters_in_one_query(member, user):
    api, room = member
    send(api, room, "one")
    send(api, room, "two")  # the room is kept now, without its counters
    kept = get_room(room.pk, viewer=user)

    with CaptureQueriesContext(connection) as captured:
        counters = (kept.msgs, kept.lm, kept.updated_at)

    fresh = Room.objects.get(pk=room.pk)
    assert counters == (2, fresh.lm, fresh.updated_at)
    assert len(captured) == 1


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", "/api/rooms/{rid}/send", {"msg": "hi"}),
        ("get", "/api/v1/channels.history?roomId={rid}", None),
    ],
)
def test_counting_a_request_against_its_rate_limit_asks_the_database_nothing(
    member, settings, method, path, body
):
    settings.RATELIMIT_ENABLE = True
    settings.RATELIMIT_RATE = "1000/s"
    api, room = member
    path = path.format(rid=room.pk)

    def call():
        return getattr(api, method)(path, body, format="json") if body else api.get(path)

    call()
    response, sql = statements(call)

    assert response.status_code == 200
    assert "X-Ratelimit-Remaining" in response  # counted
    assert not any("permissions_" in q for q in sql)  # whether the caller is exempt: kept
    assert len(sql) == (1 if connection.vendor == "postgresql" or body is None else 4), sql


def test_a_kept_exemption_ends_with_the_permission(api, auth_headers, settings):
    from permissions.models import Permission
    from tests.factories import UserFactory

    settings.RATELIMIT_ENABLE = True
    api.credentials(**auth_headers(UserFactory(roles=["bot"])))
    assert "X-Ratelimit-Limit" not in api.get("/api/publicRooms")  # exempt, and kept so

    Permission.objects.get(pk="api-bypass-rate-limit").roles.remove("bot")

    assert "X-Ratelimit-Limit" in api.get("/api/publicRooms")
