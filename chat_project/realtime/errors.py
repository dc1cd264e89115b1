"""Errors as Meteor sends them: {"isClientSafe", "error", "reason", "message", "errorType"}."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from chat_project.http.errors import ApiError


class MeteorError(Exception):
    def __init__(self, error: str | int, reason: str, details: dict[str, Any] | None = None):
        super().__init__(reason)
        self.error, self.reason, self.details = error, reason, details

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"isClientSafe": True, "error": self.error, "reason": self.reason}
        if self.details:
            body["details"] = self.details
        body["message"] = f"{self.reason} [{self.error}]"
        body["errorType"] = "Meteor.Error"
        return body


def own_words(exc: ApiError) -> tuple[str | int, str]:
    """Our errorType as Meteor's `error`, our message as its `reason`."""
    return exc.error_type, str(exc.message)


# The Meteor words (error, reason) for the shared services' errors, by type (a subclass not listed
# takes its nearest listed base's). Rocket.Chat's clients read `error`, which is our REST
# errorType, and every refusal's words are Rocket.Chat's already (tests/test_refusal_words.py
# pins each frame): an error whose words on the socket must differ gets an entry here.
METEOR_WORDS: dict[type[ApiError], Callable[[ApiError], tuple[str | int, str]]] = {
    ApiError: own_words,
}


def from_api_error(exc: ApiError, method: str | None = None) -> MeteorError:
    """A REST service's error in Meteor's words (METEOR_WORDS), with the method's name and, for
    a rate limit, when to try again."""
    details: dict[str, Any] = {"method": method} if method else {}
    if exc.retry_after is not None:
        details["timeToReset"] = exc.retry_after * 1000
    words = next(METEOR_WORDS[kind] for kind in type(exc).__mro__ if kind in METEOR_WORDS)
    error, reason = words(exc)
    return MeteorError(error, reason, details or None)


def not_logged_in(method: str) -> MeteorError:
    return MeteorError("error-invalid-user", "Invalid user", {"method": method})


def not_allowed(reason: str = "Not allowed", **details: Any) -> MeteorError:
    return MeteorError("error-not-allowed", reason, details or None)


def invalid_params(method: str, reason: str = "Invalid parameters") -> MeteorError:
    return MeteorError("error-invalid-params", reason, {"method": method})


def method_not_found(name: str) -> MeteorError:
    return MeteorError(404, f"Method '{name}' not found")


def subscription_not_found(name: str) -> MeteorError:
    return MeteorError(404, f"Subscription '{name}' not found")


def too_many_requests(time_to_reset_ms: int) -> MeteorError:
    """Meteor's DDPRateLimiter refusal (ddp-rate-limiter's default message), as Rocket.Chat's
    clients read it."""
    seconds = math.ceil(time_to_reset_ms / 1000)
    return MeteorError(
        "too-many-requests",
        "Error, too many requests. Please slow down. You must wait "
        f"{seconds} seconds before trying again.",
        {"timeToReset": time_to_reset_ms},
    )


INTERNAL = MeteorError(500, "Internal server error")
