"""POST /api/bulk/register: many users in one call, all or none."""

import json

import pytest
from django.test import Client

import accounts.services
from accounts.models import User
from rooms.models import Subscription
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_api(api, auth_headers):
    admin = UserFactory(username="root", roles=["admin", "user"])
    api.credentials(**auth_headers(admin))
    return api


def register(api, users):
    return api.post(
        "/api/bulk/register", json.dumps({"users": users}), content_type="application/json"
    )


def record(n):
    return {"email": f"bulk{n}@example.com", "name": f"bulk{n}", "pass": f"a fine passphrase {n}"}


def test_registers_every_user_in_input_order(admin_api, api):
    response = register(admin_api, [record(1), record(2), record(3)])

    assert response.status_code == 200
    ids = response.json()["ids"]
    assert response.json() == {"status": "success", "ids": ids}
    assert [User.objects.get(pk=item["uid"]).username for item in ids] == [
        "bulk1",
        "bulk2",
        "bulk3",
    ]


def test_registered_users_log_in_with_the_user_role_and_default_rooms(admin_api):
    uid = register(admin_api, [record(1)]).json()["ids"][0]["uid"]

    user = User.objects.get(pk=uid)
    assert (user.name, user.email) == ("bulk1", "bulk1@example.com")
    assert list(user.roles.values_list("name", flat=True)) == ["user"]
    assert list(Subscription.objects.filter(user=user).values_list("room_id", flat=True)) == [
        "GENERAL"
    ]
    login = Client().post("/api/login", {"user": "bulk1", "password": "a fine passphrase 1"})
    assert login.status_code == 200


def assert_refused(response, message):
    assert response.status_code == 400
    assert response.json()["message"] == message
    assert response.json()["status"] == "fail"
    assert not User.objects.filter(username__startswith="bulk").exists()


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (
            {"email": "nope", "name": "bulkx", "pass": "a fine passphrase"},
            "record #1 is invalid: email: Enter a valid email address.",
        ),
        (
            {"email": "x@example.com", "name": "has space", "pass": "a fine passphrase"},
            "record #1 is invalid: name: May contain only characters matching [0-9a-zA-Z_.-]+.",
        ),
        (
            {"email": "x@example.com", "name": "bulkx", "pass": "short"},
            "record #1 is invalid: pass: This password is too short. It must contain at least 8 characters.",
        ),
        (
            {"email": "x@example.com", "name": "bulkx", "pass": "password"},
            "record #1 is invalid: pass: This password is too common.",
        ),
        (
            {"email": "x@example.com", "name": "bulkx"},
            "record #1 is invalid: pass: a non-empty string is required.",
        ),
        (
            {"email": "x@example.com", "name": 5, "pass": "a fine passphrase"},
            "record #1 is invalid: name: a non-empty string is required.",
        ),
        ("bulkx", "record #1 is invalid: expected an object with email, name and pass."),
        (record(0), "record #1 is invalid: name: repeats record #0."),
        (record(0) | {"name": "BULK0"}, "record #1 is invalid: name: repeats record #0."),
        (
            record(9) | {"email": "BULK0@example.com"},
            "record #1 is invalid: email: repeats record #0.",
        ),
    ],
)
def test_one_bad_record_refuses_the_whole_batch(admin_api, bad, message):
    assert_refused(register(admin_api, [record(0), bad, record(2)]), message)


def test_names_and_emails_already_in_use_are_refused_regardless_of_case(admin_api):
    UserFactory(username="Taken", email="taken@example.com")

    assert_refused(
        register(admin_api, [record(0), record(1) | {"name": "taken"}]),
        "record #1 is invalid: name: 'taken' is already in use.",
    )
    assert_refused(
        register(admin_api, [record(0) | {"email": "TAKEN@example.com"}]),
        "record #0 is invalid: email: 'taken@example.com' is already in use.",
    )


def test_the_batch_must_be_a_list_of_at_most_bulk_max(admin_api, settings):
    settings.BULK_MAX = 2

    assert_refused(
        register(admin_api, [record(0), record(1), record(2)]),
        "At most 2 records per batch, not 3.",
    )
    assert_refused(
        register(admin_api, {"email": "a"}), "users must be a list of {email, name, pass} records."
    )
    assert_refused(
        admin_api.post("/api/bulk/register", {}, format="json"),
        "users must be a list of {email, name, pass} records.",
    )


def test_a_form_body_may_carry_the_list_as_json(admin_api):
    response = admin_api.post("/api/bulk/register", {"users": json.dumps([record(1)])})

    assert response.status_code == 200
    assert User.objects.filter(username="bulk1").exists()


def test_a_failure_halfway_through_the_writes_leaves_nothing(admin_api, monkeypatch):
    def fail_after_users_are_inserted(*, users):
        assert User.objects.filter(username="bulk1").exists()  # the users are in by now
        raise RuntimeError("the database went away")

    monkeypatch.setattr(accounts.services, "welcome_new_users", fail_after_users_are_inserted)
    admin_api.raise_request_exception = False

    response = register(admin_api, [record(1), record(2)])

    assert response.status_code == 500
    assert not User.objects.filter(username__startswith="bulk").exists()


def test_without_the_permission_it_is_403(api, auth_headers):
    api.credentials(**auth_headers(UserFactory(roles=["user"])))

    response = register(api, [record(1)])

    assert response.status_code == 403
    body = response.json()
    assert (body["status"], body["message"]) == ("error", "You do not have permission to do this")
    assert not User.objects.filter(username="bulk1").exists()


def test_anonymous_is_401(api):
    assert register(api, [record(1)]).status_code == 401


def test_passwords_are_hashed_in_parallel_threads(admin_api, monkeypatch):
    import threading

    threads = set()
    real = accounts.services.make_password

    def spy(password):
        threads.add(threading.get_ident())
        return real(password)

    monkeypatch.setattr(accounts.services, "make_password", spy)
    monkeypatch.setattr(accounts.services.os, "cpu_count", lambda: 4)

    assert register(admin_api, [record(n) for n in range(40)]).status_code == 200
    assert threading.get_ident() not in threads
    assert len(threads) > 1


def test_queries_do_not_grow_with_the_batch(admin_api):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    register(admin_api, [record(100)])  # the token's first use is recorded here
    counts = []
    for batch in ([record(0)], [record(n) for n in range(1, 21)]):
        with CaptureQueriesContext(connection) as captured:
            assert register(admin_api, batch).status_code == 200
        counts.append(len([q for q in captured if "SAVEPOINT" not in q["sql"]]))

    assert counts[0] == counts[1]
