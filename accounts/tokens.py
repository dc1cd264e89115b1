"""Login tokens: issue, verify, revoke.

A token is 43 characters of URL-safe base64 (256 random bits), shown to the client once. The
database keeps only its SHA-256 digest, which is enough to find it again: a secret this long
needs no salt or slow hash, and a digest lookup leaks nothing useful through timing.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import datetime, timedelta

from django.conf import settings
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


def revoke_login_token(*, token_id: int, origin: str | None = None) -> None:
    """Ends this one login and its websockets, but for `origin`, the connection that logged
    itself out (it stays up, signed out); the user's other tokens keep working."""
    LoginToken.objects.filter(pk=token_id).delete()
    logins_ended(token_ids=[token_id], origin=origin)


def purge_expired_login_tokens(*, user: User | None = None) -> int:
    """Deletes expired tokens (of one user, or of everyone). Returns how many."""
    expired = LoginToken.objects.filter(expires_at__lte=timezone.now())
    if user is not None:
        expired = expired.filter(user=user)
    deleted, _ = expired.delete()
    return deleted
