"""v1 users.*: register, create, info, list, update, delete, setActiveStatus, createToken, with
Rocket.Chat's shapes and error words."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import LoginToken, User
from permissions.models import Permission, Role
from rooms.models import Message, Subscription
from tests.factories import MessageFactory, UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"
FORBIDDEN = "User does not have the permissions required for this action [error-unauthorized]"
BRIEF_KEYS = {"_id", "username", "name", "status", "active", "type", "utcOffset"}
FULL_KEYS = BRIEF_KEYS | {"emails", "roles", "createdAt", "_updatedAt"}


@pytest.fixture
def boss(db) -> User:
    """An administrator: the admin role holds every users.* permission by default."""
    return UserFactory(username="boss", roles=["admin", "user"])


def error_of(response) -> tuple[int, str, str]:
    body = response.json()
    assert body["success"] is False
    return response.status_code, body["error"], body["errorType"]


def log_in(api, username: str, password: str) -> int:
    return api.post(
        "/api/v1/login", {"user": username, "password": password}, format="json"
    ).status_code


# --- users.register --------------------------------------------------------------------------

REGISTRATION = {
    "username": "newbie",
    "email": "newbie@example.com",
    "pass": PASSWORD,
    "name": "New",
}


def test_register_answers_the_new_user_in_full(api):
    response = api.post("/api/v1/users.register", REGISTRATION, format="json")

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"user", "success"}
    assert body["success"] is True
    new = body["user"]
    assert set(new) == FULL_KEYS
    assert (new["username"], new["name"], new["status"], new["active"], new["type"]) == (
        "newbie",
        "New",
        "offline",
        True,
        "user",
    )
    assert new["emails"] == [{"address": "newbie@example.com", "verified": False}]
    assert new["roles"] == ["user"]


def test_a_registered_user_can_log_in_and_is_in_the_default_rooms(api):
    user_id = api.post("/api/v1/users.register", REGISTRATION).json()["user"]["_id"]  # a form

    assert log_in(api, "newbie", PASSWORD) == 200
    assert Subscription.objects.filter(user_id=user_id, room_id="GENERAL").exists()


def test_register_refuses_a_signed_in_user(as_user, user):
    response = as_user(user).post("/api/v1/users.register", REGISTRATION, format="json")

    assert error_of(response) == (400, "Logged in users can not register again.", "error-failure")
    assert not User.objects.filter(username="newbie").exists()


def test_register_ignores_bad_credentials_as_rocket_chat_does(api):
    response = api.post(
        "/api/v1/users.register",
        REGISTRATION,
        format="json",
        HTTP_X_AUTH_TOKEN="x" * 43,
        HTTP_X_USER_ID="nobody",
    )

    assert response.status_code == 200


def test_registration_can_be_switched_off(api, settings):
    settings.REGISTRATION_ENABLED = False

    response = api.post("/api/v1/users.register", REGISTRATION, format="json")

    assert error_of(response) == (
        400,
        "User registration is disabled [error-user-registration-disabled]",
        "error-user-registration-disabled",
    )
    assert not User.objects.filter(username="newbie").exists()

    settings.REGISTRATION_ENABLED = True
    assert api.post("/api/v1/users.register", REGISTRATION, format="json").status_code == 200


@pytest.mark.parametrize("missing", ["username", "email", "pass"])
def test_register_requires_username_email_and_pass(api, missing):
    given = {key: value for key, value in REGISTRATION.items() if key != missing}

    response = api.post("/api/v1/users.register", given, format="json")

    assert error_of(response) == (
        400,
        f"must have required property '{missing}' [invalid-params]",
        "invalid-params",
    )


@pytest.mark.parametrize(
    ("change", "error", "error_type"),
    [
        ({"username": "SING"}, "Username is already in use", "error-failure"),
        (
            {"email": "Sing@Example.com"},
            "sing@example.com is already in use :( [error-field-unavailable]",
            "error-field-unavailable",
        ),
        ({"email": "nope"}, "Invalid email nope [error-invalid-email]", "error-invalid-email"),
        (
            {"username": "has space"},
            "has space is not a valid username, use only letters, numbers, dots, hyphens and "
            "underscores [username-invalid]",
            "username-invalid",
        ),
        ({"username": 7}, "must be string [invalid-params]", "invalid-params"),
    ],
)
def test_register_refusals_in_rocket_chats_words(api, user, change, error, error_type):
    response = api.post("/api/v1/users.register", REGISTRATION | change, format="json")

    assert error_of(response) == (400, error, error_type)
    assert User.objects.count() == 1
    assert api.post("/api/v1/users.register", REGISTRATION, format="json").status_code == 200


def test_register_applies_the_password_rules(api):
    response = api.post("/api/v1/users.register", REGISTRATION | {"pass": "123"}, format="json")

    status, error, error_type = error_of(response)
    assert (status, error_type) == (400, "error-password-policy-not-met")
    assert error.startswith("This password is too short.")
    assert error.endswith("[error-password-policy-not-met]")


# --- users.create ----------------------------------------------------------------------------

NEW_USER = {"email": "bot@example.com", "name": "Bot", "password": PASSWORD, "username": "bot1"}


def test_create_makes_a_user_with_the_user_role_in_the_default_rooms(as_user, boss):
    response = as_user(boss).post("/api/v1/users.create", NEW_USER, format="json")

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"user", "success"}
    assert set(body["user"]) == FULL_KEYS
    assert (body["user"]["username"], body["user"]["roles"], body["user"]["active"]) == (
        "bot1",
        ["user"],
        True,
    )
    assert Subscription.objects.filter(user_id=body["user"]["_id"], room_id="GENERAL").exists()
    assert log_in(as_user(boss), "bot1", PASSWORD) == 200


def test_create_takes_roles_active_and_join_default_channels(as_user, boss):
    response = as_user(boss).post(
        "/api/v1/users.create",
        NEW_USER
        | {"roles": ["bot"], "active": False, "joinDefaultChannels": False, "verified": True},
        format="json",
    )

    new = response.json()["user"]
    assert (new["roles"], new["type"], new["active"]) == (["bot"], "bot", False)
    assert not Subscription.objects.filter(user_id=new["_id"]).exists()
    assert log_in(as_user(boss), "bot1", PASSWORD) == 401  # inactive


def test_create_takes_a_form_with_repeated_roles(as_user, boss):
    form = NEW_USER | {"roles": ["bot", "user"], "active": "true"}

    response = as_user(boss).post("/api/v1/users.create", form)

    assert response.json()["user"]["roles"] == ["bot", "user"]


def test_create_needs_create_user(as_user, user):
    response = as_user(user).post("/api/v1/users.create", NEW_USER, format="json")

    assert error_of(response) == (403, FORBIDDEN, "error-unauthorized")
    assert not User.objects.filter(username="bot1").exists()


def test_create_needs_a_login(api):
    assert api.post("/api/v1/users.create", NEW_USER, format="json").status_code == 401


@pytest.mark.parametrize(
    ("change", "error", "error_type"),
    [
        (
            {"roles": ["user", "wizard"]},
            "The field Roles consist invalid role id [error-action-not-allowed]",
            "error-action-not-allowed",
        ),
        (
            {"roles": ["owner"]},  # a room role, not a global one
            "The field Roles consist invalid role id [error-action-not-allowed]",
            "error-action-not-allowed",
        ),
        (
            {"name": " "},
            "The field Name is required [error-the-field-is-required]",
            "error-the-field-is-required",
        ),
        (
            {"username": ""},
            "The field Username is required [error-the-field-is-required]",
            "error-the-field-is-required",
        ),
        (
            {"username": "Sing"},
            "Sing is already in use :( [error-field-unavailable]",
            "error-field-unavailable",
        ),
        (
            {"username": "a;b"},
            "a;b is not a valid username [error-input-is-not-a-valid-field]",
            "error-input-is-not-a-valid-field",
        ),
        (
            {"email": "sing@example.com"},
            "sing@example.com is already in use :( [error-field-unavailable]",
            "error-field-unavailable",
        ),
        ({"email": "x@"}, "Invalid email x@ [error-invalid-email]", "error-invalid-email"),
        ({"roles": "admin"}, "must be array [invalid-params]", "invalid-params"),
        ({"active": "maybe"}, "must be boolean [invalid-params]", "invalid-params"),
    ],
)
def test_create_refusals_in_rocket_chats_words(as_user, boss, user, change, error, error_type):
    api = as_user(boss)

    response = api.post("/api/v1/users.create", NEW_USER | change, format="json")

    assert error_of(response) == (400, error, error_type)
    assert not User.objects.filter(username="bot1").exists()
    assert api.post("/api/v1/users.create", NEW_USER, format="json").status_code == 200


@pytest.mark.parametrize("missing", ["email", "name", "password", "username"])
def test_create_requires_email_name_password_and_username(as_user, boss, missing):
    given = {key: value for key, value in NEW_USER.items() if key != missing}

    response = as_user(boss).post("/api/v1/users.create", given, format="json")

    assert error_of(response) == (
        400,
        f"must have required property '{missing}' [invalid-params]",
        "invalid-params",
    )
    assert (
        response.json()["detailed_error"] == f"{missing}: must have required property '{missing}'"
    )


def test_create_applies_the_password_rules(as_user, boss):
    response = as_user(boss).post(
        "/api/v1/users.create", NEW_USER | {"password": "password"}, format="json"
    )

    assert error_of(response)[0::2] == (400, "error-password-policy-not-met")


# --- users.info ------------------------------------------------------------------------------


def test_info_of_another_user_leaves_out_emails_and_roles(as_user, user):
    other = UserFactory(username="other", name="Other")

    response = as_user(user).get("/api/v1/users.info", {"username": "OTHER"})

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"user", "success"}
    assert body["user"] == {
        "_id": other.pk,
        "username": "other",
        "name": "Other",
        "status": "offline",
        "active": True,
        "type": "user",
        "utcOffset": 0,
        "canViewAllInfo": False,
    }


def test_info_of_oneself_is_in_full(as_user, user):
    response = as_user(user).get("/api/v1/users.info", {"userId": user.pk})

    shown = response.json()["user"]
    assert set(shown) == FULL_KEYS | {"canViewAllInfo"}
    assert shown["canViewAllInfo"] is True
    assert shown["emails"] == [{"address": "sing@example.com", "verified": False}]


def test_info_is_in_full_with_view_full_other_user_info(as_user, boss, user):
    shown = as_user(boss).get("/api/v1/users.info", {"userId": user.pk}).json()["user"]

    assert set(shown) == FULL_KEYS | {"canViewAllInfo"}
    assert shown["roles"] == ["user"]


def test_info_of_an_unknown_user(as_user, user):
    response = as_user(user).get("/api/v1/users.info", {"userId": "nobody"})

    assert error_of(response) == (400, "User not found.", "error-failure")


def test_info_needs_a_user_id_or_username(as_user, user):
    response = as_user(user).get("/api/v1/users.info")

    assert error_of(response) == (400, "Invalid search query.", "error-failure")


# --- users.list ------------------------------------------------------------------------------


def test_list_answers_a_page_of_users(as_user, user):
    UserFactory(username="amy", name="amy")
    UserFactory(username="zed", name="Bob")

    response = as_user(user).get("/api/v1/users.list")

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"users", "count", "offset", "total", "success"}
    assert (body["count"], body["offset"], body["total"]) == (3, 0, 3)
    assert [shown["username"] for shown in body["users"]] == ["amy", "sing", "zed"]
    others = [shown for shown in body["users"] if shown["_id"] != user.pk]
    assert all(set(shown) == BRIEF_KEYS for shown in others)
    mine = next(shown for shown in body["users"] if shown["_id"] == user.pk)
    assert set(mine) == FULL_KEYS


def test_list_sorts_and_pages(as_user, user):
    UserFactory(username="amy", name="amy")
    UserFactory(username="zed", name="Bob")  # names sort regardless of case: amy, Bob, Sing

    response = as_user(user).get(
        "/api/v1/users.list", {"sort": json.dumps({"name": -1}), "count": 2, "offset": 1}
    )

    body = response.json()
    assert [shown["name"] for shown in body["users"]] == ["Bob", "amy"]
    assert (body["count"], body["offset"], body["total"]) == (2, 1, 3)


def test_list_shows_everything_with_view_full_other_user_info(as_user, boss, user):
    body = as_user(boss).get("/api/v1/users.list").json()

    assert all(set(shown) == FULL_KEYS for shown in body["users"])


def test_list_needs_view_d_room(as_user):
    guest = UserFactory(roles=["guest"])

    response = as_user(guest).get("/api/v1/users.list")

    assert error_of(response) == (403, FORBIDDEN, "error-unauthorized")


def test_list_costs_the_same_queries_for_1_user_and_for_11(api, auth_headers, user):
    def queries() -> int:
        headers = auth_headers(user)
        with CaptureQueriesContext(connection) as captured:
            response = api.get("/api/v1/users.list", **headers)
        assert response.status_code == 200
        assert response.json()["total"] == User.objects.count()
        return len(captured)

    alone = queries()
    for _ in range(10):
        UserFactory(roles=["user", "bot"])
    assert queries() == alone


# --- users.update ----------------------------------------------------------------------------


def test_update_of_ones_own_profile(as_user, user):
    response = as_user(user).post(
        "/api/v1/users.update",
        {
            "userId": user.pk,
            "data": {"name": "Sung", "username": "sung", "email": "sung@example.com"},
        },
        format="json",
    )

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"user", "success"}
    assert set(body["user"]) == FULL_KEYS
    assert (body["user"]["name"], body["user"]["username"]) == ("Sung", "sung")
    assert body["user"]["emails"] == [{"address": "sung@example.com", "verified": False}]
    user.refresh_from_db()
    assert (user.name, user.username, user.email) == ("Sung", "sung", "sung@example.com")


def test_a_new_password_ends_ones_other_logins_but_not_this_one(api, auth_headers, user):
    elsewhere = auth_headers(user)
    here = auth_headers(user)

    response = api.post(
        "/api/v1/users.update",
        {
            "userId": user.pk,
            "data": {"password": "a whole new passphrase", "currentPassword": PASSWORD},
        },
        format="json",
        **here,
    )

    assert response.status_code == 200
    assert api.get("/api/v1/me", **here).status_code == 200
    assert api.get("/api/v1/me", **elsewhere).status_code == 401
    assert log_in(api, "sing", PASSWORD) == 401
    assert log_in(api, "sing", "a whole new passphrase") == 200


def test_update_takes_data_as_json_in_a_form(as_user, user):
    response = as_user(user).post(
        "/api/v1/users.update", {"userId": user.pk, "data": json.dumps({"name": "Sung"})}
    )

    assert response.json()["user"]["name"] == "Sung"


def test_update_of_another_user_needs_edit_other_user_info(as_user, user):
    other = UserFactory(name="Other")

    response = as_user(user).post(
        "/api/v1/users.update", {"userId": other.pk, "data": {"name": "Mine"}}, format="json"
    )

    assert error_of(response) == (403, FORBIDDEN, "error-unauthorized")
    other.refresh_from_db()
    assert other.name == "Other"


@pytest.mark.parametrize("data", [{"roles": ["user", "admin"]}, {"active": False}])
def test_changing_ones_own_roles_or_active_flag_needs_edit_other_user_info(as_user, user, data):
    api = as_user(user)

    response = api.post("/api/v1/users.update", {"userId": user.pk, "data": data}, format="json")

    assert error_of(response) == (403, FORBIDDEN, "error-unauthorized")
    user.refresh_from_db()
    assert user.is_active
    assert list(user.roles.values_list("pk", flat=True)) == ["user"]
    # Sending what is already there changes nothing, and needs nothing.
    same = {"roles": ["user"], "active": True}
    assert (
        api.post(
            "/api/v1/users.update", {"userId": user.pk, "data": same}, format="json"
        ).status_code
        == 200
    )


def test_an_admin_updates_another_users_roles_password_and_active_flag(
    api, auth_headers, boss, user
):
    their_login = auth_headers(user)

    response = api.post(
        "/api/v1/users.update",
        {
            "userId": user.pk,
            "data": {"name": "Renamed", "roles": ["bot", "user"], "password": "brand new words"},
        },
        format="json",
        **auth_headers(boss),
    )

    assert response.status_code == 200
    shown = response.json()["user"]
    assert (shown["name"], shown["roles"], shown["type"]) == ("Renamed", ["bot", "user"], "bot")
    assert api.get("/api/v1/me", **their_login).status_code == 401  # all their logins end
    assert log_in(api, "sing", "brand new words") == 200

    response = api.post(
        "/api/v1/users.update",
        {"userId": user.pk, "data": {"active": False}},
        format="json",
        **auth_headers(boss),
    )
    assert response.json()["user"]["active"] is False
    assert log_in(api, "sing", "brand new words") == 401


@pytest.mark.parametrize(
    ("data", "error", "error_type"),
    [
        (
            {"name": "Changed", "username": "boss"},
            "boss is already in use :( [error-field-unavailable]",
            "error-field-unavailable",
        ),
        (
            {"name": "Changed", "email": "BOSS@example.com"},
            "BOSS@example.com is already in use :( [error-field-unavailable]",
            "error-field-unavailable",
        ),
        (
            {"name": "Changed", "email": "not-an-email"},
            "Invalid email not-an-email [error-invalid-email]",
            "error-invalid-email",
        ),
        (
            {"name": "Changed", "username": "no way"},
            "no way is not a valid username [error-input-is-not-a-valid-field]",
            "error-input-is-not-a-valid-field",
        ),
        (
            {"name": "Changed", "roles": ["wizard"]},
            "The field Roles consist invalid role id [error-action-not-allowed]",
            "error-action-not-allowed",
        ),
        ({"name": 3}, "must be string [invalid-params]", "invalid-params"),
    ],
)
def test_update_refusals_change_nothing(as_user, boss, user, data, error, error_type):
    response = as_user(boss).post(
        "/api/v1/users.update", {"userId": user.pk, "data": data}, format="json"
    )

    assert error_of(response) == (400, error, error_type)
    user.refresh_from_db()
    assert (user.name, user.username, user.email) == ("Sing", "sing", "sing@example.com")


def test_update_applies_the_password_rules(as_user, user):
    response = as_user(user).post(
        "/api/v1/users.update",
        {"userId": user.pk, "data": {"password": "1234", "currentPassword": PASSWORD}},
        format="json",
    )

    assert error_of(response)[0::2] == (400, "error-password-policy-not-met")
    assert log_in(as_user(user), "sing", PASSWORD) == 200


@pytest.mark.parametrize(
    ("current", "error"),
    [
        (
            {},
            (
                "The current password is required to set a new one [error-password-required]",
                "error-password-required",
            ),
        ),
        (
            {"currentPassword": "wrong"},
            ("Invalid password [error-invalid-password]", "error-invalid-password"),
        ),
    ],
)
def test_changing_ones_own_password_takes_the_current_one(as_user, user, current, error):
    """Safer than Rocket.Chat's users.update: a stolen token alone cannot lock the owner out."""
    response = as_user(user).post(
        "/api/v1/users.update",
        {"userId": user.pk, "data": {"password": "a whole new passphrase", **current}},
        format="json",
    )

    assert error_of(response) == (400, *error)
    assert log_in(as_user(user), "sing", PASSWORD) == 200


def test_update_of_an_unknown_user(as_user, boss):
    response = as_user(boss).post(
        "/api/v1/users.update", {"userId": "nobody", "data": {"name": "x"}}, format="json"
    )

    assert error_of(response) == (400, "Invalid user [error-invalid-user]", "error-invalid-user")


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"data": {"name": "x"}}, "must have required property 'userId' [invalid-params]"),
        ({"userId": "x"}, "must have required property 'data' [invalid-params]"),
        ({"userId": "x", "data": "name"}, "must be object [invalid-params]"),
    ],
)
def test_update_needs_a_user_id_and_a_data_object(as_user, user, body, error):
    response = as_user(user).post("/api/v1/users.update", body, format="json")

    assert error_of(response) == (400, error, "invalid-params")


# --- users.delete ----------------------------------------------------------------------------


def test_delete_keeps_the_messages_without_an_author_and_ends_the_logins(
    api, auth_headers, boss, user
):
    message = MessageFactory(author=user)
    their_login = auth_headers(user)

    response = api.post(
        "/api/v1/users.delete", {"userId": user.pk}, format="json", **auth_headers(boss)
    )

    assert response.status_code == 200
    assert response.json() == {"success": True}
    assert not User.objects.filter(pk=user.pk).exists()
    assert Message.objects.get(pk=message.pk).author_id is None
    assert not LoginToken.objects.filter(user_id=user.pk).exists()
    assert api.get("/api/v1/me", **their_login).status_code == 401


def test_delete_finds_the_user_by_username_too(as_user, boss, user):
    response = as_user(boss).post("/api/v1/users.delete", {"username": "sing"}, format="json")

    assert response.status_code == 200
    assert not User.objects.filter(pk=user.pk).exists()


def test_delete_needs_delete_user(as_user, user):
    other = UserFactory()

    response = as_user(user).post("/api/v1/users.delete", {"userId": other.pk}, format="json")

    assert error_of(response) == (403, FORBIDDEN, "error-unauthorized")
    assert User.objects.filter(pk=other.pk).exists()


def test_delete_of_an_unknown_user(as_user, boss):
    response = as_user(boss).post("/api/v1/users.delete", {"userId": "nobody"}, format="json")

    assert error_of(response) == (
        400,
        'The required "userId" or "username" param provided does not match any users '
        "[error-invalid-user]",
        "error-invalid-user",
    )


def test_the_last_admin_cannot_be_deleted(as_user, boss):
    api = as_user(boss)

    response = api.post("/api/v1/users.delete", {"userId": boss.pk}, format="json")

    assert error_of(response) == (
        400,
        "Leaving the app without admins is not allowed [error-action-not-allowed]",
        "error-action-not-allowed",
    )
    assert User.objects.filter(pk=boss.pk).exists()
    UserFactory(roles=["admin"])
    assert api.post("/api/v1/users.delete", {"userId": boss.pk}, format="json").status_code == 200


# --- users.setActiveStatus -------------------------------------------------------------------


def test_a_deactivated_user_cannot_log_in_and_their_tokens_stop_working(
    api, auth_headers, boss, user
):
    their_login = auth_headers(user)
    admin_login = auth_headers(boss)

    response = api.post(
        "/api/v1/users.setActiveStatus",
        {"userId": user.pk, "activeStatus": False},
        format="json",
        **admin_login,
    )

    assert response.status_code == 200
    assert response.json() == {"user": {"_id": user.pk, "active": False}, "success": True}
    refused = api.get("/api/v1/me", **their_login)
    assert error_of(refused) == (401, "You must be logged in to do this.", "unauthorized")
    assert log_in(api, "sing", PASSWORD) == 401

    # Reactivated, they log in again; the tokens they held before stay dead.
    response = api.post(
        "/api/v1/users.setActiveStatus",
        {"userId": user.pk, "activeStatus": "true"},  # a form's text works too
        **admin_login,
    )
    assert response.json() == {"user": {"_id": user.pk, "active": True}, "success": True}
    assert api.get("/api/v1/me", **their_login).status_code == 401
    assert log_in(api, "sing", PASSWORD) == 200


def test_set_active_status_needs_edit_other_user_info(as_user, user):
    other = UserFactory()

    response = as_user(user).post(
        "/api/v1/users.setActiveStatus", {"userId": other.pk, "activeStatus": False}, format="json"
    )

    assert error_of(response) == (403, FORBIDDEN, "error-unauthorized")
    other.refresh_from_db()
    assert other.is_active


def test_set_active_status_of_an_unknown_user(as_user, boss):
    response = as_user(boss).post(
        "/api/v1/users.setActiveStatus", {"userId": "nobody", "activeStatus": False}, format="json"
    )

    assert error_of(response) == (400, "User not found", "error-failure")


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"activeStatus": False}, "must have required property 'userId' [invalid-params]"),
        ({"userId": "x"}, "must have required property 'activeStatus' [invalid-params]"),
        ({"userId": "x", "activeStatus": "maybe"}, "must be boolean [invalid-params]"),
    ],
)
def test_set_active_status_parameters(as_user, boss, body, error):
    response = as_user(boss).post("/api/v1/users.setActiveStatus", body, format="json")

    assert error_of(response) == (400, error, "invalid-params")


def test_the_last_active_admin_cannot_be_deactivated(as_user, boss):
    response = as_user(boss).post(
        "/api/v1/users.setActiveStatus", {"userId": boss.pk, "activeStatus": False}, format="json"
    )

    assert error_of(response) == (
        400,
        "Leaving the app without an active admin is not allowed [error-action-not-allowed]",
        "error-action-not-allowed",
    )
    boss.refresh_from_db()
    assert boss.is_active


# --- users.createToken -----------------------------------------------------------------------


def test_create_token_for_another_user_with_user_generate_access_token(api, auth_headers, boss):
    bot = UserFactory(username="bot1", roles=["bot"])

    response = api.post(
        "/api/v1/users.createToken", {"username": "bot1"}, format="json", **auth_headers(boss)
    )

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"data", "success"}
    assert set(body["data"]) == {"userId", "authToken"}
    assert body["data"]["userId"] == bot.pk
    me = api.get(
        "/api/v1/me",
        HTTP_X_AUTH_TOKEN=body["data"]["authToken"],
        HTTP_X_USER_ID=body["data"]["userId"],
    )
    assert me.json()["username"] == "bot1"


def test_create_token_for_oneself_needs_user_generate_access_token_too(as_user, user):
    """A token (stolen, say) cannot mint further logins for its user that would outlive it."""
    caller = as_user(user)
    response = caller.post("/api/v1/users.createToken", {"userId": user.pk}, format="json")

    assert response.status_code == 403
    assert response.json() == {
        "success": False,
        "status": "error",
        "message": "User does not have the permissions required for this action",
        "error": FORBIDDEN,
        "errorType": "error-unauthorized",
        "detailed_error": 'Missing permission "user-generate-access-token".',
        "request_id": response["X-Request-Id"],
        "status_code": 403,
    }
    assert LoginToken.objects.filter(user=user).count() == 1  # as_user's own login only

    Role.objects.get(pk="user").permissions.add("user-generate-access-token")
    granted = caller.post("/api/v1/users.createToken", {"userId": user.pk}, format="json")
    assert granted.json()["data"]["userId"] == user.pk
    assert LoginToken.objects.filter(user=user).count() == 2


def test_create_token_for_another_user_needs_user_generate_access_token(as_user, user):
    other = UserFactory()

    response = as_user(user).post("/api/v1/users.createToken", {"userId": other.pk}, format="json")

    assert error_of(response) == (403, FORBIDDEN, "error-unauthorized")
    assert not LoginToken.objects.filter(user=other).exists()


def test_create_token_refuses_before_looking_the_user_up(as_user, user):
    """Without the permission, a name that exists and one that does not get the same 403."""
    caller = as_user(user)
    for body in ({"username": "nobody-at-all"}, {"username": user.username}, {}):
        response = caller.post("/api/v1/users.createToken", body, format="json")
        assert error_of(response) == (403, FORBIDDEN, "error-unauthorized")


def test_create_token_needs_a_user(as_user, boss):
    response = as_user(boss).post("/api/v1/users.createToken", {}, format="json")

    assert error_of(response) == (
        400,
        'The required "userId" or "username" param was not provided '
        "[error-user-param-not-provided]",
        "error-user-param-not-provided",
    )


# --- who may do what -------------------------------------------------------------------------


def _create(other: User) -> tuple[str, str, dict]:
    return "post", "/api/v1/users.create", NEW_USER


def _list(other: User) -> tuple[str, str, dict]:
    return "get", "/api/v1/users.list", {}


def _update(other: User) -> tuple[str, str, dict]:
    return "post", "/api/v1/users.update", {"userId": other.pk, "data": {"name": "Changed"}}


def _delete(other: User) -> tuple[str, str, dict]:
    return "post", "/api/v1/users.delete", {"userId": other.pk}


def _set_active(other: User) -> tuple[str, str, dict]:
    return "post", "/api/v1/users.setActiveStatus", {"userId": other.pk, "activeStatus": False}


def _create_token(other: User) -> tuple[str, str, dict]:
    return "post", "/api/v1/users.createToken", {"userId": other.pk}


@pytest.mark.parametrize(
    ("permission", "request_for"),
    [
        ("create-user", _create),
        ("view-d-room", _list),
        ("edit-other-user-info", _update),
        ("delete-user", _delete),
        ("edit-other-user-info", _set_active),
        ("user-generate-access-token", _create_token),
    ],
)
def test_each_endpoint_is_allowed_exactly_by_its_permission(
    api, auth_headers, permission, request_for
):
    """A caller whose only role is `clerk` gets 403 until clerk holds the permission."""
    clerk = Role.objects.create(name="clerk")
    caller = UserFactory(roles=["clerk"])
    method, path, body = request_for(UserFactory(name="Other"))

    def call():
        send = getattr(api, method)
        if method == "get":
            return send(path, body, **auth_headers(caller))
        return send(path, body, format="json", **auth_headers(caller))

    assert error_of(call()) == (403, FORBIDDEN, "error-unauthorized")

    Permission.objects.get(pk=permission).roles.add(clerk)
    assert call().status_code == 200
