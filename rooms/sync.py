"""What a client syncs at start, REST and realtime alike: the user's subscriptions and rooms,
all of them, or (with a date) those changed since and those the user stopped being a member of.
Each dialect passes its own shapes; the reads are rooms.selectors'."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from accounts.models import User
from rooms.models import Room, Subscription
from rooms.selectors import removed_since, rooms_of, subscriptions_of

Shape = Callable[[datetime], Any]


def subscription_changes(
    user: User,
    since: datetime | None,
    *,
    shape: Callable[[Subscription, str], dict[str, Any]],
    date: Shape,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(update, remove): `user`'s subscriptions (changed after `since`, if given), and without
    `since` an empty `remove`, else Rocket.Chat's trash entries {_id, _deletedAt} of the
    subscriptions they lost since. Three queries at most, however many rooms."""
    update = [shape(sub, user.username) for sub in subscriptions_of(user, updated_since=since)]
    if since is None:
        return update, []
    remove = [
        {"_id": f"{room_id}{user.pk}", "_deletedAt": date(when)}
        for room_id, when in removed_since(user, since)
    ]
    return update, remove


def room_changes(
    user: User, since: datetime | None, *, shape: Callable[[Room], dict[str, Any]], date: Shape
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(update, remove) for rooms.get and rooms/get: `user`'s rooms (changed after `since`),
    and the rooms they stopped being a member of since, as {_id, _deletedAt}. Two queries."""
    update = [shape(room) for room in rooms_of(user, updated_since=since)]
    if since is None:
        return update, []
    remove = [
        {"_id": room_id, "_deletedAt": date(when)} for room_id, when in removed_since(user, since)
    ]
    return update, remove
