"""Logging in over the socket: resume tokens and password digests, as Meteor clients send them."""

from __future__ import annotations

import hashlib

import pytest
from django.contrib.auth.hashers import make_password

from accounts.models import LoginToken
from accounts.tokens import issue_login_token, token_digest
from tests.conftest import PASSWORD
from tests.factories import UserFactory
from tests.realtime import DDPClient, in_thread, run

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

LOGIN_FAILED = {
    "isClientSafe": True,
    "error": 401,
    "reason": "User not found",
    "message": "User not found [401]",
    "errorType": "Meteor.Error",
}


@pytest.fixture
def sing(db):
    return UserFactory(username="sing", email="sing@example.com")


def digest(password: str) -> str:
    return hashlib.sha256(password.encode()).hexdigest()


def test_login_with_a_password_digest_answers_id_token_expiry_and_type(api, sing):
    async def scenario():
        async with DDPClient() as ddp:
            return await ddp.login_password("sing", PASSWORD)

    answer = run(scenario())
    result = answer["result"]
    assert set(result) == {"id", "token", "tokenExpires", "type"}
    assert result["id"] == sing.pk and result["type"] == "password"
    assert len(result["token"]) == 43
    token = LoginToken.objects.get(digest=token_digest(result["token"]))
    assert result["tokenExpires"] == {"$date": int(token.expires_at.timestamp() * 1000)}
    me = api.get("/api/v1/me", HTTP_X_AUTH_TOKEN=result["token"], HTTP_X_USER_ID=sing.pk)
    assert me.status_code == 200  # the same tokens as REST


def test_login_by_email_and_with_a_plain_password(sing):
    async def scenario():
        async with DDPClient() as ddp:
            by_email = await ddp.call(
                "login",
                {
                    "user": {"email": "SING@example.com"},
                    "password": {"digest": digest(PASSWORD), "algorithm": "sha-256"},
                },
            )
            plain = await ddp.call("login", {"user": {"username": "sing"}, "password": PASSWORD})
            return by_email, plain

    by_email, plain = run(scenario())
    assert by_email["result"]["id"] == sing.pk
    assert plain["result"]["id"] == sing.pk


def test_wrong_password_and_unknown_user_get_the_same_refusal(sing):
    async def scenario():
        async with DDPClient() as ddp:
            wrong = await ddp.login_password("sing", "not it")
            nobody = await ddp.login_password("nobody", PASSWORD)
            after = await ddp.call("sendMessage", {"rid": "GENERAL", "msg": "hi"})
            return wrong, nobody, after

    wrong, nobody, after = run(scenario())
    assert wrong["error"] == LOGIN_FAILED
    assert nobody["error"] == LOGIN_FAILED
    assert after["error"]["error"] == "error-invalid-user"  # still not logged in


def test_resume_with_a_revoked_or_unknown_token_is_refused(sing):
    token = issue_login_token(user=sing)
    LoginToken.objects.filter(digest=token_digest(token)).delete()

    async def scenario():
        async with DDPClient() as ddp:
            return await ddp.call("login", {"resume": token}), await ddp.call(
                "login", {"resume": 7}
            )

    revoked, malformed = run(scenario())
    reason = "You've been logged out by the server. Please log in again."
    assert revoked["error"]["error"] == 403 and revoked["error"]["reason"] == reason
    assert malformed["error"]["error"] == 403


def test_unrecognised_login_options_are_a_400():
    async def scenario():
        async with DDPClient() as ddp:
            return await ddp.call("login", {"oauth": "x"}), await ddp.call("login", "just a string")

    odd, not_an_object = run(scenario())
    assert odd["error"]["error"] == 400
    assert odd["error"]["reason"] == "Unrecognized options for login request"
    assert not_an_object["error"]["error"] == "error-invalid-params"


@pytest.mark.rate_limited
def test_socket_logins_count_towards_the_brute_force_block(settings, sing):
    settings.LOGIN_FAILURES_PER_USER = 2

    async def scenario():
        async with DDPClient() as ddp:
            by_email = {
                "user": {"email": "SING@example.com"},
                "password": {"digest": digest("wrong"), "algorithm": "sha-256"},
            }
            # The username and the e-mail name one account: one count.
            return [
                await ddp.login_password("sing", "wrong"),
                await ddp.call("login", by_email),
                await ddp.login_password("sing", PASSWORD),
            ]

    answers = run(scenario())
    assert [a["error"]["error"] for a in answers[:2]] == [401, 401]
    assert answers[2]["error"]["error"] == "error-login-blocked-for-user"


def test_an_older_hash_takes_the_digest_after_one_plain_password_login(settings, api, sing):
    settings.PASSWORD_HASHERS = [
        "tests.hashers.FastRocketChatArgon2PasswordHasher",
        "django.contrib.auth.hashers.MD5PasswordHasher",
    ]
    sing.password = make_password(PASSWORD, hasher="md5")
    sing.save(update_fields=["password"])

    async def attempt():
        async with DDPClient() as ddp:
            return await ddp.login_password("sing", PASSWORD)

    assert run(attempt())["error"] == LOGIN_FAILED  # an MD5 of the password can't check a digest
    rest = api.post("/api/v1/login", {"user": "sing", "password": PASSWORD}, format="json")
    assert rest.status_code == 200  # ...and this login rehashes it with our scheme
    assert run(attempt())["result"]["id"] == sing.pk


def test_logout_over_the_socket_keeps_the_connection_signed_out(sing):
    token = issue_login_token(user=sing)

    async def scenario():
        async with DDPClient() as ddp:
            await ddp.login_resume(token)
            sub = await ddp.sub("stream-notify-user", f"{sing.pk}/rooms-changed")
            out = await ddp.call("logout")
            ended = await ddp.wait_for(lambda f: f.get("msg") == "nosub")
            after = await ddp.call("sendMessage", {"rid": "GENERAL", "msg": "hi"})
            revoked = await in_thread(
                lambda: not LoginToken.objects.filter(digest=token_digest(token)).exists()
            )
            return sub, out, ended, after, revoked

    sub, out, ended, after, revoked = run(scenario())
    assert out == {"msg": "result", "id": out["id"]}
    assert ended == {"msg": "nosub", "id": sub["sub_id"]}
    assert after["error"]["error"] == "error-invalid-user"
    assert revoked
