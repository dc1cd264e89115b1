"""Rocket.Chat-style random ids, as Meteor's Random.id() makes them."""

import secrets

# Meteor's UNMISTAKABLE_CHARS: no 0/O, 1/I/l, and so on.
ID_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTWXYZabcdefghijkmnopqrstuvwxyz"
ID_LENGTH = 17


def random_id() -> str:
    """17 characters drawn uniformly from the alphabet by a cryptographic source (~98 bits)."""
    return "".join(secrets.choice(ID_ALPHABET) for _ in range(ID_LENGTH))
