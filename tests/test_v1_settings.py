"""Rocket.Chat's settings over v1: settings.public for anyone, settings and settings/<id> for
holders of view-privileged-setting, POST settings/<id> for edit-privileged-setting, and
service.configurations; a changed setting changes what the server does at the next request."""

import json

import pytest
from rest_framework.test import APIClient

from tests.factories import RoomFactory, SubscriptionFactory, UserFactory

pytestmark = pytest.mark.django_db

PUBLIC_IDS = [
    "Accounts_AllowEmailChange",
    "Accounts_AllowPasswordChange",
    "Accounts_AllowUserNameChange",
    "Accounts_RegistrationForm",
    "Accounts_ShowFormLogin",
    "DirectMesssage_maxUsers",
    "FileUpload_Enabled",
    "Language",
    "Message_AllowDeleting",
    "Message_AllowDeleting_BlockDeleteInMinutes",
    "Message_AllowDirectMessagesToYourself",
    "Message_AllowEditing",
    "Message_AllowEditing_BlockEditInMinutes",
    "Message_MaxAllowedSize",
    "Message_ShowEditedStatus",
    "Site_Name",
    "Site_Url",
    "UI_Use_Real_Name",
    "UTF8_Names_Validation",
]


@pytest.fixture
def site_admin(auth_headers):
    """A client of its own (as_user signs in the shared `api` client), signed in as an admin."""
    client = APIClient()
    client.credentials(**auth_headers(UserFactory(roles=["admin"])))
    return client


def test_settings_public_answers_anyone_with_the_defaults(api, settings):
    body = api.get("/api/v1/settings.public").json()

    assert [item["_id"] for item in body["settings"]] == PUBLIC_IDS
    assert body["count"] == body["total"] == len(PUBLIC_IDS)
    assert body["offset"] == 0 and body["success"] is True
    values = {item["_id"]: item["value"] for item in body["settings"]}
    assert values["Message_MaxAllowedSize"] == settings.MESSAGE_MAX_LENGTH
    assert values["Accounts_RegistrationForm"] == "Public"
    assert values["Message_AllowEditing"] is True
    assert values["FileUpload_Enabled"] is False
    assert values["Site_Name"] == "Rocket.Chat"
    assert "API_Enable_Rate_Limiter" not in values  # not public


def test_settings_public_filters_by_id_as_clients_send_it(api):
    query = json.dumps({"_id": {"$in": ["Site_Name", "Message_MaxAllowedSize", "Nope"]}})

    body = api.get("/api/v1/settings.public", {"query": query}).json()

    assert body == {
        "settings": [
            {"_id": "Message_MaxAllowedSize", "value": 5000},
            {"_id": "Site_Name", "value": "Rocket.Chat"},
        ],
        "count": 2,
        "offset": 0,
        "total": 2,
        "success": True,
    }
    by_commas = api.get("/api/v1/settings.public", {"_id": "Site_Name, Language"}).json()
    assert by_commas["settings"] == [
        {"_id": "Language", "value": ""},
        {"_id": "Site_Name", "value": "Rocket.Chat"},
    ]


def test_settings_public_pages(api):
    body = api.get("/api/v1/settings.public", {"offset": 2, "count": 3}).json()

    assert [item["_id"] for item in body["settings"]] == PUBLIC_IDS[2:5]
    assert (body["count"], body["offset"], body["total"]) == (3, 2, len(PUBLIC_IDS))


@pytest.mark.parametrize(
    "query",
    ["not json", '{"public": false}', '{"_id": {"$ne": "x"}}', '{"_id": {"$in": [1]}}', "[]"],
)
def test_settings_public_refuses_other_queries(api, query):
    response = api.get("/api/v1/settings.public", {"query": query})

    assert response.status_code == 400
    assert response.json()["success"] is False
    assert response.json()["errorType"] == "error-invalid-query"
    assert api.get("/api/v1/settings.public").status_code == 200


def test_settings_lists_private_ones_only_to_holders_of_view_privileged_setting(
    site_admin, as_user
):
    everything = site_admin.get("/api/v1/settings").json()
    assert {"_id": "API_Enable_Rate_Limiter", "value": False} in everything["settings"]
    assert everything["total"] == len(PUBLIC_IDS) + 2

    plain = as_user(UserFactory()).get("/api/v1/settings").json()
    assert [item["_id"] for item in plain["settings"]] == PUBLIC_IDS


def test_settings_need_a_login(api):
    assert api.get("/api/v1/settings").status_code == 401
    assert api.get("/api/v1/settings/Site_Name").status_code == 401
    assert api.post("/api/v1/settings/Site_Name", {"value": "x"}, format="json").status_code == 401


def test_get_one_setting(site_admin, as_user):
    assert site_admin.get("/api/v1/settings/Site_Name").json() == {
        "_id": "Site_Name",
        "value": "Rocket.Chat",
        "success": True,
    }
    missing = site_admin.get("/api/v1/settings/Nope")
    assert missing.status_code == 400
    assert missing.json()["error"] == "Setting not found"

    refused = as_user(UserFactory()).get("/api/v1/settings/Site_Name")
    assert refused.status_code == 403
    assert refused.json()["detailed_error"] == 'Missing permission "view-privileged-setting".'


def test_post_a_setting_changes_it_for_everyone(site_admin, api):
    response = site_admin.post("/api/v1/settings/Site_Name", {"value": "Our chat"}, format="json")

    assert response.status_code == 200
    assert response.json() == {"success": True}
    assert api.get("/api/v1/settings.public", {"_id": "Site_Name"}).json()["settings"] == [
        {"_id": "Site_Name", "value": "Our chat"}
    ]
    # null sets the default back
    site_admin.post("/api/v1/settings/Site_Name", {"value": None}, format="json")
    assert site_admin.get("/api/v1/settings/Site_Name").json()["value"] == "Rocket.Chat"


@pytest.mark.parametrize(
    ("setting_id", "value", "words"),
    [
        ("Message_MaxAllowedSize", "5000", "an integer of at least 1"),
        ("Message_MaxAllowedSize", True, "an integer of at least 1"),
        ("Message_MaxAllowedSize", 0, "an integer of at least 1"),
        ("Message_AllowEditing", "false", "true or false"),
        ("Site_Name", 12, "a string"),
        ("Accounts_RegistrationForm", "Open", 'one of "Public", "Disabled", "Secret URL"'),
    ],
)
def test_post_refuses_a_value_of_the_wrong_type(site_admin, setting_id, value, words):
    response = site_admin.post(f"/api/v1/settings/{setting_id}", {"value": value}, format="json")

    assert response.status_code == 400
    assert (
        response.json()["error"] == f"The value of {setting_id} must be {words}. [invalid-params]"
    )
    assert response.json()["success"] is False
    before = site_admin.get(f"/api/v1/settings/{setting_id}").json()["value"]
    assert before != value


def test_post_refuses_unknown_read_only_and_missing(site_admin, as_user):
    unknown = site_admin.post("/api/v1/settings/Nope", {"value": 1}, format="json")
    assert (unknown.status_code, unknown.json()["error"]) == (400, "Setting not found")

    fixed = site_admin.post("/api/v1/settings/FileUpload_Enabled", {"value": True}, format="json")
    assert fixed.status_code == 400
    assert fixed.json()["errorType"] == "error-setting-read-only"

    no_value = site_admin.post("/api/v1/settings/Site_Name", {}, format="json")
    assert no_value.status_code == 400

    plain = as_user(UserFactory())
    refused = plain.post("/api/v1/settings/Site_Name", {"value": "x"}, format="json")
    assert refused.status_code == 403


def test_edit_needs_edit_privileged_setting_beyond_viewing(as_user):
    from permissions.models import Permission, Role

    viewer_role = Role.objects.create(name="settings-viewer")
    Permission.objects.get(pk="view-privileged-setting").roles.add(viewer_role)
    viewer = as_user(UserFactory(roles=["settings-viewer"]))

    assert viewer.get("/api/v1/settings/Site_Name").status_code == 200
    refused = viewer.post("/api/v1/settings/Site_Name", {"value": "x"}, format="json")
    assert refused.status_code == 403
    assert refused.json()["detailed_error"] == 'Missing permission "edit-privileged-setting".'


def test_service_configurations_is_an_empty_list(api):
    assert api.get("/api/v1/service.configurations").json() == {
        "configurations": [],
        "success": True,
    }


# --- what the settings change -------------------------------------------------------------


def test_message_max_allowed_size_applies_at_the_next_send(site_admin, as_user):
    room = RoomFactory(name="talk")
    member = UserFactory()
    SubscriptionFactory(room=room, user=member)
    client = as_user(member)
    site_admin.post("/api/v1/settings/Message_MaxAllowedSize", {"value": 5}, format="json")

    refused = client.post(
        "/api/v1/chat.postMessage", {"roomId": room.pk, "text": "too long"}, format="json"
    )
    assert refused.status_code == 400
    assert refused.json()["error"] == "error-message-size-exceeded"
    assert refused.json()["message"] == "Message size exceeds the allowed 5 characters."
    sent = client.post("/api/v1/chat.postMessage", {"roomId": room.pk, "text": "ok"}, format="json")
    assert sent.status_code == 200


def test_registration_form_disabled_closes_users_register(site_admin, api):
    site_admin.post(
        "/api/v1/settings/Accounts_RegistrationForm", {"value": "Disabled"}, format="json"
    )
    body = {"username": "newbie", "email": "n@example.com", "pass": "Str0ng-passw0rd!", "name": "N"}

    refused = api.post("/api/v1/users.register", body, format="json")
    assert refused.status_code == 400
    assert refused.json()["errorType"] == "error-user-registration-disabled"

    site_admin.post(
        "/api/v1/settings/Accounts_RegistrationForm", {"value": "Public"}, format="json"
    )
    assert api.post("/api/v1/users.register", body, format="json").status_code == 200


def test_editing_turned_off_stops_authors_editing(site_admin, as_user):
    room = RoomFactory(name="talk")
    author = UserFactory()
    SubscriptionFactory(room=room, user=author)
    client = as_user(author)
    message = client.post(
        "/api/v1/chat.postMessage", {"roomId": room.pk, "text": "hi"}, format="json"
    ).json()["message"]
    site_admin.post("/api/v1/settings/Message_AllowEditing", {"value": False}, format="json")

    update = {"roomId": room.pk, "msgId": message["_id"], "text": "edited"}
    assert client.post("/api/v1/chat.update", update, format="json").status_code != 200
    site_admin.post("/api/v1/settings/Message_AllowEditing", {"value": True}, format="json")
    assert client.post("/api/v1/chat.update", update, format="json").status_code == 200
