"""Credentials kept out of the access log.

The API takes tokens and passwords only in headers and bodies, never in a query string, but a
client may still put one there (`?authToken=…`, Rocket.Chat's `?rc_token=…` for files, a
password in a GET login): the servers' request lines (uvicorn's access log and websocket lines,
Django's development server) would then keep it in plain text, for anyone who reads the logs.
`RedactCredentials` replaces the value of every query parameter whose name says it carries one,
and the token of a password reset link's path (`/reset-password/<token>`, Rocket.Chat's shape):
whoever read it in the log within the hour could set the user's password.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import unquote_plus

# A parameter carries a credential when its name (any case, any separator) holds one of these.
CREDENTIAL_WORDS = ("token", "pass", "secret", "resume", "authorization", "apikey", "api_key")
REDACTED = "[redacted]"
# The loggers that write request lines: uvicorn's access log and its websocket lines
# ("WebSocket /path?query" [accepted]), gunicorn's own (`gunicorn chat_project.wsgi`) and
# `manage.py runserver`'s.
REQUEST_LOGGERS = ("uvicorn.access", "uvicorn.error", "gunicorn.access", "django.server")

_QUERY = re.compile(r"\?(\S*)")
_RESET_PATH = re.compile(r"(/reset-password/)[^\s?\"]+")


def carries_credential(name: str) -> bool:
    plain = unquote_plus(name).lower().replace("-", "_")
    return any(word in plain for word in CREDENTIAL_WORDS)


def redact_query(query: str) -> str:
    """`query` (without its `?`) with each credential's value replaced by [redacted]."""
    parts = []
    for part in query.split("&"):
        name, equals, _ = part.partition("=")
        parts.append(f"{name}={REDACTED}" if equals and carries_credential(name) else part)
    return "&".join(parts)


def redact(text: str) -> str:
    """Every query string in `text` (a request line, a URL) with credentials redacted, and a
    password reset link's token."""
    if "/reset-password/" in text:
        text = _RESET_PATH.sub(lambda match: match.group(1) + REDACTED, text)
    if "?" not in text:
        return text
    return _QUERY.sub(lambda match: "?" + redact_query(match.group(1)), text)


class RedactCredentials(logging.Filter):
    """Rewrites a request line's arguments (or its message) before any handler formats it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, dict):  # gunicorn's atoms; "q" is the bare query string
            atoms = {k: redact(v) if isinstance(v, str) else v for k, v in record.args.items()}
            if isinstance(atoms.get("q"), str):
                atoms["q"] = redact_query(atoms["q"])
            record.args = atoms
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        return True


_FILTER = RedactCredentials()


def redact_request_logs() -> None:
    """Puts the filter on the loggers that write request lines (a filter on the logger itself
    holds whatever handlers the server gives it: gunicorn's, uvicorn's, Django's). Idempotent."""
    for name in REQUEST_LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
