"""Users as Rocket.Chat has them: its ids, its name rules, case-insensitive uniqueness, and
passwords hashed the way its clients expect."""

import hashlib
import re
from collections import Counter

import argon2
import pytest
from django.db import IntegrityError, transaction

from accounts.hashers import RocketChatArgon2PasswordHasher
from accounts.models import User
from accounts.services import create_user
from chat_project.db import ids
from chat_project.db.ids import ID_ALPHABET, random_id
from chat_project.http.errors import InvalidParams
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_ids_are_17_characters_of_the_meteor_alphabet():
    ids = {random_id() for _ in range(2000)}

    assert len(ids) == 2000
    assert all(re.fullmatch(f"[{ID_ALPHABET}]{{17}}", value) for value in ids)
    assert set("".join(ids)) == set(ID_ALPHABET)  # every character is drawn


def test_every_letter_is_equally_likely(monkeypatch):
    # Fed every byte value once, the draw keeps the 220 below the largest multiple of the
    # alphabet's 55 letters (4 of each) and throws the other 36 away.
    monkeypatch.setattr(ids.os, "urandom", lambda n: bytes(range(256)))

    drawn = ids.random_string(ID_ALPHABET, 220)

    assert Counter(drawn) == {letter: 4 for letter in ID_ALPHABET}


def test_a_new_user_gets_a_rocket_chat_id():
    user = create_user(username="sing", email="sing@example.com", password="pw")

    assert re.fullmatch(f"[{ID_ALPHABET}]{{17}}", user.pk)
    assert user.name == "sing"
    assert user.is_active and not user.is_superuser
    assert user.created_at and user.updated_at


@pytest.mark.parametrize("taken", ["SING", "Sing", "sing"])
def test_usernames_are_unique_regardless_of_case(taken):
    UserFactory(username="sing")

    with pytest.raises(InvalidParams, match=r"Username is already in use."):
        create_user(username=taken, email="other@example.com", password="pw")


def test_emails_are_unique_regardless_of_case():
    UserFactory(email="sing@example.com")

    with pytest.raises(InvalidParams, match=r"Email is already in use."):
        create_user(username="other", email="SING@Example.com", password="pw")


@pytest.mark.parametrize("name", ["has space", "émile", "semi;colon", "x" * 65, ""])
def test_usernames_follow_rocket_chats_characters(name):
    with pytest.raises(InvalidParams, match=r"^username: "):
        create_user(username=name, email="a@example.com", password="pw")


@pytest.mark.parametrize("name", ["sing", "Sing.Song", "under_score", "dash-ed", "7" * 64])
def test_allowed_usernames(name):
    assert create_user(username=name, email="a@example.com", password="pw").username == name


def test_a_bad_email_is_refused():
    with pytest.raises(InvalidParams, match=r"^email: Enter a valid email address."):
        create_user(username="sing", email="not-an-email", password="pw")


def test_the_database_itself_refuses_case_variants():
    """The constraint, not only the check, guards uniqueness (two racing requests)."""
    UserFactory(username="sing", email="a@example.com")

    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.bulk_create([User(username="SING", email="b@example.com")])


def test_passwords_are_argon2id_over_the_sha256_digest(settings):
    settings.PASSWORD_HASHERS = ["accounts.hashers.RocketChatArgon2PasswordHasher"]

    user = create_user(username="sing", email="sing@example.com", password="MySECRET")

    algorithm, encoded = user.password.split("$", 1)
    assert algorithm == "rc_argon2"
    assert encoded.startswith("argon2id$")
    digest = hashlib.sha256(b"MySECRET").hexdigest()
    assert argon2.PasswordHasher().verify("$" + encoded, digest)
    assert user.check_password("MySECRET")
    assert not user.check_password(digest)


def test_the_hasher_uses_owasps_argon2id_parameters():
    hasher = RocketChatArgon2PasswordHasher()
    encoded = hasher.encode("pw", hasher.salt())

    assert hasher.verify("pw", encoded)
    assert not hasher.must_update(encoded)
    assert "$argon2id$v=19$m=19456,t=2,p=1$" in encoded


def test_a_hash_with_other_parameters_is_redone_at_the_next_login(api, settings):
    user = UserFactory(username="old", password="MySECRET")
    assert "m=8,t=1,p=1" in user.password  # made by the tests' fast hasher
    settings.PASSWORD_HASHERS = ["accounts.hashers.RocketChatArgon2PasswordHasher"]

    assert api.post("/api/login", {"user": "old", "password": "MySECRET"}).status_code == 200

    user.refresh_from_db()
    assert "m=19456,t=2,p=1" in user.password
