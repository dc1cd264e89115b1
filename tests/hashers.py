"""The production hasher's scheme with Argon2's cheapest parameters, so tests stay fast."""

from accounts.hashers import RocketChatArgon2PasswordHasher


class FastRocketChatArgon2PasswordHasher(RocketChatArgon2PasswordHasher):
    time_cost = 1
    memory_cost = 8
    parallelism = 1
