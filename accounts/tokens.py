"""Login tokens: issue, verify, revoke.

A token is 43 characters of URL-safe base64 (256 random bits), shown to the client once. The
database keeps only its SHA-256 digest, which is enough to find it again: a secret this long
needs no salt or slow hash, and a digest lookup leaks nothing useful through timing.

Revocation happens on the models, whoever writes them: Django's own doors (the admin's forms
and delete actions, `manage.py changepassword`, a cascade) save and delete rows without our
services. So two receivers, connected in AccountsConfig.ready(), are the one place it happens:
a user saved with a new password, without one, or inactive loses their tokens
(end_logins_after_save), and every deleted token, however it went (one, a queryset, a cascade),
has its sockets closed on every process once the deletion commits (close_sockets_of_deleted).
Writes that skip Django's signals (a queryset's update(), raw SQL) are refused at once all the
same, as the tokens are checked against their user on each request and each realtime call; the
sockets still open then are found within REALTIME_LOGIN_RECHECK_SECONDS (live_logins, asked by
accounts.realtime for every signed-in socket of a process), as are those whose revocation was
published while Redis was away.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import LoginToken, User
from chat_project import access_cache
from chat_project.realtime.events import logins_ended

TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{43}$")
# last_used_at is a hint for administrators, not an audit log: refresh it at most this often, so
# that an authenticated request costs one read and almost never a write.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def token_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_login_token(*, user: User) -> str:
    """A new token for `user`, valid for LOGIN_TOKEN_TTL. Returns the secret; only its digest
    is stored."""
    secret = secrets.token_urlsafe(32)
    now = timezone.now()
    LoginToken.objects.create(
        user=user,
        digest=token_digest(secret),
        created_at=now,
        expires_at=now + settings.LOGIN_TOKEN_TTL,
    )
    return secret


def issued_token(secret: str) -> LoginToken:
    """The token just issued with this secret (log_in's), its user loaded: one query."""
    return LoginToken.objects.select_related("user").get(digest=token_digest(secret))


def verify_login_token(secret: str, *, user_id: str | None = None) -> LoginToken | None:
    """The live token with this secret, its user loaded, or None.

    None when the secret is malformed, unknown, expired or revoked, when its user is inactive,
    or when `user_id` is given and is not the token's user. One indexed query.
    """
    if not TOKEN_SHAPE.match(secret):
        return None
    digest = token_digest(secret)
    now = timezone.now()
    token = live_token(digest, now)
    if token is None:
        return None
    if not token.user.is_active:
        return None
    if not hmac.compare_digest(token.digest, digest):
        return None
    if user_id is not None and not hmac.compare_digest(token.user_id.encode(), user_id.encode()):
        return None
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        LoginToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
        keep_token(token)
    return token


def live_token(digest: str, now: datetime) -> LoginToken | None:
    """The unexpired token with this digest, its user loaded: from the access cache, or one
    query (whose answer is then kept)."""
    kept = access_cache.get(("token", digest))
    if kept is not None:
        token = access_cache.rebuild(LoginToken, kept[0])
        token.user = access_cache.rebuild(User, kept[1])
        return token if token.expires_at > now else None
    read_under = access_cache.generation()
    try:
        token = LoginToken.objects.select_related("user").get(digest=digest, expires_at__gt=now)
    except LoginToken.DoesNotExist:
        return None
    keep_token(token, read_under)
    return token


def keep_token(token: LoginToken, read_under: str | None = None) -> None:
    """Keeps the token and its user; without `read_under`, only over an entry that still counts
    (a refreshed last_used_at)."""
    if read_under is None:
        if access_cache.get(("token", token.digest)) is None:
            return
        read_under = access_cache.generation()
    snapshot = (access_cache.snapshot(token), access_cache.snapshot(token.user))
    access_cache.remember(("token", token.digest), snapshot, read_under)


def user_of_live_login(token_id: int) -> User | None:
    """The active user of this unexpired token, or None (a websocket's login, checked on each
    call it makes: one indexed query)."""
    token = (
        LoginToken.objects.select_related("user")
        .filter(pk=token_id, expires_at__gt=timezone.now(), user__is_active=True)
        .first()
    )
    return None if token is None else token.user


def live_logins(token_ids: list[int]) -> set[int]:
    """Which of these tokens are unexpired and belong to active users (the realtime recheck of
    every signed-in socket of a process: one query per thousand)."""
    now, live = timezone.now(), set[int]()
    for start in range(0, len(token_ids), 1000):
        live.update(
            LoginToken.objects.filter(
                pk__in=token_ids[start : start + 1000], expires_at__gt=now, user__is_active=True
            ).values_list("pk", flat=True)
        )
    return live


def revoke_login_token(*, token_id: int, origin: str | None = None) -> None:
    """Ends this one login and its websockets, but for `origin`, the connection that logged
    itself out (it stays up, signed out); the user's other tokens keep working."""
    # Deleted by its id, without reading it first: the deletion hands this very instance, and
    # the socket it spares, to close_sockets_of_deleted.
    token = LoginToken(pk=token_id)
    token.ended_by = origin
    token.delete()


def end_logins_after_save(
    sender: type[User], instance: User, created: bool, update_fields: Any, **kwargs: Any
) -> None:
    """User's post_save: a saved new password (or none any more) ends the user's logins, but
    the one set_password was told to keep; a user saved inactive loses every token, so that
    reactivating revives none. The deletion closes their sockets (close_sockets_of_deleted)."""
    ends, kept = instance.logins_ended_by_save(
        None if update_fields is None else frozenset(update_fields)
    )
    if created or not ends:
        return
    tokens = LoginToken.objects.filter(user=instance)
    if kept is not None:
        tokens = tokens.exclude(pk=kept)
    tokens.delete()


class EndedLogins:
    """The logins one deletion ends. Django sends a post_delete for each row it deletes, all
    from one transaction (the deletion's `origin`): they are told to the sockets in one event,
    once it commits."""

    def __init__(self, origin: Any, ended_by: str | None) -> None:
        self.origin, self.ended_by = origin, ended_by
        self.token_ids: list[int] = []
        self.told = False

    def tell(self) -> None:
        if not self.told:
            self.told = True
            logins_ended(token_ids=self.token_ids, origin=self.ended_by)
        if _deleting.batch is self:
            _deleting.batch = None


class _Deleting(threading.local):
    batch: EndedLogins | None = None


_deleting = _Deleting()


def close_sockets_of_deleted(
    sender: type[LoginToken], instance: LoginToken, using: str, origin: Any = None, **kwargs: Any
) -> None:
    """LoginToken's post_delete: once the deletion commits, the token's websockets are closed
    (4001) on every process, but for the one that logged itself out (`ended_by`). An expired
    token ends nothing: its sockets closed as it expired (the realtime heartbeat)."""
    if instance.expires_at is not None and instance.expires_at <= timezone.now():
        return
    batch = _deleting.batch
    if batch is None or batch.told or origin is None or batch.origin is not origin:
        batch = _deleting.batch = EndedLogins(origin, instance.ended_by)
    batch.token_ids.append(instance.pk)
    # One callback per row, each telling the batch at most once: a rolled-back savepoint drops
    # its own rows' callbacks and no other's.
    transaction.on_commit(batch.tell, using=using, robust=True)


def purge_expired_login_tokens(*, user: User | None = None) -> int:
    """Deletes expired tokens (of one user, or of everyone). Returns how many."""
    expired = LoginToken.objects.filter(expires_at__lte=timezone.now())
    if user is not None:
        expired = expired.filter(user=user)
    deleted, _ = expired.delete()
    return deleted
