"""The realtime transport knows only what the apps register from their AppConfig.ready(): each
app's register() adds its methods and streams, importing a module adds nothing, and a method
whose app did not register answers Meteor's "not found" over the socket."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps
from django.core.exceptions import ImproperlyConfigured

from accounts import presence
from accounts import realtime as accounts_realtime
from accounts.tokens import issue_login_token
from chat_project.realtime import hub, methods, streams
from permissions import realtime as permissions_realtime
from rooms import realtime as rooms_realtime
from tests.realtime import DDPClient, run

ACCOUNTS_METHODS = {
    "login",
    "logout",
    "sendForgotPasswordEmail",
    "resetPassword",
    "setUserStatus",
    "UserPresence:setDefaultStatus",
    "UserPresence:online",
    "UserPresence:away",
}
ROOMS_METHODS = {
    "sendMessage",
    "stream-notify-room",
    "updateMessage",
    "deleteMessage",
    "loadHistory",
    "joinRoom",
    "leaveRoom",
    "createChannel",
    "createPrivateGroup",
    "createDirectMessage",
    "getRoomRoles",
    "getUsersOfRoom",
    "rooms/get",
    "getRoomByTypeAndName",
    "subscriptions/get",
    "readMessages",
    "hideRoom",
    "openRoom",
    "toggleFavorite",
    "loadMissedMessages",
    "public-settings/get",
}


@pytest.fixture
def empty_registries(monkeypatch):
    """The transport's registries as they are before any app's ready() ran."""
    monkeypatch.setattr(methods, "REGISTRY", {})
    monkeypatch.setattr(streams, "RULES", {})
    monkeypatch.setattr(hub, "ATTACHMENTS", [])
    monkeypatch.setattr(methods, "_login_check", None)


def test_the_running_server_has_what_each_app_registered():
    assert set(methods.REGISTRY) == ACCOUNTS_METHODS | ROOMS_METHODS | {"permissions/get"}
    assert set(streams.RULES) == {
        "stream-notify-user",
        "stream-notify-logged",
        "stream-notify-all",
        "stream-user-presence",
        "stream-room-messages",
        "stream-notify-room",
    }


def test_importing_an_apps_realtime_module_registers_nothing(empty_registries):
    for module in (accounts_realtime, permissions_realtime, rooms_realtime):
        importlib.reload(module)

    assert methods.REGISTRY == {}
    assert streams.RULES == {}
    assert hub.ATTACHMENTS == []


def test_each_app_registers_its_own_methods_and_streams(empty_registries):
    rooms_realtime.register()
    assert set(methods.REGISTRY) == ROOMS_METHODS
    assert set(streams.RULES) == {"stream-room-messages", "stream-notify-room"}

    permissions_realtime.register()
    accounts_realtime.register()
    assert set(methods.REGISTRY) == ACCOUNTS_METHODS | ROOMS_METHODS | {"permissions/get"}
    # presence's tracker, and the recheck of the logins of a process's sockets
    assert [presence.attach, accounts_realtime.watch_logins] == hub.ATTACHMENTS


def test_the_apps_register_from_their_app_configs(empty_registries):
    for label in ("accounts", "permissions", "rooms"):
        apps.get_app_config(label).ready()

    assert set(methods.REGISTRY) == ACCOUNTS_METHODS | ROOMS_METHODS | {"permissions/get"}


def test_registering_again_is_harmless_but_two_methods_under_one_name_are_refused(
    empty_registries,
):
    rooms_realtime.register()
    rooms_realtime.register()  # as a second ready() would

    with pytest.raises(ImproperlyConfigured, match="'sendMessage' is registered twice"):
        methods.register("sendMessage", lambda call, params: None)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_method_whose_app_did_not_register_is_not_found(empty_registries, alice):
    accounts_realtime.register()  # the rooms app's ready() left out
    token = issue_login_token(user=alice)

    async def scenario():
        async with DDPClient() as ddp:
            await ddp.login_resume(token)
            answer = await ddp.call("sendMessage", {"rid": "GENERAL", "msg": "hi"})
            assert answer["error"] == {
                "isClientSafe": True,
                "error": 404,
                "reason": "Method 'sendMessage' not found",
                "message": "Method 'sendMessage' not found [404]",
                "errorType": "Meteor.Error",
            }

    run(scenario())
