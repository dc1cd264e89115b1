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
