"""Rocket.Chat-style random ids, as Meteor's Random.id() makes them."""

import os

# Meteor's UNMISTAKABLE_CHARS: no 0/O, 1/I/l, and so on.
ID_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTWXYZabcdefghijkmnopqrstuvwxyz"
ID_LENGTH = 17


def random_string(alphabet: str, length: int) -> str:
    """`length` letters drawn uniformly from `alphabet` (at most 256 of them) with the operating
    system's cryptographic source, as secrets.choice would draw them but with one read of
    random bytes instead of one per letter. A byte at or beyond the largest multiple of the
    alphabet's size is thrown away, so that every letter is equally likely."""
    size = len(alphabet)
    limit = 256 - 256 % size
    letters: list[str] = []
    while len(letters) < length:
        for byte in os.urandom(length + 8):
            if byte < limit:
                letters.append(alphabet[byte % size])
                if len(letters) == length:
                    break
    return "".join(letters)


def random_id() -> str:
    """17 characters drawn uniformly from the alphabet by a cryptographic source (~98 bits)."""
    return random_string(ID_ALPHABET, ID_LENGTH)
