"""A JSON body sent without `Content-Type: application/json`: curl's `-d '{"msg": "hi"}'` labels
it application/x-www-form-urlencoded. It is read as the JSON it is, on 0.1 and v1 alike; a real
form is still a form, and malformed JSON is refused as JSON."""

import pytest

from rooms.models import Message
from tests.factories import RoomFactory, SubscriptionFactory, UserFactory

pytestmark = pytest.mark.django_db

FORM = "application/x-www-form-urlencoded"  # what curl -d sends


def iso(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def message_json(message, user):
    return {
        "_id": message.pk,
        "rid": message.room_id,
        "msg": message.msg,
        "ts": iso(message.ts),
        "u": {"_id": user.pk, "username": user.username, "name": user.name},
        "_updatedAt": iso(message.updated_at),
    }


@pytest.fixture
def member():
    user = UserFactory(username="sing", name="Sing")
    SubscriptionFactory(room=RoomFactory(name="lounge"), user=user)
    return user


def test_send_takes_json_sent_as_a_form(as_user, member):
    room = member.subscriptions.get().room

    response = as_user(member).post(
        f"/api/rooms/{room.pk}/send", '{"msg": "hi"}', content_type=FORM
    )

    assert response.status_code == 200
    message = Message.objects.get()
    assert message.msg == "hi"
    assert response.json() == {"status": "success", "data": message_json(message, member)}


def test_chat_post_message_takes_json_sent_as_a_form(as_user, member):
    response = as_user(member).post(
        "/api/v1/chat.postMessage", '{"channel": "#lounge", "text": "hi"}', content_type=FORM
    )

    assert response.status_code == 200
    message = Message.objects.get()
    assert response.json() == {
        "ts": response.json()["ts"],
        "channel": "#lounge",
        "message": message_json(message, member) | {"groupable": False},
        "success": True,
    }


def test_json_sent_as_a_form_keeps_its_types(as_user, member):
    """Not a form's strings: a list stays a list (chat.postMessage's attachments)."""
    body = '{"channel": "#lounge", "text": "", "attachments": [{"text": "build passed"}]}'

    response = as_user(member).post("/api/v1/chat.postMessage", body, content_type=FORM)

    assert response.status_code == 200
    assert Message.objects.get().attachments == [{"text": "build passed"}]


def test_a_login_sent_as_json_in_a_form(api, member):
    body = '{"user": "sing", "password": "correct horse battery staple"}'

    response = api.post("/api/v1/login", body, content_type=FORM)

    assert response.status_code == 200
    assert response.json()["data"]["userId"] == member.pk


def test_a_real_form_is_still_a_form(api, as_user, member):
    form = "user=sing&password=correct+horse+battery+staple"
    assert api.post("/api/login", form, content_type=FORM).status_code == 200

    room = member.subscriptions.get().room
    sent = as_user(member).post(f"/api/rooms/{room.pk}/send", "msg=%7Bbraces%7D", content_type=FORM)

    assert sent.status_code == 200
    assert Message.objects.get().msg == "{braces}"


def test_curls_empty_object_is_the_empty_object(as_user, member):
    """The seed's own `-d "{}"` on join and leave: an empty body, as it means."""
    room = RoomFactory(name="other")

    joined = as_user(member).post(f"/api/rooms/{room.pk}/join", "{}", content_type=FORM)

    assert joined.json() == {"status": "success"}


def test_malformed_json_sent_as_a_form_is_refused_as_json(as_user, member):
    room = member.subscriptions.get().room

    response = as_user(member).post(f"/api/rooms/{room.pk}/send", '{"msg": "hi"', content_type=FORM)

    assert response.status_code == 400
    body = response.json()
    assert (body["errorType"], body["message"]) == ("error-invalid-body", "Malformed request body.")
    assert body["detailed_error"].startswith("JSON parse error")
    assert not Message.objects.exists()


def test_json_nested_too_deeply_sent_as_a_form_is_a_400(as_user, member):
    room = member.subscriptions.get().room
    body = '{"msg": ' + "[" * 100_000 + "]" * 100_000 + "}"

    response = as_user(member).post(f"/api/rooms/{room.pk}/send", body, content_type=FORM)

    assert response.status_code == 400
    assert response.json()["detailed_error"] == "JSON parse error - nested too deeply"


def test_a_body_of_no_known_type_says_what_to_send(as_user, member):
    room = member.subscriptions.get().room

    response = as_user(member).post(
        f"/api/rooms/{room.pk}/send", '{"msg": "hi"}', content_type="text/plain"
    )

    assert response.status_code == 415
    body = response.json()
    assert (body["message"], body["detailed_error"]) == (
        'Unsupported media type "text/plain" in request.',
        "Send JSON (Content-Type: application/json), a form (application/x-www-form-urlencoded) "
        "or multipart/form-data.",
    )
