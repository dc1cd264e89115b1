"""Hostile input: whatever a client sends, the answer is a 4xx in the envelope (or a success,
where the input is legitimate), never a 500, and a refused request writes nothing."""

import http.client
import json

import pytest

from accounts.models import LoginToken, User
from permissions.models import Permission, Role
from rooms.models import Message, Room, Subscription
from tests.conftest import PASSWORD
from tests.factories import MessageFactory, RoomFactory, SubscriptionFactory, UserFactory
from tests.servers import make_run, own_database

pytestmark = pytest.mark.django_db

ENVELOPE_KEYS = {
    "success",
    "status",
    "message",
    "error",
    "errorType",
    "detailed_error",
    "request_id",
    "status_code",
}


def assert_refused_in_envelope(response, *statuses):
    assert 400 <= response.status_code < 500, (response.status_code, response.content[:500])
    if statuses:
        assert response.status_code in statuses, response.content[:500]
    body = response.json()
    assert set(body) == ENVELOPE_KEYS
    assert body["success"] is False
    assert body["status_code"] == response.status_code
    assert body["request_id"] == response["X-Request-Id"]
    return body


def database_state():
    """What a refused request must leave as it was."""
    return {
        "users": sorted(User.objects.values_list("pk", "username", "name", "email", "is_active")),
        "user roles": sorted(User.roles.through.objects.values_list("user_id", "role_id")),
        "rooms": sorted(Room.objects.values_list("pk", "name", "msgs", "topic", "read_only")),
        "subscriptions": sorted(Subscription.objects.values_list("room_id", "user_id")),
        "messages": sorted(Message.objects.values_list("pk", "msg")),
        "roles": sorted(Role.objects.values_list("pk", "scope", "description")),
        "holds": sorted(Permission.roles.through.objects.values_list("permission_id", "role_id")),
        "tokens": LoginToken.objects.count(),
    }


@pytest.fixture
def boss(db):
    return UserFactory(username="boss", roles=["admin", "user"])


@pytest.fixture
def room(user, boss):
    room = RoomFactory(name="lobby")
    SubscriptionFactory(room=room, user=user)
    SubscriptionFactory(room=room, user=boss, roles=["owner"])
    return room


# --- the size cap ---------------------------------------------------------------------------------


def test_a_body_over_the_cap_with_a_truthful_length_is_413(api, settings, user):
    settings.REQUEST_MAX_BYTES = 1000
    before = database_state()

    response = api.post("/api/login", {"user": "sing", "password": "x" * 2000}, format="json")

    body = assert_refused_in_envelope(response, 413)
    assert body["errorType"] == "error-request-too-large"
    assert database_state() == before


def test_a_body_over_the_cap_with_a_lying_small_length_is_cut_at_the_length(api, user):
    """A Content-Length smaller than the body: only that many bytes are read, which here makes
    malformed JSON, a 400."""
    body = json.dumps({"user": "sing", "password": PASSWORD}).encode()

    response = api.generic(
        "POST", "/api/login", body, content_type="application/json", CONTENT_LENGTH="10"
    )

    assert_refused_in_envelope(response, 400)


def test_a_negative_content_length_is_400(api):
    response = api.generic("POST", "/api/login", b"x", CONTENT_LENGTH="-1")

    assert assert_refused_in_envelope(response, 400)["message"] == "Invalid Content-Length header."


@pytest.fixture(scope="module")
def live_server_small_cap(tmp_path_factory):
    """A real `make run` (gunicorn, which passes chunked bodies on without a Content-Length)
    with a 4 KiB body cap and a known admin."""
    tmp_path = tmp_path_factory.mktemp("chunked")
    with (
        own_database(tmp_path) as database_url,
        make_run(
            tmp_path,
            database_url,
            ADMIN_USERNAME="sing",
            ADMIN_EMAIL="sing@example.com",
            ADMIN_PASSWORD=PASSWORD,
            REQUEST_MAX_BYTES="4096",
            RATELIMIT_ENABLE="false",
        ) as (port, _log),
    ):
        yield port


def send_chunked(port, path, body: bytes, *, chunk_size=1000, content_type="application/json"):
    """POST `body` with Transfer-Encoding: chunked and no Content-Length, as a streaming client
    does. Returns (status, decoded JSON)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        chunks = [body[i : i + chunk_size] for i in range(0, len(body), chunk_size)]
        connection.request(
            "POST",
            path,
            body=iter(chunks),
            headers={"Content-Type": content_type, "Transfer-Encoding": "chunked"},
            encode_chunked=True,
        )
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


@pytest.mark.slow
def test_a_chunked_body_under_the_cap_is_read_and_parsed(live_server_small_cap):
    body = json.dumps({"user": "sing", "password": PASSWORD}).encode()

    status, answer = send_chunked(live_server_small_cap, "/api/login", body, chunk_size=7)

    assert status == 200, answer
    assert answer["status"] == "success"
    assert len(answer["data"]["authToken"]) == 43


@pytest.mark.slow
def test_a_chunked_form_body_under_the_cap_is_parsed(live_server_small_cap):
    body = f"user=sing&password={PASSWORD}".replace(" ", "+").encode()

    status, answer = send_chunked(
        live_server_small_cap,
        "/api/login",
        body,
        content_type="application/x-www-form-urlencoded",
    )

    assert status == 200, answer


@pytest.mark.slow
def test_a_chunked_body_over_the_cap_is_413(live_server_small_cap):
    body = json.dumps({"user": "sing", "password": "x" * 10_000}).encode()

    status, answer = send_chunked(live_server_small_cap, "/api/login", body)

    assert status == 413
    assert answer["errorType"] == "error-request-too-large"
    assert answer["detailed_error"] == "The limit is 4096 bytes."


@pytest.mark.slow
def test_a_chunked_body_of_exactly_the_cap_is_accepted(live_server_small_cap):
    padding = 4096 - len(json.dumps({"user": "sing", "password": PASSWORD, "pad": ""}))
    body = json.dumps({"user": "sing", "password": PASSWORD, "pad": "p" * padding}).encode()
    assert len(body) == 4096

    status, answer = send_chunked(live_server_small_cap, "/api/login", body)

    assert status == 200, answer


# --- deeply nested JSON ---------------------------------------------------------------------------

NESTED = "[" * 100_000 + "]" * 100_000


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/login",
        "/api/v1/chat.postMessage",
        "/api/v1/channels.create",
        "/api/v1/users.create",
        "/api/v1/users.update",
        "/api/v1/roles.create",
        "/api/v1/permissions.update",
        "/api/bulk/register",
        "/api/bulk/createRoom",
    ],
)
def test_deeply_nested_json_is_a_400_on_v1_endpoints_too(api, auth_headers, boss, path):
    api.credentials(**auth_headers(boss))
    before = database_state()

    response = api.post(path, '{"x": ' + NESTED + "}", content_type="application/json")

    assert assert_refused_in_envelope(response, 400)["errorType"] == "error-invalid-body"
    assert database_state() == before


@pytest.mark.parametrize("field", ["sort", "attachments", "permissions", "users"])
def test_deeply_nested_json_inside_a_form_field_or_query_is_refused(api, auth_headers, boss, field):
    api.credentials(**auth_headers(boss))
    before = database_state()

    answers = [
        api.get("/api/v1/channels.list", {field: NESTED}),
        api.post("/api/v1/chat.postMessage", {"roomId": "GENERAL", field: NESTED}),
        api.post("/api/v1/permissions.update", {field: NESTED}),
        api.post("/api/bulk/register", {field: NESTED}),
    ]

    for response in answers:
        assert response.status_code < 500, response.content[:300]
        if response.status_code >= 400:
            assert_refused_in_envelope(response)
    assert database_state() == before


# --- wrong types, field by field ------------------------------------------------------------------

WRONG_TYPES = {
    "object": {"$gt": ""},
    "array": ["x"],
    "empty array": [],
    "integer": 1,
    "float": 1.5,
    "huge integer": 10**40,
    "true": True,
    "false": False,
    "null": None,
    "string": "plainstring",
    "json text": '{"a": 1}',
}


def endpoints(room_id):
    """(who calls, path, a valid JSON body) for a representative set of writes."""
    return {
        "0.1 login": (None, "/api/login", {"user": "sing", "password": PASSWORD}),
        "0.1 send": ("user", f"/api/rooms/{room_id}/send", {"msg": "hello"}),
        "0.1 join": ("user", "/api/rooms/GENERAL/join", {"extra": "ignored"}),
        "0.1 bulk/createRoom": (
            "boss",
            "/api/bulk/createRoom",
            {"rooms": [{"name": "made", "members": ["sing"], "private": False}]},
        ),
        "0.1 bulk/register": (
            "boss",
            "/api/bulk/register",
            {"users": [{"email": "n@example.com", "name": "newbie", "pass": PASSWORD}]},
        ),
        "v1 login": (None, "/api/v1/login", {"user": "sing", "password": PASSWORD}),
        "v1 chat.postMessage": (
            "user",
            "/api/v1/chat.postMessage",
            {"roomId": room_id, "text": "hello", "emoji": ":smile:", "attachments": []},
        ),
        "v1 chat.sendMessage": (
            "user",
            "/api/v1/chat.sendMessage",
            {"message": {"rid": room_id, "msg": "hello", "groupable": False}},
        ),
        "v1 channels.create": (
            "user",
            "/api/v1/channels.create",
            {"name": "made", "members": ["boss"], "readOnly": False},
        ),
        "v1 channels.setTopic": (
            "boss",
            "/api/v1/channels.setTopic",
            {"roomId": room_id, "topic": "new topic"},
        ),
        "v1 users.create": (
            "boss",
            "/api/v1/users.create",
            {
                "email": "n@example.com",
                "name": "New",
                "password": PASSWORD,
                "username": "newbie",
                "roles": ["user"],
                "active": True,
                "joinDefaultChannels": True,
                "verified": False,
            },
        ),
        "v1 users.register": (
            None,
            "/api/v1/users.register",
            {"username": "newbie", "email": "n@example.com", "pass": PASSWORD, "name": "New"},
        ),
        "v1 users.update": (
            "user",
            "/api/v1/users.update",
            {"userId": "<user>", "data": {"name": "Renamed"}},
        ),
        "v1 roles.create": (
            "boss",
            "/api/v1/roles.create",
            {"name": "planners", "scope": "Users", "description": "plans"},
        ),
        "v1 roles.addUserToRole": (
            "boss",
            "/api/v1/roles.addUserToRole",
            {"roleName": "bot", "username": "sing"},
        ),
        "v1 permissions.update": (
            "boss",
            "/api/v1/permissions.update",
            {"permissions": [{"_id": "create-c", "roles": ["admin", "user"]}]},
        ),
    }


def wrong_type_cases():
    cases = []
    for name, (_, _, body) in endpoints("ROOM").items():
        fields = [(key,) for key in body]
        for key, value in body.items():
            if isinstance(value, dict):
                fields += [(key, inner) for inner in value]
            if isinstance(value, list) and value and isinstance(value[0], dict):
                fields += [(key, 0, inner) for inner in value[0]]
        for field in fields:
            for kind in WRONG_TYPES:
                cases.append(
                    pytest.param(name, field, kind, id=f"{name}-{'.'.join(map(str, field))}-{kind}")
                )
    return cases


def replaced(body, field, value):
    body = json.loads(json.dumps(body))
    target = body
    for step in field[:-1]:
        target = target[step]
    target[field[-1]] = value
    return body


def call_as(api, auth_headers, who, path, body, people):
    """Signs in as `who`, then POSTs `body`: (the database state before the call, response)."""
    if who is not None:
        api.credentials(**auth_headers(people[who]))
    before = database_state()
    return before, api.post(path, json.dumps(body), content_type="application/json")


def check_hostile_answer(response, before):
    """A 4xx in the envelope with nothing written, or a success."""
    assert response.status_code < 500, response.content[:500]
    if response.status_code >= 400:
        assert_refused_in_envelope(response)
        assert database_state() == before


@pytest.mark.parametrize(("endpoint", "field", "kind"), wrong_type_cases())
def test_a_wrong_type_in_any_field_is_a_4xx_or_harmless(
    api, auth_headers, user, boss, room, endpoint, field, kind
):
    who, path, body = endpoints(room.pk)[endpoint]
    body = json.loads(json.dumps(body).replace("<user>", user.pk))

    before, response = call_as(
        api,
        auth_headers,
        who,
        path,
        replaced(body, field, WRONG_TYPES[kind]),
        {"user": user, "boss": boss},
    )

    check_hostile_answer(response, before)


@pytest.mark.parametrize("endpoint", list(endpoints("ROOM")))
@pytest.mark.parametrize(
    "whole", [[], ["x"], "text", 12, None, True, {"": ""}], ids=lambda v: repr(v)[:12]
)
def test_a_body_of_the_wrong_shape_is_a_4xx_or_harmless(
    api, auth_headers, user, boss, room, endpoint, whole
):
    who, path, _ = endpoints(room.pk)[endpoint]

    before, response = call_as(api, auth_headers, who, path, whole, {"user": user, "boss": boss})

    check_hostile_answer(response, before)


def test_a_valid_request_still_works_after_the_hostile_ones(api, auth_headers, user, room):
    api.credentials(**auth_headers(user))

    response = api.post(f"/api/rooms/{room.pk}/send", {"msg": "still here"}, format="json")

    assert response.status_code == 200
    assert Message.objects.get().msg == "still here"


# --- unicode, NUL bytes, metacharacters -----------------------------------------------------------

VERBATIM_TEXTS = {
    "combining marks": "Ze\u0301 a\u0300 n\u0303 \u0041\u030a\u0301\u0302\u0303\u0304",
    "right to left": "\u05e9\u05dc\u05d5\u05dd \u202e\u0645\u0631\u062d\u0628\u0627\u202c",
    "emoji": "\U0001f600 \U0001f469\u200d\U0001f469\u200d\U0001f467 \U0001f1fa\U0001f1f3",
    "astral and bom": "\ufeff\U0001d573\U00010348",
    "sql": "'; DROP TABLE rooms_message; -- \" OR 1=1 /* %s %% _ \\",
    "html": '<script>alert("x")</script><img src=x onerror=alert(1)>&amp;&lt;',
    "lone surrogate escapes": "a\\ud800b",
    "control characters": "bell\x07 tab\t cr\r lf\n esc\x1b del\x7f",
}


@pytest.mark.parametrize("kind", list(VERBATIM_TEXTS))
def test_messages_are_stored_and_returned_verbatim(api, auth_headers, user, room, kind):
    text = VERBATIM_TEXTS[kind]
    api.credentials(**auth_headers(user))

    sent_01 = api.post(f"/api/rooms/{room.pk}/send", {"msg": text}, format="json")
    sent_v1 = api.post(
        "/api/v1/chat.postMessage", {"roomId": room.pk, "text": text, "alias": ""}, format="json"
    )
    sent_form = api.post(f"/api/rooms/{room.pk}/send", {"msg": text})

    assert [r.status_code for r in (sent_01, sent_v1, sent_form)] == [200, 200, 200]
    history = api.get(f"/api/rooms/{room.pk}/messages").json()["messages"]
    assert [m["msg"] for m in history] == [text, text, text]
    v1_history = api.get("/api/v1/channels.history", {"roomId": room.pk}).json()["messages"]
    assert [m["msg"] for m in v1_history] == [text, text, text]
    assert set(Message.objects.values_list("msg", flat=True)) == {text}


@pytest.mark.parametrize("kind", ["sql", "html", "right to left", "emoji"])
def test_topics_and_display_names_are_stored_verbatim(api, auth_headers, user, boss, room, kind):
    text = VERBATIM_TEXTS[kind]
    api.credentials(**auth_headers(boss))

    topic = api.post("/api/v1/channels.setTopic", {"roomId": room.pk, "topic": text}, format="json")
    renamed = api.post(
        "/api/v1/users.update", {"userId": boss.pk, "data": {"name": text}}, format="json"
    )

    assert topic.status_code == 200, topic.json()
    assert topic.json()["topic"] == text
    assert renamed.status_code == 200, renamed.json()
    assert renamed.json()["user"]["name"] == text
    info = api.get("/api/v1/channels.info", {"roomId": room.pk}).json()["channel"]
    assert info["topic"] == text
    assert api.get("/api/v1/me").json()["name"] == text


NUL_CASES = [
    ("user", "post", "/api/rooms/<room>/send", {"msg": "a\x00b"}),
    ("user", "post", "/api/v1/chat.postMessage", {"roomId": "<room>", "text": "a\x00b"}),
    (
        "user",
        "post",
        "/api/v1/chat.postMessage",
        {"roomId": "<room>", "text": "ok", "emoji": "\x00"},
    ),
    ("user", "post", "/api/v1/chat.sendMessage", {"message": {"rid": "<room>", "msg": "a\x00"}}),
    ("user", "post", "/api/v1/chat.sendMessage", {"message": {"rid": "<room>\x00", "msg": "a"}}),
    (
        "user",
        "post",
        "/api/v1/chat.sendMessage",
        {"message": {"rid": "<room>", "msg": "a", "_id": "ab\x00"}},
    ),
    ("user", "post", "/api/v1/channels.create", {"name": "bad\x00name"}),
    ("user", "post", "/api/v1/channels.create", {"name": "goodname", "members": ["bo\x00ss"]}),
    ("boss", "post", "/api/v1/channels.setTopic", {"roomId": "<room>", "topic": "t\x00"}),
    (
        "boss",
        "post",
        "/api/v1/channels.setDescription",
        {"roomId": "<room>", "description": "\x00"},
    ),
    (
        "boss",
        "post",
        "/api/v1/channels.setAnnouncement",
        {"roomId": "<room>", "announcement": "\x00"},
    ),
    ("boss", "post", "/api/v1/channels.rename", {"roomId": "<room>", "name": "x\x00"}),
    ("user", "post", "/api/v1/users.update", {"userId": "<user>", "data": {"name": "a\x00b"}}),
    ("user", "post", "/api/v1/users.update", {"userId": "<user>\x00", "data": {"name": "ab"}}),
    ("user", "post", "/api/v1/users.update", {"userId": "<user>", "data": {"username": "a\x00b"}}),
    ("user", "post", "/api/v1/users.update", {"userId": "<user>", "data": {"email": "a\x00@b.c"}}),
    (
        "boss",
        "post",
        "/api/v1/users.create",
        {"email": "n\x00@e.com", "name": "N", "password": PASSWORD, "username": "newbie"},
    ),
    (
        "boss",
        "post",
        "/api/v1/users.create",
        {"email": "n@e.com", "name": "N\x00", "password": PASSWORD, "username": "newbie"},
    ),
    (
        "boss",
        "post",
        "/api/v1/users.create",
        {
            "email": "n@e.com",
            "name": "N",
            "password": PASSWORD,
            "username": "newbie",
            "roles": ["us\x00er"],
        },
    ),
    (
        None,
        "post",
        "/api/v1/users.register",
        {"username": "newbie", "email": "n@e.com", "pass": PASSWORD, "name": "\x00"},
    ),
    (
        None,
        "post",
        "/api/v1/users.register",
        {"username": "new\x00bie", "email": "n@e.com", "pass": PASSWORD},
    ),
    (None, "post", "/api/login", {"user": "si\x00ng", "password": PASSWORD}),
    (None, "post", "/api/v1/login", {"username": "sing", "password": "\x00"}),
    (None, "post", "/api/v1/login", {"resume": "\x00" * 43}),
    ("boss", "post", "/api/v1/roles.create", {"name": "pl\x00an"}),
    ("boss", "post", "/api/v1/roles.addUserToRole", {"roleName": "b\x00t", "username": "sing"}),
    (
        "boss",
        "post",
        "/api/v1/permissions.update",
        {"permissions": [{"_id": "create-c\x00", "roles": ["admin"]}]},
    ),
    (
        "boss",
        "post",
        "/api/v1/permissions.update",
        {"permissions": [{"_id": "create-c", "roles": ["ad\x00min"]}]},
    ),
    (
        "boss",
        "post",
        "/api/bulk/createRoom",
        {"rooms": [{"name": "made", "members": ["si\x00ng"]}]},
    ),
    (
        "boss",
        "post",
        "/api/bulk/register",
        {"users": [{"email": "n@e.com", "name": "n\x00", "pass": PASSWORD}]},
    ),
    ("user", "get", "/api/v1/users.info", {"userId": "ab\x00"}),
    ("user", "get", "/api/v1/users.info", {"username": "si\x00ng"}),
    ("user", "get", "/api/v1/channels.info", {"roomName": "lob\x00by"}),
    ("user", "get", "/api/v1/chat.getMessage", {"msgId": "ab\x00"}),
    ("boss", "get", "/api/v1/roles.getUsersInRole", {"role": "ad\x00min"}),
]


@pytest.mark.parametrize(("who", "method", "path", "params"), NUL_CASES, ids=lambda v: str(v)[:40])
def test_nul_bytes_anywhere_are_a_4xx_and_write_nothing(
    api, auth_headers, user, boss, room, who, method, path, params
):
    def fill(value):
        return value.replace("<room>", room.pk).replace("<user>", user.pk)

    path = fill(path)
    params = json.loads(fill(json.dumps(params)))
    if who is not None:
        api.credentials(**auth_headers({"user": user, "boss": boss}[who]))
    before = database_state()

    if method == "get":
        response = api.get(path, params)
    else:
        response = api.post(path, json.dumps(params), content_type="application/json")

    assert_refused_in_envelope(response)
    assert database_state() == before


@pytest.mark.parametrize(
    "name",
    [
        "caf\u00e9",
        "\u05e9\u05dc\u05d5\u05dd",
        "emoji\U0001f600",
        "a\u0301",
        "a b",
        "<b>",
        "x'--",
        "a" * 65,
    ],
)
def test_names_outside_the_name_pattern_are_refused(api, auth_headers, user, boss, name):
    as_user, as_boss = auth_headers(user), auth_headers(boss)
    api.credentials(**as_user)
    before = database_state()

    answers = [
        api.post("/api/v1/channels.create", {"name": name}, format="json"),
        api.post(
            "/api/v1/users.update", {"userId": user.pk, "data": {"username": name}}, format="json"
        ),
    ]
    api.credentials(**as_boss)
    answers.append(api.post("/api/bulk/createRoom", {"rooms": [{"name": name}]}, format="json"))

    for response in answers:
        assert_refused_in_envelope(response, 400)
    assert database_state() == before


# --- ids of the wrong shape -----------------------------------------------------------------------

BAD_IDS = [
    "",
    "a",
    "GENERA",
    "x" * 16,
    "x" * 18,
    "x" * 35,
    "x" * 5000,
    "GENERAL\u0301",
    "\U0001f600" * 17,
    "' OR '1'='1",
    "%00",
    "..%2F..%2Fetc",
    "<script>",
]


@pytest.mark.parametrize("bad_id", BAD_IDS, ids=lambda v: repr(v)[:20])
def test_room_ids_of_the_wrong_shape_are_not_found(api, auth_headers, user, room, bad_id):
    api.credentials(**auth_headers(user))
    before = database_state()
    from urllib.parse import quote

    quoted = quote(bad_id, safe="") or "%20"
    answers = [
        api.post(f"/api/rooms/{quoted}/join", {}),
        api.post(f"/api/rooms/{quoted}/send", {"msg": "x"}, format="json"),
        api.get(f"/api/rooms/{quoted}/messages"),
        api.get("/api/v1/channels.info", {"roomId": bad_id}),
        api.get("/api/v1/channels.history", {"roomId": bad_id}),
        api.get("/api/v1/groups.info", {"roomId": bad_id}),
        api.post("/api/v1/chat.postMessage", {"roomId": bad_id, "text": "x"}, format="json"),
        api.post(
            "/api/v1/chat.sendMessage", {"message": {"rid": bad_id, "msg": "x"}}, format="json"
        ),
        api.get("/api/v1/chat.getMessage", {"msgId": bad_id}),
        api.get("/api/v1/users.info", {"userId": bad_id}),
        api.post("/api/v1/users.update", {"userId": bad_id, "data": {"name": "x"}}, format="json"),
        api.post("/api/v1/channels.invite", {"roomId": room.pk, "userId": bad_id}, format="json"),
    ]

    for response in answers:
        assert_refused_in_envelope(response)
    assert database_state() == before


def test_a_client_message_id_of_the_wrong_length_is_refused(api, auth_headers, user, room):
    api.credentials(**auth_headers(user))

    for bad in ["x" * 33, "", "has space", "\u00e9" * 5]:
        response = api.post(
            "/api/v1/chat.sendMessage",
            {"message": {"rid": room.pk, "msg": "x", "_id": bad}},
            format="json",
        )
        if bad == "":  # an empty _id is no _id: the server picks one
            assert response.status_code == 200
        else:
            assert_refused_in_envelope(response, 400)
    assert Message.objects.count() == 1


# --- paging numbers -------------------------------------------------------------------------------

PAGING_VALUES = [
    "-1",
    "-99999999999999999999",
    "99999999999999999999",
    "1e9",
    "0x10",
    "1.5",
    "abc",
    "",
    " 7 ",
    "\u0661",
]


@pytest.fixture
def history(user, room):
    for _ in range(3):
        MessageFactory(room=room, author=user)
    return room


@pytest.mark.parametrize("value", PAGING_VALUES, ids=repr)
@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/api/rooms/<room>/messages", "count"),
        ("/api/rooms/<room>/messages", "limit"),
        ("/api/rooms/<room>/messages", "skip"),
        ("/api/v1/channels.history", "count"),
        ("/api/v1/channels.history", "offset"),
        ("/api/v1/channels.messages", "count"),
        ("/api/v1/channels.messages", "offset"),
        ("/api/v1/channels.list", "offset"),
        ("/api/v1/channels.list", "count"),
        ("/api/v1/channels.members", "offset"),
        ("/api/v1/users.list", "count"),
        ("/api/v1/users.list", "offset"),
    ],
)
def test_paging_numbers_out_of_range_are_a_400_or_a_page(
    api, auth_headers, user, history, path, name, value
):
    api.credentials(**auth_headers(user))

    response = api.get(path.replace("<room>", history.pk), {"roomId": history.pk, name: value})

    assert response.status_code < 500, response.content[:300]
    if response.status_code >= 400:
        assert_refused_in_envelope(response, 400)
    else:
        body = response.json()
        items = next(v for v in body.values() if isinstance(v, list))
        assert len(items) <= 100


@pytest.mark.parametrize(
    "value",
    [
        "-1",
        "0",
        "1",
        "99999999999999999999",
        "9999-12-31T23:59:59.999Z",
        "0001-01-01T00:00:00Z",
        "10000-01-01T00:00:00Z",
        "2020-13-45T99:99:99Z",
        "2020-01-01T00:00:00+99:00",
        "now",
        "NaN",
        "\u0661\u0662",
    ],
    ids=repr,
)
@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/api/rooms/<room>/messages", "latest"),
        ("/api/rooms/<room>/messages", "oldest"),
        ("/api/v1/channels.history", "latest"),
        ("/api/v1/channels.history", "oldest"),
        ("/api/v1/roles.sync", "updatedSince"),
        ("/api/v1/permissions.listAll", "updatedSince"),
    ],
)
def test_paging_times_out_of_range_are_a_400_or_a_page(
    api, auth_headers, user, history, path, name, value
):
    api.credentials(**auth_headers(user))

    response = api.get(path.replace("<room>", history.pk), {"roomId": history.pk, name: value})

    assert response.status_code < 500, response.content[:300]
    if response.status_code >= 400:
        assert_refused_in_envelope(response, 400)
