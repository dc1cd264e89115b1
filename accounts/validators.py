"""Rules for names that users and rooms share."""

import re

from django.conf import settings
from django.core.exceptions import ValidationError


def validate_name(value: str) -> None:
    """A username or room name: NAME_PATTERN (Rocket.Chat's UTF8_Names_Validation), at most 64
    characters. Read at call time, so changing the setting needs no migration."""
    if len(value) > settings.NAME_MAX_LENGTH:
        raise ValidationError(
            f"Must be at most {settings.NAME_MAX_LENGTH} characters.", code="max_length"
        )
    if not re.fullmatch(settings.NAME_PATTERN, value):
        raise ValidationError(
            f"May contain only characters matching {settings.NAME_PATTERN}.", code="invalid"
        )


class PasswordWithoutUsernameValidator:
    """AUTH_PASSWORD_VALIDATORS: refuses a password that holds the user's username, in any
    case ("Alice" in "xx-aLiCe-2024"), which Django's similarity check misses once the rest of
    the password is long. Usernames shorter than MIN_USERNAME are not looked for: "a" or "jo"
    inside a password tells a guesser nothing, and refusing them would refuse most passwords."""

    MIN_USERNAME = 3

    def validate(self, password: str, user: object = None) -> None:
        username = getattr(user, "username", "") or ""
        if len(username) >= self.MIN_USERNAME and username.lower() in password.lower():
            raise ValidationError(
                "The password cannot contain the username.", code="password_contains_username"
            )

    def get_help_text(self) -> str:
        return "Your password cannot contain your username."
