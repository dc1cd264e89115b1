"""users.getPreferences / setPreferences (known keys of their types only), getUsernameSuggestion,
autocomplete, and the logins one ends oneself: removeOtherTokens and logoutOtherClients close the
other logins' sockets (4001) and keep the caller's."""

from __future__ import annotations

import json

import pytest

from accounts.models import LoginToken
from accounts.tokens import issue_login_token
from rooms.models import Room
from tests.factories import SubscriptionFactory, UserFactory
from tests.realtime import DDPClient, SocketClosed, rest, run

pytestmark = pytest.mark.django_db


def test_preferences_start_empty_and_keep_what_is_set(signed_in, user):
    assert signed_in.get("/api/v1/users.getPreferences").json() == {
        "preferences": {},
        "success": True,
    }

    answer = signed_in.post(
        "/api/v1/users.setPreferences",
        {"data": {"useEmojis": False, "clockMode": 2, "highlights": ["deploy"]}},
        format="json",
    )
    assert answer.status_code == 200, answer.json()
    assert answer.json() == {
        "user": {
            "_id": user.pk,
            "settings": {
                "preferences": {"useEmojis": False, "clockMode": 2, "highlights": ["deploy"]}
            },
        },
        "success": True,
    }

    signed_in.post(
        "/api/v1/users.setPreferences", {"data": {"clockMode": 1}}, format="json"
    )  # the others stay
    assert signed_in.get("/api/v1/users.getPreferences").json()["preferences"] == {
        "useEmojis": False,
        "clockMode": 1,
        "highlights": ["deploy"],
    }
    assert signed_in.get("/api/v1/me").json()["settings"]["preferences"]["clockMode"] == 1


@pytest.mark.parametrize(
    ("data", "error", "detail"),
    [
        ({"fontColor": "red"}, "must NOT have additional properties", "data.fontColor"),
        ({"useEmojis": "yes"}, "must be boolean", "data.useEmojis"),
        ({"clockMode": True}, "must be number", "data.clockMode"),
        ({"highlights": ["a", 1]}, "must be array of strings", "data.highlights"),
    ],
)
def test_set_preferences_refuses_unknown_keys_and_wrong_types(signed_in, data, error, detail):
    answer = signed_in.post(
        "/api/v1/users.setPreferences",
        {"data": {"sendOnEnter": "normal", **data}},
        format="json",
    )

    assert answer.status_code == 400
    assert answer.json()["error"] == f"{error} [invalid-params]"
    assert answer.json()["detailed_error"].startswith(detail)
    # nothing was written, not even the valid key
    assert signed_in.get("/api/v1/users.getPreferences").json()["preferences"] == {}


def test_set_preferences_refuses_a_data_that_is_not_an_object(signed_in):
    answer = signed_in.post("/api/v1/users.setPreferences", {"data": [1]}, format="json")

    assert answer.status_code == 400
    assert answer.json()["error"] == "must be object [invalid-params]"


def test_set_preferences_of_another_user_needs_edit_other_user_info(as_user, alice):
    admin = UserFactory(username="boss", roles=["admin"])
    refused = as_user(UserFactory()).post(
        "/api/v1/users.setPreferences",
        {"userId": alice.pk, "data": {"hideRoles": True}},
        format="json",
    )
    assert refused.status_code == 400
    assert refused.json()["error"] == "Editing user is not allowed"

    done = as_user(admin).post(
        "/api/v1/users.setPreferences",
        {"userId": alice.pk, "data": {"hideRoles": True}},
        format="json",
    )
    assert done.json()["user"] == {
        "_id": alice.pk,
        "settings": {"preferences": {"hideRoles": True}},
    }


def test_username_suggestion_is_a_free_name_made_from_ones_name(as_user):
    jane = UserFactory(username="jd", name="Jane Doe")
    assert as_user(jane).get("/api/v1/users.getUsernameSuggestion").json() == {
        "result": "jane.doe",
        "success": True,
    }

    UserFactory(username="Jane.Doe")
    UserFactory(username="jane.doe1")
    assert as_user(jane).get("/api/v1/users.getUsernameSuggestion").json()["result"] == (
        "jane.doe2"
    )


def test_autocomplete_finds_active_users_but_the_exceptions(signed_in, alice):
    alina = UserFactory(username="alina", name="Alina")
    UserFactory(username="alister", is_active=False)
    selector = {"term": "ali", "exceptions": ["alice"], "conditions": {}}

    answer = signed_in.get("/api/v1/users.autocomplete", {"selector": json.dumps(selector)})

    assert answer.json() == {
        "items": [{"_id": alina.pk, "username": "alina", "name": "Alina", "status": "offline"}],
        "success": True,
    }


def test_autocomplete_without_view_d_room_shows_only_users_sharing_a_room(as_user, alice, bob):
    guest = UserFactory(username="guest1", roles=["guest"])
    room = Room.objects.get(pk="GENERAL")
    SubscriptionFactory(room=room, user=guest)
    SubscriptionFactory(room=room, user=alice)

    answer = as_user(guest).get("/api/v1/users.autocomplete", {"selector": '{"term": ""}'})

    assert [item["username"] for item in answer.json()["items"]] == ["alice", "guest1"]


def test_autocomplete_refuses_a_bad_selector(signed_in):
    missing = signed_in.get("/api/v1/users.autocomplete")
    assert missing.json()["error"] == "must have required property 'selector' [invalid-params]"

    not_json = signed_in.get("/api/v1/users.autocomplete", {"selector": "{"})
    assert not_json.status_code == 400

    conditions = signed_in.get(
        "/api/v1/users.autocomplete", {"selector": '{"conditions": {"$where": "1"}}'}
    )
    assert conditions.status_code == 400
    assert conditions.json()["error"] == "error-invalid-query"


# --- ending one's other logins ------------------------------------------------------------------


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("endpoint", ["users.removeOtherTokens", "users.logoutOtherClients"])
def test_ending_other_logins_closes_their_sockets_and_keeps_the_callers(api, alice, endpoint):
    phone, laptop = issue_login_token(user=alice), issue_login_token(user=alice)
    bob_token = issue_login_token(user=UserFactory(username="bob2"))

    async def scenario():
        async with DDPClient() as on_phone, DDPClient() as on_laptop:
            await on_phone.login_resume(phone)
            await on_laptop.login_resume(laptop)
            answer = await rest(api, "post", f"/api/v1/{endpoint}", alice, laptop)
            with pytest.raises(SocketClosed) as closed:
                await on_phone.wait_for(lambda frame: False, 3.0)
            await on_laptop.send({"msg": "ping", "id": "still"})
            pong = await on_laptop.wait_for(lambda frame: frame.get("msg") == "pong")
            return answer, closed.value.code, pong

    answer, code, pong = run(scenario())

    assert code == 4001
    assert pong == {"msg": "pong", "id": "still"}
    kept = LoginToken.objects.get(user=alice)
    if endpoint == "users.removeOtherTokens":
        assert answer.json() == {"success": True}
    else:
        assert answer.json() == {
            "token": laptop,
            "tokenExpires": kept.expires_at.isoformat(timespec="milliseconds").replace(
                "+00:00", "Z"
            ),
            "success": True,
        }
    headers = {"HTTP_X_USER_ID": alice.pk}
    assert api.get("/api/v1/me", HTTP_X_AUTH_TOKEN=phone, **headers).status_code == 401
    assert api.get("/api/v1/me", HTTP_X_AUTH_TOKEN=laptop, **headers).status_code == 200
    # another user's logins are not touched
    assert LoginToken.objects.exclude(user=alice).count() == 1
    assert bob_token
