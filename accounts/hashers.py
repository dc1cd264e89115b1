"""Password hashing as Rocket.Chat does it, with Argon2id instead of bcrypt.

Rocket.Chat never hashes the password itself but its SHA-256 hex digest, and its websocket
clients send only that digest (`{"digest": ..., "algorithm": "sha-256"}`). Hashing the digest
lets a plain-password login and a digest login verify against the same stored hash.
"""

import hashlib

from django.contrib.auth.hashers import Argon2PasswordHasher


def password_digest(password: str) -> str:
    """What a Rocket.Chat client sends in place of the password: sha256(password) in hex."""
    return hashlib.sha256(password.encode()).hexdigest()


class RocketChatArgon2PasswordHasher(Argon2PasswordHasher):
    """Argon2id over password_digest(password), with OWASP's recommended parameters.

    OWASP's 19 MiB, 2 passes, 1 lane cost about a tenth of Django's defaults (100 MiB, 8 lanes)
    on a small server, so logins stay quick under load while guessing stays expensive. Hashes
    made with other parameters still verify and are redone on the next login.
    """

    algorithm = "rc_argon2"
    time_cost = 2
    memory_cost = 19 * 1024  # KiB
    parallelism = 1

    def encode(self, password: str, salt: str) -> str:
        return super().encode(password_digest(password), salt)

    def verify(self, password: str, encoded: str) -> bool:
        return super().verify(password_digest(password), encoded)

    def verify_digest(self, digest: str, encoded: str) -> bool:
        """Checks what a websocket client sends, the password's SHA-256 hex digest."""
        return super().verify(digest.lower(), encoded)


def check_password_digest(digest: str, encoded: str) -> bool:
    """Whether `digest` (sha256(password) in hex) matches the stored hash `encoded`. Only our
    own scheme hashes the digest; a hash of another kind (an older one, from before) cannot be
    checked this way, and is upgraded by the next login with the plain password."""
    from django.contrib.auth.hashers import identify_hasher

    try:
        hasher = identify_hasher(encoded)
    except ValueError:
        return False
    if not isinstance(hasher, RocketChatArgon2PasswordHasher):
        return False
    return hasher.verify_digest(digest, encoded)
