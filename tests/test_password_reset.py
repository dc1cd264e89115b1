"""users.forgotPassword mails a link whose token resets the password once (Meteor's
resetPassword over the websocket), not twice, not after PASSWORD_RESET_TIMEOUT; the new password
follows the password policy and ends every other login; the answer is the same whether the
e-mail exists or not, and the requests are rate limited per address and per e-mail."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from django.core import mail

from accounts.models import LoginToken, User
from accounts.tokens import issue_login_token
from tests.conftest import PASSWORD
from tests.realtime import DDPClient, SocketClosed, run

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

NEW_PASSWORD = "a brand new passphrase 42"
LINK = re.compile(r"http://testserver/reset-password/(\S+)")


@pytest.fixture(autouse=True)
def site(settings):
    settings.SITE_URL = "http://testserver"


def forgot(api, email):
    return api.post("/api/v1/users.forgotPassword", {"email": email}, format="json")


def mailed_token():
    (sent,) = mail.outbox
    return LINK.search(sent.body).group(1)


async def reset(token, password):
    async with DDPClient() as ddp:
        return await ddp.call("resetPassword", token, password)


def test_forgot_password_mails_a_link_and_answers_the_same_for_an_unknown_email(api, user):
    known = forgot(api, "SING@example.com")
    unknown = forgot(api, "nobody@example.com")

    assert known.status_code == unknown.status_code == 200
    assert known.json() == unknown.json() == {"success": True}
    (sent,) = mail.outbox
    assert sent.to == ["sing@example.com"]
    assert sent.subject == "Reset your password"
    assert LINK.search(sent.body)


def test_the_link_resets_the_password_once_and_ends_every_other_login(api, user):
    phone = issue_login_token(user=user)
    forgot(api, "sing@example.com")
    token = mailed_token()

    async def scenario():
        async with DDPClient() as on_phone:
            await on_phone.login_resume(phone)
            answer = await reset(token, NEW_PASSWORD)
            with pytest.raises(SocketClosed) as closed:
                await on_phone.wait_for(lambda frame: False, 3.0)
            again = await reset(token, "another passphrase 43")
            return answer, closed.value.code, again

    answer, code, again = run(scenario())

    result = answer["result"]
    assert set(result) == {"id", "token", "tokenExpires", "type"}
    assert (result["id"], result["type"]) == (user.pk, "password")
    assert code == 4001
    assert again["error"] == {
        "isClientSafe": True,
        "error": 403,
        "reason": "Token expired",
        "message": "Token expired [403]",
        "errorType": "Meteor.Error",
    }
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    # the old login is gone; the reset's own login works
    assert list(LoginToken.objects.filter(user=user).values_list("pk", flat=True)) != []
    headers = {"HTTP_X_USER_ID": user.pk}
    assert api.get("/api/v1/me", HTTP_X_AUTH_TOKEN=phone, **headers).status_code == 401
    assert api.get("/api/v1/me", HTTP_X_AUTH_TOKEN=result["token"], **headers).status_code == 200
    login = api.post("/api/v1/login", {"user": "sing", "password": NEW_PASSWORD}, format="json")
    assert login.status_code == 200


def test_the_link_stops_working_after_its_timeout(api, user, settings, monkeypatch):
    settings.PASSWORD_RESET_TIMEOUT = 3600
    forgot(api, "sing@example.com")
    token = mailed_token()
    later = datetime.now() + timedelta(seconds=3601)
    monkeypatch.setattr(
        "django.contrib.auth.tokens.PasswordResetTokenGenerator._now", lambda self: later
    )

    answer = run(reset(token, NEW_PASSWORD))

    assert answer["error"]["reason"] == "Token expired"
    user.refresh_from_db()
    assert not user.check_password(NEW_PASSWORD)


def test_the_new_password_follows_the_policy_and_a_refused_one_spends_nothing(api, user):
    forgot(api, "sing@example.com")
    token = mailed_token()

    refused = run(reset(token, "short"))
    assert refused["error"]["error"] == "error-password-policy-not-met"

    assert "result" in run(reset(token, NEW_PASSWORD))  # the token still works once


@pytest.mark.parametrize("token", ["", "nonsense", "AAAAAAAAAAAAAAAAA.abc-0123", "x" * 500])
def test_a_made_up_token_resets_nothing(user, token):
    answer = run(reset(token, NEW_PASSWORD))

    assert answer["error"]["reason"] == "Token expired"
    assert User.objects.get(pk=user.pk).check_password(NEW_PASSWORD) is False


@pytest.mark.rate_limited
def test_forgot_password_is_rate_limited_per_client_address(api, settings, clock):
    settings.FORGOT_PASSWORD_RATE = "2/h"
    answers = [forgot(api, f"someone{n}@example.com") for n in range(3)]

    assert [answer.status_code for answer in answers] == [200, 200, 429]
    assert answers[2].json()["errorType"] == "error-too-many-requests"


def test_forgot_password_needs_an_email(api):
    answer = api.post("/api/v1/users.forgotPassword", {}, format="json")

    assert answer.status_code == 400
    assert answer.json()["error"] == "The 'email' param is required"


@pytest.mark.rate_limited
def test_forgot_password_is_rate_limited_per_email_whether_it_exists_or_not(
    api, user, settings, clock
):
    settings.FORGOT_PASSWORD_RATE = "2/h"
    for email in ("sing@example.com", "nobody@example.com"):
        answers = []
        for n in range(3):  # from three addresses: the per-address budget is not what stops it
            api.defaults["REMOTE_ADDR"] = f"10.0.{len(email)}.{n}"
            answers.append(forgot(api, email).status_code)
        assert answers == [200, 200, 429], email
    assert len(mail.outbox) == 2


# --- the link's page, as a person follows it in a browser ----------------------------------------


def follow_the_link(client, token):
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    page = browser.get(f"/reset-password/{token}")
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())
    return browser, page, csrf.group(1) if csrf else None


def test_the_mailed_link_opens_a_page_that_sets_the_password_and_ends_every_login(api, user):
    issue_login_token(user=user)  # a phone's login
    forgot(api, user.email)
    token = mailed_token()

    browser, page, csrf = follow_the_link(api, token)
    done = browser.post(
        f"/reset-password/{token}",
        {"csrfmiddlewaretoken": csrf, "password": NEW_PASSWORD, "password_again": NEW_PASSWORD},
    )
    again = browser.get(f"/reset-password/{token}")

    assert page.status_code == 200
    assert page["Content-Type"].startswith("text/html")
    assert "A new password for <strong>sing</strong>" in page.content.decode()
    assert done.status_code == 200
    assert 'id="done"' in done.content.decode()
    assert User.objects.get(pk=user.pk).check_password(NEW_PASSWORD)
    assert not LoginToken.objects.filter(user=user).exists()  # the phone's login ended
    assert again.status_code == 400  # spent
    assert "expired or was used already" in again.content.decode()


def test_the_page_keeps_the_password_policy_and_the_token_for_another_try(api, user):
    forgot(api, user.email)
    token = mailed_token()
    browser, _, csrf = follow_the_link(api, token)

    differ = browser.post(
        f"/reset-password/{token}",
        {"csrfmiddlewaretoken": csrf, "password": NEW_PASSWORD, "password_again": "other"},
    )
    weak = browser.post(
        f"/reset-password/{token}",
        {"csrfmiddlewaretoken": csrf, "password": "sing-1234567", "password_again": "sing-1234567"},
    )
    still = browser.get(f"/reset-password/{token}")

    assert differ.status_code == weak.status_code == 400
    assert "The two passwords differ." in differ.content.decode()
    assert "The password cannot contain the username." in weak.content.decode()
    assert still.status_code == 200 and 'name="password"' in still.content.decode()
    assert User.objects.get(pk=user.pk).check_password(PASSWORD)


def test_the_page_refuses_a_made_up_token_and_a_post_without_its_csrf_token(api, user):
    from django.test import Client

    made_up = Client().get("/reset-password/abc.def-123")
    forgot(api, user.email)
    token = mailed_token()
    forged = Client(enforce_csrf_checks=True).post(
        f"/reset-password/{token}", {"password": NEW_PASSWORD, "password_again": NEW_PASSWORD}
    )

    assert made_up.status_code == 400
    assert "expired or was used already" in made_up.content.decode()
    assert forged.status_code == 403
    assert User.objects.get(pk=user.pk).check_password(PASSWORD)
