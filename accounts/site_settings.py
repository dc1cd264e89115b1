"""Rocket.Chat's settings that this server has: what each is (the catalogue), and their values as
the administrator set them, read from a snapshot every process keeps.

Every send reads Message_MaxAllowedSize, so a value is read from the process's snapshot, not
from the database: the snapshot is the whole table (a few dozen rows, one query) and counts
while the generation "settings" (chat_project.access_cache.generation_of) is the one it was read
under and for at most KEEP_SECONDS. change_setting (accounts.services: the REST API and the
admin) replaces that generation once its write commits, on every process through Redis, so the
next request anywhere reads the new value. KEEP_SECONDS bounds what a write behind Django's back
(psql) or a replacement lost while Redis was away can hide.

A setting without a row, or with a null value, has its default (packageValue): the catalogue's,
which for the settings our environment decides is that environment setting (MESSAGE_MAX_LENGTH
for Message_MaxAllowedSize), so the environment rules until an administrator sets a value.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from accounts.models import Setting
from chat_project import access_cache

GENERATION = "settings"
KEEP_SECONDS = 60.0

T = Setting.Type


@dataclass(frozen=True)
class Entry:
    """One setting of the catalogue: Rocket.Chat's id, type, group and label. `default` is
    called for packageValue; `choices` are a select's values; an `editable=False` one describes
    what this server does and cannot be changed (a client reads it to know)."""

    id: str
    type: str
    default: Callable[[], Any]
    group: str
    section: str = ""
    public: bool = True
    editable: bool = True
    choices: tuple[str, ...] = ()
    minimum: int | None = None

    @property
    def i18n_label(self) -> str:
        return self.id


def _constant(value: Any) -> Callable[[], Any]:
    return lambda: value


def _registration_form() -> str:
    return "Public" if settings.REGISTRATION_ENABLED else "Disabled"


# Rocket.Chat's ids, types and defaults (apps/meteor/server/settings/*.ts), those our
# environment decides defaulting to it.
CATALOGUE: tuple[Entry, ...] = (
    Entry("Site_Name", T.STRING, _constant("Rocket.Chat"), "General"),
    Entry("Site_Url", T.STRING, lambda: settings.SITE_URL, "General"),
    Entry("Language", T.LANGUAGE, _constant(""), "General"),
    Entry(
        "UTF8_Names_Validation",
        T.STRING,
        lambda: settings.NAME_PATTERN,
        "General",
        "UTF8",
        editable=False,
    ),
    Entry(
        "Accounts_RegistrationForm",
        T.SELECT,
        _registration_form,
        "Accounts",
        "Registration",
        choices=("Public", "Disabled", "Secret URL"),
    ),
    Entry("Accounts_ShowFormLogin", T.BOOLEAN, _constant(True), "Accounts"),
    Entry("Accounts_AllowUserNameChange", T.BOOLEAN, _constant(True), "Accounts", editable=False),
    Entry("Accounts_AllowEmailChange", T.BOOLEAN, _constant(True), "Accounts", editable=False),
    Entry("Accounts_AllowPasswordChange", T.BOOLEAN, _constant(True), "Accounts", editable=False),
    Entry(
        "Message_MaxAllowedSize", T.INT, lambda: settings.MESSAGE_MAX_LENGTH, "Message", minimum=1
    ),
    Entry("Message_AllowEditing", T.BOOLEAN, lambda: settings.MESSAGE_ALLOW_EDITING, "Message"),
    # 0: no time limit, which is what this server does (it keeps no limit yet).
    Entry(
        "Message_AllowEditing_BlockEditInMinutes", T.INT, _constant(0), "Message", editable=False
    ),
    Entry("Message_AllowDeleting", T.BOOLEAN, lambda: settings.MESSAGE_ALLOW_DELETING, "Message"),
    Entry(
        "Message_AllowDeleting_BlockDeleteInMinutes", T.INT, _constant(0), "Message", editable=False
    ),
    Entry("Message_ShowEditedStatus", T.BOOLEAN, _constant(True), "Message"),
    # Direct messages (rooms.direct): who may be in one, and whether one may talk to oneself.
    Entry("DirectMesssage_maxUsers", T.INT, _constant(8), "Message", minimum=1),
    Entry("Message_AllowDirectMessagesToYourself", T.BOOLEAN, _constant(True), "Message"),
    Entry("UI_Use_Real_Name", T.BOOLEAN, _constant(False), "Layout", "User_Interface"),
    Entry("FileUpload_Enabled", T.BOOLEAN, _constant(False), "FileUpload", editable=False),
    Entry(
        "API_Enable_Rate_Limiter",
        T.BOOLEAN,
        lambda: settings.RATELIMIT_ENABLE,
        "Rate Limiter",
        public=False,
        editable=False,
    ),
    # dm.messages.others (an administrator reading others' conversations): off unless enabled.
    Entry(
        "API_Enable_Direct_Message_History_EndPoint",
        T.BOOLEAN,
        _constant(False),
        "General",
        "REST API",
        public=False,
    ),
)
BY_ID: dict[str, Entry] = {entry.id: entry for entry in CATALOGUE}

_lock = threading.Lock()
# (the generation it was read under, when it stops counting, {id: the administrator's value})
_snapshot: tuple[str, float, dict[str, Any]] | None = None


def stored_values() -> dict[str, Any]:
    """The administrator's values ({id: value}, set ones only), from the snapshot when it still
    counts, else in one query."""
    global _snapshot
    current = access_cache.generation_of(GENERATION)
    kept = _snapshot
    if (
        current is not None
        and kept is not None
        and kept[0] == current
        and kept[1] > time.monotonic()
    ):
        return kept[2]
    values = dict(
        Setting.objects.filter(value__isnull=False, id__in=BY_ID).values_list("id", "value")
    )
    if current is not None:
        with _lock:
            _snapshot = (current, time.monotonic() + KEEP_SECONDS, values)
    return values


def forget_snapshot() -> None:
    """Everywhere, the next read asks the database (after a committed change)."""
    global _snapshot
    _snapshot = None
    access_cache.replace_generation_of(GENERATION)


def value_of(setting_id: str) -> Any:
    """The setting's value now: the administrator's, else its default."""
    stored = stored_values()
    if setting_id in stored:
        return stored[setting_id]
    return BY_ID[setting_id].default()


def all_values() -> list[dict[str, Any]]:
    """Every setting of the catalogue as {_id, value, ...what it is}, ordered by id."""
    stored = stored_values()
    return [
        {"entry": entry, "value": stored[entry.id] if entry.id in stored else entry.default()}
        for entry in sorted(CATALOGUE, key=lambda e: e.id)
    ]


def public_settings() -> list[dict[str, Any]]:
    """[{_id, value}] of the public settings, ordered by id: what anyone may read."""
    return [
        {"_id": item["entry"].id, "value": item["value"]}
        for item in all_values()
        if item["entry"].public
    ]


def updated_times() -> dict[str, Any]:
    """{id: _updatedAt} of the settings with a row (one query): for the privileged list."""
    return dict(Setting.objects.values_list("id", "updated_at"))


# --- what the rest of the server reads ------------------------------------------------------


def message_max_length() -> int:
    return int(value_of("Message_MaxAllowedSize"))


def message_editing_allowed() -> bool:
    return bool(value_of("Message_AllowEditing"))


def message_deleting_allowed() -> bool:
    return bool(value_of("Message_AllowDeleting"))


def direct_message_max_users() -> int:
    return int(value_of("DirectMesssage_maxUsers"))


def direct_messages_to_oneself() -> bool:
    return bool(value_of("Message_AllowDirectMessagesToYourself"))


def direct_message_history_endpoint() -> bool:
    return bool(value_of("API_Enable_Direct_Message_History_EndPoint"))


def registration_open() -> bool:
    """Accounts_RegistrationForm "Public": anyone may sign up (users.register)."""
    return value_of("Accounts_RegistrationForm") == "Public"
