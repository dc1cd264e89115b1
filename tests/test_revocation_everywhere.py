"""Revocation from every door: the Django admin's forms and delete actions, `manage.py
changepassword`, and the API end logins alike. The tokens they end answer 401 over REST at once,
their sockets close with 4001 and hear nothing more (not even #general), deactivation deletes the
tokens so that reactivating revives none, and a socket that only listens closes by itself when
its token expires. The API's own paths tell the sockets once, not twice.

In one process (the in-process bus); test_realtime_across_processes proves the same across two
server processes and a third that runs `manage.py changepassword`, with Redis.
"""

from __future__ import annotations

import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.models import LoginToken, User
from accounts.tokens import issue_login_token, token_digest
from rooms.models import Room
from tests.conftest import PASSWORD
from tests.factories import SubscriptionFactory, UserFactory
from tests.realtime import BusTap, DDPClient, SocketClosed, in_thread, rest, run
from tests.servers import form_fields

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

NEW_PASSWORD = "a brand new passphrase 42"


@pytest.fixture
def staff(client):
    UserFactory(username="root", is_superuser=True, is_staff=True, roles=["admin"])
    client.login(username="root", password=PASSWORD)
    return client


@pytest.fixture
def general(alice, bob):
    general = Room.objects.get(pk="GENERAL")
    SubscriptionFactory(room=general, user=alice)
    SubscriptionFactory(room=general, user=bob)
    return general


def admin_form(staff, path, form_id="user_form"):
    page = staff.get(path)
    assert page.status_code == 200
    return form_fields(page.content.decode(), form_id)


def submit(staff, path, fields):
    """Posts a form from a worker thread (the test's own runs the event loop)."""
    return in_thread(lambda: staff.post(path, fields))


def said(text):
    def matches(frame):
        return (
            frame.get("msg") == "changed"
            and frame.get("collection") == "stream-room-messages"
            and frame["fields"]["args"][0]["msg"] == text
        )

    return matches


async def close_code(ddp, timeout=3.0):
    """How the socket was closed; fails (TimeoutError) if it stays open for `timeout`."""
    with pytest.raises(SocketClosed) as closed:
        await ddp.wait_for(lambda frame: False, timeout)
    return closed.value.code


async def still_answers(ddp):
    await ddp.send({"msg": "ping", "id": "still-there"})
    return await ddp.wait_for(lambda f: f.get("msg") == "pong") == {
        "msg": "pong",
        "id": "still-there",
    }


def logouts(tap):
    """The logout events the hubs heard, each token list in order (a deletion's is in none)."""
    told = [json.loads(event) for event in tap.events() if '"ctl":"logout"' in event]
    return [event | {"tokens": sorted(event["tokens"])} for event in told]


def status(api, user, token):
    response = api.get("/api/v1/me", HTTP_X_AUTH_TOKEN=token, HTTP_X_USER_ID=user.pk)
    return response.status_code


def test_deactivating_in_the_admin_closes_the_socket_and_reactivating_revives_no_token(
    staff, api, alice, bob, general
):
    bob_phone, bob_laptop = issue_login_token(user=bob), issue_login_token(user=bob)
    alice_token = issue_login_token(user=alice)
    path = f"/admin/accounts/user/{bob.pk}/change/"
    form = admin_form(staff, path)
    assert form["is_active"] == ["on"]
    del form["is_active"]  # the box unticked

    async def scenario():
        async with DDPClient() as ddp:
            await ddp.login_resume(bob_phone)
            await ddp.sub("stream-room-messages", "GENERAL")
            post = {"roomId": "GENERAL", "text": "before"}
            await rest(api, "post", "/api/v1/chat.postMessage", alice, alice_token, post)
            await ddp.wait_for(said("before"))

            saved = await submit(staff, path, form)
            assert saved.status_code == 302, saved.content.decode()[-3000:]
            post = {"roomId": "GENERAL", "text": "after"}
            sent = await rest(api, "post", "/api/v1/chat.postMessage", alice, alice_token, post)
            assert sent.status_code == 200
            code = await close_code(ddp)
            assert not [frame for frame in ddp.inbox if said("after")(frame)]
            return code

    assert run(scenario()) == 4001
    assert status(api, bob, bob_phone) == 401
    assert status(api, bob, bob_laptop) == 401
    assert not LoginToken.objects.filter(user=bob).exists()

    # Ticking Active again (on the form opened afresh) revives none of the old tokens.
    form = admin_form(staff, path)
    assert "is_active" not in form
    form["is_active"] = ["on"]
    assert staff.post(path, form).status_code == 302
    bob.refresh_from_db()
    assert bob.is_active
    assert status(api, bob, bob_phone) == 401
    assert status(api, bob, bob_laptop) == 401
    login = api.post("/api/v1/login", {"user": "bob", "password": PASSWORD}, format="json")
    assert login.status_code == 200
    assert status(api, bob, login.json()["data"]["authToken"]) == 200


def test_a_password_set_in_the_admin_ends_every_login(staff, api, bob, general):
    token = issue_login_token(user=bob)
    path = f"/admin/accounts/user/{bob.pk}/password/"
    form = admin_form(staff, path)
    form |= {"password1": [NEW_PASSWORD], "password2": [NEW_PASSWORD]}

    async def scenario():
        async with DDPClient() as ddp:
            await ddp.login_resume(token)
            await ddp.sub("stream-room-messages", "GENERAL")
            saved = await submit(staff, path, form)
            assert saved.status_code == 302, saved.content.decode()[-3000:]
            return await close_code(ddp)

    assert run(scenario()) == 4001
    assert status(api, bob, token) == 401
    login = api.post("/api/v1/login", {"user": "bob", "password": NEW_PASSWORD}, format="json")
    assert login.status_code == 200


def test_changepassword_ends_every_login(monkeypatch, api, bob, general):
    token = issue_login_token(user=bob)
    # What the administrator types at the two prompts.
    monkeypatch.setattr("getpass.getpass", lambda prompt="": NEW_PASSWORD)
    out = StringIO()

    async def scenario():
        async with DDPClient() as ddp:
            await ddp.login_resume(token)
            await ddp.sub("stream-room-messages", "GENERAL")
            await in_thread(lambda: call_command("changepassword", "bob", stdout=out))
            return await close_code(ddp)

    assert run(scenario()) == 4001
    assert "Password changed successfully for user 'bob'" in out.getvalue()
    assert status(api, bob, token) == 401
    login = api.post("/api/v1/login", {"user": "bob", "password": NEW_PASSWORD}, format="json")
    assert login.status_code == 200


def test_a_token_deleted_in_the_admin_closes_its_sockets_only(staff, api, bob):
    phone, laptop = issue_login_token(user=bob), issue_login_token(user=bob)
    phone_pk = LoginToken.objects.get(digest=token_digest(phone)).pk

    async def scenario():
        async with DDPClient() as on_phone, DDPClient() as on_laptop:
            await on_phone.login_resume(phone)
            await on_laptop.login_resume(laptop)
            path = f"/admin/accounts/logintoken/{phone_pk}/delete/"
            deleted = await submit(staff, path, {"post": "yes"})
            assert deleted.status_code == 302
            return await close_code(on_phone), await still_answers(on_laptop)

    assert run(scenario()) == (4001, True)
    assert status(api, bob, phone) == 401
    assert status(api, bob, laptop) == 200


def test_tokens_deleted_in_bulk_in_the_admin_close_their_sockets_told_once(staff, api, alice, bob):
    tokens = {"alice": issue_login_token(user=alice), "bob": issue_login_token(user=bob)}
    kept = issue_login_token(user=bob)
    pks = sorted(LoginToken.objects.get(digest=token_digest(t)).pk for t in tokens.values())
    action = {"action": "delete_selected", "_selected_action": pks, "post": "yes"}

    async def scenario():
        async with DDPClient() as alices, DDPClient() as bobs, DDPClient() as bobs_other:
            await alices.login_resume(tokens["alice"])
            await bobs.login_resume(tokens["bob"])
            await bobs_other.login_resume(kept)
            with BusTap() as tap:
                deleted = await submit(staff, "/admin/accounts/logintoken/", action)
                assert deleted.status_code == 302
                codes = await close_code(alices), await close_code(bobs)
                told = logouts(tap)
            return codes, told, await still_answers(bobs_other)

    codes, told, answers = run(scenario())
    assert codes == (4001, 4001)
    assert answers
    assert told == [{"ctl": "logout", "tokens": pks, "users": [], "origin": None}]
    assert status(api, alice, tokens["alice"]) == 401
    assert status(api, bob, tokens["bob"]) == 401
    assert status(api, bob, kept) == 200


def test_a_token_deleted_on_the_users_admin_page_closes_its_socket(staff, api, bob):
    token = issue_login_token(user=bob)
    path = f"/admin/accounts/user/{bob.pk}/change/"
    form = admin_form(staff, path)
    assert form["login_tokens-TOTAL_FORMS"] == ["1"]
    form["login_tokens-0-DELETE"] = ["on"]

    async def scenario():
        async with DDPClient() as ddp:
            await ddp.login_resume(token)
            saved = await submit(staff, path, form)
            assert saved.status_code == 302, saved.content.decode()[-3000:]
            return await close_code(ddp)

    assert run(scenario()) == 4001
    assert status(api, bob, token) == 401


def test_a_user_deleted_in_the_admin_has_their_sockets_closed(staff, bob, general):
    token = issue_login_token(user=bob)

    async def scenario():
        async with DDPClient() as ddp:
            await ddp.login_resume(token)
            await ddp.sub("stream-room-messages", "GENERAL")
            path = f"/admin/accounts/user/{bob.pk}/delete/"
            deleted = await submit(staff, path, {"post": "yes"})
            assert deleted.status_code == 302
            return await close_code(ddp)

    assert run(scenario()) == 4001


def test_a_listening_socket_closes_by_itself_when_its_token_expires(api, bob, general):
    """No method is called: the heartbeat notices (every REALTIME_PING_SECONDS/4 or so)."""
    token = issue_login_token(user=bob)
    LoginToken.objects.filter(digest=token_digest(token)).update(
        expires_at=timezone.now() + timedelta(seconds=2)
    )

    async def scenario():
        async with DDPClient() as ddp:
            await ddp.login_resume(token)
            await ddp.sub("stream-room-messages", "GENERAL")
            return await close_code(ddp, timeout=15)

    assert run(scenario()) == 4001
    assert status(api, bob, token) == 401


def test_a_deactivation_behind_djangos_back_still_closes_a_listening_socket(settings, bob, general):
    """A queryset's update() sends no signal: the process's recheck of its logins finds it."""
    settings.REALTIME_LOGIN_RECHECK_SECONDS = 1
    token = issue_login_token(user=bob)

    async def scenario():
        async with DDPClient() as ddp:
            await ddp.login_resume(token)
            await ddp.sub("stream-room-messages", "GENERAL")
            await ddp.nothing_more(1.5)  # the recheck has run: the login holds
            await in_thread(lambda: User.objects.filter(pk=bob.pk).update(is_active=False))
            return await close_code(ddp, timeout=10)

    assert run(scenario()) == 4001


def test_the_apis_deactivation_tells_the_sockets_once(api, bob):
    boss = UserFactory(username="boss", roles=["admin"])
    boss_token = issue_login_token(user=boss)
    tokens = [issue_login_token(user=bob), issue_login_token(user=bob)]
    pks = sorted(LoginToken.objects.filter(user=bob).values_list("pk", flat=True))

    async def scenario():
        async with DDPClient() as ddp:
            await ddp.login_resume(tokens[0])
            with BusTap() as tap:
                body = {"userId": bob.pk, "activeStatus": False}
                answer = await rest(
                    api, "post", "/api/v1/users.setActiveStatus", boss, boss_token, body
                )
                assert answer.status_code == 200, answer.json()
                code = await close_code(ddp)
                return code, logouts(tap)

    code, told = run(scenario())
    assert code == 4001
    assert told == [{"ctl": "logout", "tokens": pks, "users": [], "origin": None}]
    assert [status(api, bob, token) for token in tokens] == [401, 401]


def test_a_new_password_over_the_api_keeps_only_the_callers_login(api, bob):
    mine, other = issue_login_token(user=bob), issue_login_token(user=bob)
    other_pk = LoginToken.objects.get(digest=token_digest(other)).pk

    async def scenario():
        async with DDPClient() as on_mine, DDPClient() as on_other:
            await on_mine.login_resume(mine)
            await on_other.login_resume(other)
            with BusTap() as tap:
                body = {
                    "userId": bob.pk,
                    "data": {"password": NEW_PASSWORD, "currentPassword": PASSWORD},
                }
                answer = await rest(api, "post", "/api/v1/users.update", bob, mine, body)
                assert answer.status_code == 200, answer.json()
                code = await close_code(on_other)
                told = logouts(tap)
            return code, told, await still_answers(on_mine)

    code, told, answers = run(scenario())
    assert (code, answers) == (4001, True)
    assert told == [{"ctl": "logout", "tokens": [other_pk], "users": [], "origin": None}]
    assert status(api, bob, mine) == 200
    assert status(api, bob, other) == 401


def test_logging_out_over_the_socket_keeps_that_socket_up_and_closes_the_others(bob):
    token = issue_login_token(user=bob)

    async def scenario():
        async with DDPClient() as this, DDPClient() as that:
            await this.login_resume(token)
            await that.login_resume(token)
            out = await this.call("logout")
            return out, await close_code(that), await still_answers(this)

    out, code, answers = run(scenario())
    assert "error" not in out
    assert (code, answers) == (4001, True)
