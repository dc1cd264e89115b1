"""Every table says whether a kept access answer is read from it (`access_cache = Watched(...)`
or `NotWatched(...)` on its model, chat_project.access_cache.declarations), the system check
access_cache.E001 fails for one that does not, and the statement watcher watches what they say.
"""

import pytest
from django.apps import apps
from django.core import checks

from accounts.models import LoginToken, User
from chat_project.access_cache import writes
from chat_project.access_cache.declarations import (
    NotWatched,
    Watched,
    WatchList,
    declarations,
    watch_list,
)
from rooms.models import Message, Room, Subscription

# Every model of every installed app, the auto-created many-to-many tables included.
EVERY_MODEL = apps.get_models(include_auto_created=True)


def access_cache_errors():
    return [
        message.msg
        for message in checks.run_checks(tags=[checks.Tags.models])
        if message.id == "access_cache.E001"
    ]


@pytest.fixture
def rewatch():
    """The watcher set again from the declarations as a test changed them, then as they were."""
    yield lambda: writes.watch(watch_list(EVERY_MODEL))
    writes.watch(watch_list(EVERY_MODEL))


def test_every_table_says_whether_a_kept_answer_is_read_from_it():
    assert access_cache_errors() == []
    said = {model._meta.db_table: declared for model, declared in declarations(EVERY_MODEL).items()}
    # The many-to-many tables Django makes by itself are among them, and so are the tables of
    # the apps we do not own.
    assert {
        "accounts_user_roles",
        "accounts_user_groups",
        "accounts_user_user_permissions",
        "rooms_subscription_roles",
        "permissions_permission_roles",
        "django_admin_log",
        "django_session",
    } <= set(said)
    assert None not in said.values()


def test_every_model_pointing_at_a_user_or_a_room_is_classified():
    pointing = {
        model
        for model in EVERY_MODEL
        for field in [*model._meta.concrete_fields, *model._meta.local_many_to_many]
        if field.is_relation and field.related_model in (User, Room)
    }
    said = declarations(EVERY_MODEL)

    assert {LoginToken, Subscription, Message, User.roles.through} <= pointing
    assert [model._meta.label for model in pointing if said[model] is None] == []


def test_the_watched_tables_are_those_the_hand_list_held():
    """What the access cache listed by hand before the models said it: nothing was
    lost. A table watched from now on is added here on purpose."""
    assert writes.watched() == WatchList(
        tables=frozenset(
            {
                "accounts_user",
                "accounts_user_roles",
                "accounts_logintoken",
                "rooms_room",
                "rooms_subscription",
                "rooms_subscription_roles",
                "permissions_role",
                "permissions_permission",
                "permissions_permission_roles",
            }
        ),
        harmless_columns={
            "rooms_room": frozenset({"msgs", "lm", "updated_at"}),
            "accounts_logintoken": frozenset({"last_used_at"}),
            # A member's own state: read marks, mentions, favourite, hidden (not authorisation)
            "rooms_subscription": frozenset(
                {"read_msgs", "ls", "lr", "user_mentions", "group_mentions", "closed_at", "f"}
                | {"updated_at"}
            ),
        },
        harmless_inserts=frozenset({"accounts_logintoken"}),
    )


def test_a_model_that_says_nothing_fails_the_check_and_is_watched_meanwhile(monkeypatch, rewatch):
    monkeypatch.delattr(Message, "access_cache")

    assert access_cache_errors() == [
        "rooms.Message (table rooms_message) does not say whether a kept access answer reads "
        "it: give it `access_cache = Watched(...)` or `NotWatched(...)` "
        "(chat_project.access_cache.declarations)."
    ]
    rewatch()
    assert writes.changes_kept_answers('INSERT INTO "rooms_message" ("id") VALUES (%s)')


def test_a_many_to_many_table_left_out_fails_the_check_and_is_watched_meanwhile(
    monkeypatch, rewatch
):
    roles_and_groups_only = {
        "roles": Watched("global roles"),
        "groups": NotWatched("Django's groups"),
    }
    monkeypatch.setattr(User, "access_cache", Watched("kept", many_to_many=roles_and_groups_only))

    assert access_cache_errors() == [
        "accounts.User_user_permissions (table accounts_user_user_permissions) is not "
        "classified for the access cache: name its field in its declaring model's access_cache "
        "many_to_many, as Watched or NotWatched."
    ]
    rewatch()
    assert writes.changes_kept_answers(
        'DELETE FROM "accounts_user_user_permissions" WHERE "user_id" = %s'
    )


def test_a_declaration_naming_no_field_fails_the_check(monkeypatch):
    monkeypatch.setattr(Room, "access_cache", Watched("kept", harmless_columns=frozenset({"mgs"})))
    monkeypatch.setattr(
        Subscription, "access_cache", Watched("kept", many_to_many={"role": Watched("roles")})
    )

    assert access_cache_errors() == [
        "rooms.Room (table rooms_room): harmless column 'mgs' is no field of the model.",
        "rooms.Subscription (table rooms_subscription): many_to_many names 'role', no "
        "many-to-many field of it.",
        "rooms.Subscription_roles (table rooms_subscription_roles) is not classified for the "
        "access cache: name its field in its declaring model's access_cache many_to_many, as "
        "Watched or NotWatched.",
    ]


def test_the_watcher_follows_what_the_models_say(monkeypatch, rewatch):
    monkeypatch.setattr(Message, "access_cache", Watched("kept, in this test"))
    monkeypatch.setattr(Room, "access_cache", Watched("kept, counters and all"))
    rewatch()

    assert writes.changes_kept_answers('INSERT INTO "rooms_message" ("id") VALUES (%s)')
    assert writes.changes_kept_answers('UPDATE "rooms_room" SET "msgs" = %s WHERE "id" = %s')

    monkeypatch.undo()
    rewatch()

    assert not writes.changes_kept_answers('INSERT INTO "rooms_message" ("id") VALUES (%s)')
    assert not writes.changes_kept_answers('UPDATE "rooms_room" SET "msgs" = %s WHERE "id" = %s')
